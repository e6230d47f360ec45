"""Files every builder writes beside its shards: manifest JSON, report CSVs and charts,
written atomically (temp name, then rename) so an interrupted build leaves no half file."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from importlib import metadata
from pathlib import Path

from medbench import __version__

RECORDED_PACKAGES = (
    "numpy",
    "scipy",
    "nibabel",
    "SimpleITK",
    "pydicom",
    "pillow",
    "pyarrow",
    "datasets",
    "huggingface_hub",
    "pydantic",
    "isal",
)


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str]:
    """medbench's version and those of ``names`` as installed (for manifests)."""
    versions = {"medbench": __version__}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(tmp, path)


def bar_chart(path: Path, counts: Counter, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * len(items) + 1)))
    ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="#3b6ea8")
    ax.set_xlabel("image–box pairs")
    ax.set_title(title)
    fig.tight_layout()
    # no timestamp in the PNG metadata, so rebuilds are byte-identical
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
