"""What a results file records about the software that produced it."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

_PACKAGES = (
    "medbench",
    "numpy",
    "pyarrow",
    "datasets",
    "pydantic",
    "jinja2",
    "openai",
    "matplotlib",
    "torch",
    "transformers",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def git_state(path: Path | None = None) -> dict[str, Any] | None:
    """Commit and dirtiness of the checkout holding the medbench source; None when it is not
    in a git checkout (an installed wheel) or git is unavailable."""
    where = path or Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}
