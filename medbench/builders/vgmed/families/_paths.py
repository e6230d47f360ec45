"""Path helpers shared by the family readers."""

from __future__ import annotations

from pathlib import Path

from medbench.builders.vgmed.case import Skip
from medbench.builders.vgmed.spec import is_junk

VOLUME_SUFFIXES = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd")


def strip_suffix(name: str, suffixes=VOLUME_SUFFIXES) -> str:
    for suffix in suffixes:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def rel(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix()


def glob_files(base: Path, pattern: str, dataset: str) -> tuple[list[Path], list[Skip]]:
    """Files matching ``pattern`` under ``base``, sorted, minus junk (which is listed)."""
    found, skipped = [], []
    for path in sorted(base.glob(pattern)):
        if not path.is_file():
            continue
        why = is_junk(path)
        if why:
            skipped.append(Skip(dataset, "", rel(path, base), why))
        else:
            found.append(path)
    return found, skipped


def unused_neighbours(
    base: Path, used: list[Path], dataset: str, only_in: set[Path] | None = None
) -> list[Skip]:
    """Other files in the folders a glob matched in (or in ``only_in``): listed so nothing
    vanishes silently."""
    used_set = set(used)
    skipped = []
    for folder in sorted(only_in if only_in is not None else {p.parent for p in used}):
        for path in sorted(folder.iterdir()):
            if path.is_file() and path not in used_set and not is_junk(path):
                skipped.append(
                    Skip(dataset, "", rel(path, base), "not an image of this dataset (ignored)")
                )
    return skipped


def first_existing(case_dir: Path, patterns: list[str]) -> Path | None:
    """First file matching any of ``patterns`` (globs allowed), in pattern order."""
    for pattern in patterns:
        matches = sorted(p for p in case_dir.glob(pattern) if p.is_file() and not is_junk(p))
        if matches:
            return matches[0]
    return None
