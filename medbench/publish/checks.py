"""What gets uploaded, and the checks that must pass before anything leaves the machine."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import DatasetCard
from huggingface_hub.utils import filter_repo_objects

# Only the dataset itself goes up; everything else in the build folder stays local.
ALLOW_PATTERNS = ["README.md", "data/**", "manifest.json", "report/**"]
# .work/ holds the build cache and (for --demo) source replicas; *.tmp* are half-written files.
IGNORE_PATTERNS = [".work/**", "**/.work/**", "*.tmp*", "**/*.tmp*"]

# Licence strings (exactly as in the source specs / manifest) whose terms forbid
# redistributing the data. Non-commercial licences such as CC-BY-NC-* are NOT here: they allow
# redistribution for non-commercial use. Credentialed sources are refused separately.
REDISTRIBUTION_FORBIDDEN: frozenset[str] = frozenset(
    {
        # Kaggle competition data may only be used under the competition rules, not re-shared.
        "other (Kaggle competition rules, non-commercial)",
    }
)

REQUIRED_CARD_KEYS = ("configs", "dataset_info", "license")


class PublishError(Exception):
    """A one-line, user-facing failure with the exit code the CLI should use."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class FileEntry:
    path: str  # POSIX path inside the repo
    size: int
    sha256: str

    def as_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def select_files(folder: Path) -> list[FileEntry]:
    """The files upload_folder will send, using the Hub client's own pattern matcher."""
    relpaths = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    )
    chosen = filter_repo_objects(
        relpaths, allow_patterns=ALLOW_PATTERNS, ignore_patterns=IGNORE_PATTERNS
    )
    return [
        FileEntry(rel, (folder / rel).stat().st_size, sha256_file(folder / rel)) for rel in chosen
    ]


def load_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    if not path.is_file():
        raise PublishError(f"{path}: missing (is this a `medbench build` output folder?)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishError(f"{path}: unreadable manifest ({exc})") from None


def validate_card(folder: Path) -> None:
    readme = folder / "README.md"
    if not readme.is_file():
        raise PublishError(f"{readme}: missing dataset card")
    try:
        data = DatasetCard.load(readme).data.to_dict()
    except Exception as exc:  # the card parser raises several types for bad YAML
        raise PublishError(f"{readme}: invalid dataset card ({exc})") from None
    missing = [key for key in REQUIRED_CARD_KEYS if not data.get(key)]
    if missing:
        raise PublishError(f"{readme}: card YAML header lacks {', '.join(missing)}")


def validate_shards(folder: Path, manifest: dict, files: list[FileEntry]) -> None:
    shards = manifest.get("shards") or []
    if not shards:
        raise PublishError(f"{folder / 'manifest.json'}: lists no shards")
    by_path = {f.path: f for f in files}
    root = folder.resolve()
    for shard in shards:
        rel = str(shard.get("path", ""))
        local = (folder / rel).resolve()
        if not local.is_relative_to(root) or rel not in by_path:
            raise PublishError(f"{folder / rel}: shard listed in manifest.json is missing")
        if by_path[rel].sha256 != shard.get("sha256"):
            raise PublishError(
                f"{folder / rel}: sha256 {by_path[rel].sha256} does not match manifest.json "
                f"({shard.get('sha256')}); the shard is corrupted or was changed after the build"
            )
    # A stray shard would be picked up by the card's `data/<split>-*` glob and loaded too.
    listed = {str(s.get("path")) for s in shards}
    stray = [f.path for f in files if f.path.startswith("data/") and f.path not in listed]
    if stray:
        raise PublishError(f"{folder / stray[0]}: data file not listed in manifest.json shards")


def validate_folder(folder: Path) -> tuple[dict, list[FileEntry]]:
    """Card + shard checks; returns the manifest and the files that would be uploaded."""
    if not folder.is_dir():
        raise PublishError(f"{folder}: not a directory")
    manifest = load_manifest(folder)
    validate_card(folder)
    files = select_files(folder)
    validate_shards(folder, manifest, files)
    return manifest, files


def restricted_sources(manifest: dict) -> list[dict]:
    """Sources with rows in the build whose terms forbid public redistribution."""
    return [
        s
        for s in manifest.get("sources", [])
        if s.get("pairs", 0) > 0
        and (
            s.get("credentialed")
            or not s.get("redistributable", True)
            or s.get("license") in REDISTRIBUTION_FORBIDDEN
        )
    ]


def licence_gate(manifest: dict, private: bool) -> list[dict]:
    """Refuse a public upload of restricted sources; returns them (allowed when private)."""
    restricted = restricted_sources(manifest)
    if restricted and not private:
        names = "; ".join(
            f"{s['id']} ({'credentialed access, ' if s.get('credentialed') else ''}"
            f"licence: {s.get('license')})"
            for s in restricted
        )
        raise PublishError(
            f"refusing a public upload: redistribution is not allowed for {names}; "
            "rebuild without them (-d ...) or publish with --private"
        )
    return restricted
