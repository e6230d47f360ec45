"""Push a checked build folder to the Hub (or, for --dry-run, copy what would be pushed)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from medbench import __version__
from medbench.publish.checks import (
    ALLOW_PATTERNS,
    IGNORE_PATTERNS,
    FileEntry,
    PublishError,
    licence_gate,
    validate_folder,
)

DEFAULT_COMMIT_MESSAGE = "Upload VGMED with medbench"


@dataclass
class PublishResult:
    repo_id: str
    private: bool
    revision: str | None
    files: list[FileEntry]
    restricted: list[str] = field(default_factory=list)
    dry_run: bool = False
    dry_run_path: str | None = None
    repo_url: str | None = None
    commit_url: str | None = None
    commit_oid: str | None = None

    def as_dict(self) -> dict:
        return {
            "repo_id": self.repo_id,
            "repo_type": "dataset",
            "private": self.private,
            "revision": self.revision,
            "dry_run": self.dry_run,
            "dry_run_path": self.dry_run_path,
            "restricted_sources": self.restricted,
            "files": [f.as_dict() for f in self.files],
            "total_bytes": sum(f.size for f in self.files),
            "repo_url": self.repo_url,
            "commit_url": self.commit_url,
            "commit_oid": self.commit_oid,
        }


def hub_token() -> str:
    """The write token, from HF_TOKEN only (never a flag: flags end up in shell history)."""
    token = os.environ.get("HF_TOKEN", "").strip()
    if not token:
        raise PublishError(
            "HF_TOKEN is not set: export a Hub write token to upload (or use --dry-run)"
        )
    return token


def hub_endpoint() -> str | None:
    # Read at call time (huggingface_hub only reads it at import) so tests can redirect it.
    return os.environ.get("HF_ENDPOINT") or None


def copy_files(folder: Path, files: list[FileEntry], dest: Path) -> None:
    """Write exactly the files that would be uploaded into ``dest`` (must be new or empty)."""
    if dest.resolve().is_relative_to(folder.resolve()):
        raise PublishError(f"{dest}: dry-run folder must not be inside the build folder")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise PublishError(f"{dest}: exists and is not an empty directory")
    for entry in files:
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / entry.path, target)


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def _hub_error(exc: Exception, token: str) -> PublishError:
    """One line for any client failure; the token is masked even if a server echoed it."""
    from huggingface_hub.errors import HfHubHTTPError

    status = None
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    if status in (401, 403):
        msg = f"Hub refused the credentials in HF_TOKEN (HTTP {status}): {first}"
    elif status is not None:
        msg = f"Hub error (HTTP {status}): {first}"
    else:
        msg = f"upload failed ({type(exc).__name__}): {first}"
    return PublishError(_scrub(msg, token), exit_code=1)


def _upload(
    folder: Path,
    result: PublishResult,
    *,
    token: str,
    commit_message: str,
) -> None:
    from huggingface_hub import HfApi

    api = HfApi(
        endpoint=hub_endpoint(), token=token, library_name="medbench", library_version=__version__
    )
    repo_url = api.create_repo(
        result.repo_id, repo_type="dataset", private=result.private, exist_ok=True
    )
    result.repo_url = str(repo_url)
    if result.private and not api.dataset_info(result.repo_id).private:
        # create_repo(exist_ok=True) leaves an existing repo's visibility alone: never push
        # restricted data into a repo that turned out to be public.
        raise PublishError(
            f"{result.repo_id} already exists and is public; --private was asked for: "
            "make it private on the Hub or choose another --repo-id"
        )
    if result.revision and result.revision != "main":
        api.create_branch(
            result.repo_id, repo_type="dataset", branch=result.revision, exist_ok=True
        )
    # upload_folder compares each file with the remote (preupload oids), so a re-run after an
    # interruption only sends and commits what is missing or changed.
    commit = api.upload_folder(
        repo_id=result.repo_id,
        repo_type="dataset",
        folder_path=folder,
        allow_patterns=list(ALLOW_PATTERNS),
        ignore_patterns=list(IGNORE_PATTERNS),
        revision=result.revision,
        commit_message=commit_message,
    )
    result.commit_url = commit.commit_url
    result.commit_oid = commit.oid


def publish(
    folder: Path,
    repo_id: str,
    *,
    private: bool = False,
    dry_run: bool = False,
    dry_run_path: Path | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
) -> PublishResult:
    """Validate, apply the licence gate, then upload (or dry-run). Raises PublishError."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PublishError(f"--repo-id must look like ORG/NAME, got {repo_id!r}")
    manifest, files = validate_folder(folder)
    restricted = licence_gate(manifest, private)
    result = PublishResult(
        repo_id=repo_id,
        private=private,
        revision=revision,
        files=files,
        restricted=[s["id"] for s in restricted],
        dry_run=dry_run or dry_run_path is not None,
    )
    if result.dry_run:
        if dry_run_path is not None:
            copy_files(folder, files, dry_run_path)
            result.dry_run_path = str(dry_run_path)
        return result
    token = hub_token()
    try:
        _upload(
            folder, result, token=token, commit_message=commit_message or DEFAULT_COMMIT_MESSAGE
        )
    except PublishError:
        raise
    except Exception as exc:  # HTTP, transport, LFS and xet failures all mean "not uploaded"
        raise _hub_error(exc, token) from None
    return result
