"""Per-case results cached under ``<out>/.work/cases``: a rerun redoes only missing cases.

Each case is two pickles: the images, then the metadata. The metadata file is written
last, by rename, so its presence means the case is complete; a build killed at any point
leaves at most a ``*.tmp-*`` file, which the next build removes.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from medbench import __version__
from medbench.builders.vgmed.case import CaseRef
from medbench.builders.vgmed.extract import CaseResult, ExtractConfig, stable_hash
from medbench.builders.vgmed.spec import SourceSpec

# Bump when what a cached case holds changes, so old caches are recomputed, not misread.
CACHE_FORMAT = 2


@dataclass(frozen=True)
class CaseTask:
    spec: SourceSpec
    dataset_dir: Path
    case: CaseRef
    config: ExtractConfig
    meta_path: Path

    @property
    def images_path(self) -> Path:
        return self.meta_path.with_name(self.meta_path.name.replace(".meta.pkl", ".images.pkl"))


def case_cache_key(
    spec: SourceSpec, dataset_dir: Path, case: CaseRef, config: ExtractConfig
) -> str:
    """Changes when the code version, spec, extraction config or any input file changes."""
    stats = []
    for _, path in case.files:
        try:
            st = (dataset_dir / path).stat()
            stats.append((path, st.st_size, st.st_mtime_ns))
        except OSError:
            stats.append((path, -1, -1))
    return stable_hash(
        CACHE_FORMAT,
        __version__,
        spec.model_dump_json(),
        config.model_dump_json(),
        case.case_id,
        case.extra,
        stats,
        length=24,
    )


def cache_dir(out: Path) -> Path:
    return out / ".work" / "cases"


def meta_path_for(out: Path, spec: SourceSpec, key: str) -> Path:
    return cache_dir(out) / spec.id / f"{key}.meta.pkl"


def _atomic_pickle(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_result(task: CaseTask, result: CaseResult) -> None:
    _atomic_pickle(result.images, task.images_path)
    meta = dataclasses.replace(result, images={})  # images live in their own file
    _atomic_pickle(meta, task.meta_path)


def load_meta(path: Path) -> CaseResult:
    with open(path, "rb") as fh:
        return pickle.load(fh)


def load_images(meta_path: Path) -> dict[str, bytes]:
    path = meta_path.with_name(meta_path.name.replace(".meta.pkl", ".images.pkl"))
    with open(path, "rb") as fh:
        return pickle.load(fh)


def remove_partials(out: Path) -> int:
    """Delete temp files a killed build left behind; returns how many."""
    removed = 0
    for path in (out / ".work").rglob("*.tmp-*") if (out / ".work").exists() else []:
        path.unlink(missing_ok=True)
        removed += 1
    return removed
