"""Where a benchmark's files sit under ``--source-root``.

Users extract archives in slightly different places, so each reader names the paths its
benchmark ships (``relpaths``) and the folder names it may have been put in (``folders``);
the first match wins, looking in this order: ``<root>/<folder>/<relpath>`` for each folder,
``<root>/<relpath>``, then one level further down in each of those places. Nothing is
walked recursively, so a root holding 100k images is searched in a few directory listings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def search_bases(root: Path, folders: Sequence[str]) -> list[Path]:
    bases = [root / f for f in folders if (root / f).is_dir()]
    return [*bases, root]


def find_path(
    root: Path, folders: Sequence[str], relpaths: Sequence[str], want_dir: bool = False
) -> Path | None:
    """The first ``base/relpath`` (or ``base/<child>/relpath``) that exists with the right kind."""

    def ok(p: Path) -> bool:
        return p.is_dir() if want_dir else p.is_file()

    bases = search_bases(root, folders)
    for base in bases:
        for rel in relpaths:
            if ok(base / rel):
                return base / rel
    for base in bases:
        children = sorted(
            (c for c in base.iterdir() if c.is_dir() and not c.name.startswith(".")),
            key=lambda c: c.name,
        )
        for child in children:
            for rel in relpaths:
                if ok(child / rel):
                    return child / rel
    return None


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX), or the full path when it is outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
