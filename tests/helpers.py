"""Checks shared by the end-to-end and per-source tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset, load_dataset

from medbench.builders.vgmed import sources
from medbench.builders.vgmed.build import BuildConfig, build_vgmed
from medbench.builders.vgmed.spec import SourceSpec
from medbench.demo.truth import PlantedStructure


def foreground_box(grey: np.ndarray, box, tolerance: int, margin: int = 2):
    """Box of the pixels that differ from the background ring around ``box``, read from the
    PNG alone: the planted blobs are uniform and sit on a uniform background."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    ex1, ey1 = max(x1 - margin, 0), max(y1 - margin, 0)
    ex2, ey2 = min(x2 + margin, grey.shape[1]), min(y2 + margin, grey.shape[0])
    window = grey[ey1:ey2, ex1:ex2].astype(np.float32)
    ring = np.ones(window.shape, bool)
    ring[y1 - ey1 : y2 - ey1, x1 - ex1 : x2 - ex1] = False
    background = float(np.median(window[ring])) if ring.any() else 0.0
    foreground = np.abs(window - background) > tolerance
    rows_any, cols_any = np.flatnonzero(foreground.any(1)), np.flatnonzero(foreground.any(0))
    return (ex1 + cols_any[0], ey1 + rows_any[0], ex1 + cols_any[-1] + 1, ey1 + rows_any[-1] + 1)


# -- building ------------------------------------------------------------------------------


def build_dataset(root: Path, out: Path, specs: list[SourceSpec], **config) -> tuple[Dataset, dict]:
    """Build ``specs`` from ``root`` into ``out``, each registered in ``sources.SOURCES`` for
    the duration (``config``: further ``BuildConfig`` fields); return every test row and
    the manifest."""
    with pytest.MonkeyPatch.context() as mp:
        for spec in specs:
            mp.setitem(sources.SOURCES, spec.id, spec)
        build_vgmed(
            BuildConfig(source_root=root, out=out, datasets=[s.id for s in specs], **config)
        )
    # a fresh read: the datasets cache can serve an older build of the same folder name
    rows = load_dataset(str(out), split="test", download_mode="force_redownload")
    manifest = json.loads((out / "manifest.json").read_text())
    return rows, manifest


def build_rows(root: Path, out: Path, specs: list[SourceSpec], **config) -> tuple[list[dict], dict]:
    """``build_dataset``, keeping the localization rows only."""
    rows, manifest = build_dataset(root, out, specs, **config)
    return [row for row in rows if row["question_type"] == "localization"], manifest


def write_replicas(root: Path, modules: Iterable) -> list[PlantedStructure]:
    """Write each replica module under ``root / module.DATASET`` (seed 0); return what they
    planted."""
    planted = []
    for module in modules:
        planted += module.write(root / module.DATASET, seed=0)
    return planted


def swap_labels(spec: SourceSpec, a: str, b: str) -> SourceSpec:
    """``spec`` with the names of raw ids ``a`` and ``b`` swapped: a wrong id map."""
    labels = dict(spec.labels)
    labels[a], labels[b] = labels[b], labels[a]
    return spec.model_copy(update={"labels": labels})


# -- the planted truth ---------------------------------------------------------------------


def find_plant(planted, dataset: str, case_id: str, label: str) -> PlantedStructure | None:
    for p in planted:
        if (p.dataset, p.case_key, p.label) == (dataset, case_id, label):
            return p
    return None


def on_image_left(row) -> bool:
    """Is the box's centre on the image's left half?"""
    x1, _, x2, _ = row["bbox"]
    return (x1 + x2) / 2 < row["image_width"] / 2


def box_size(row) -> tuple[float, float]:
    """(width, height) of the row's box: mm for volumes (each side times the finer in-plane
    spacing), pixels for 2D images."""
    x1, y1, x2, y2 = row["bbox"]
    if row["source_size"][0] <= 1:  # 2D source: one slice
        return x2 - x1, y2 - y1
    _, dy, dx = row["spacing_mm"]
    pixel_mm = min(dy, dx)
    return (x2 - x1) * pixel_mm, (y2 - y1) * pixel_mm


def size_problem(row, plant: PlantedStructure) -> str | None:
    """Why the row's box does not keep the plant's extent (2.5 pixels of slack in mm, 1 px in
    2D), or None."""
    width, height = box_size(row)
    if plant.extent_mm is not None:
        _, dy, dx = row["spacing_mm"]
        want, slack = plant.extent_mm, 2.5 * min(dy, dx)
    else:
        want, slack = plant.extent_px, 1.0
    if abs(width - want[0]) > slack or abs(height - want[1]) > slack:
        return f"box {width:.1f} x {height:.1f} != planted {want[0]} x {want[1]}"
    return None


def plant_problems(
    rows,
    planted,
    raw_id: Callable[[dict], object],
    *,
    sizes: bool = False,
    datasets: set[str] | None = None,
) -> list[str]:
    """Rows whose name, raw id (``raw_id(row)``; None: not checked), side or (with ``sizes``)
    box size disagrees with the plant, and the plants of ``datasets`` (default: those with
    a row) never produced."""
    problems = []
    for row in rows:
        key = (row["dataset"], row["case_id"], row["label"])
        plant = find_plant(planted, *key)
        if plant is None:
            problems.append(f"no such planted structure: {key}")
            continue
        raw = raw_id(row)
        if raw is not None and row["source_label"] != str(raw):
            problems.append(f"{key}: source_label {row['source_label']} != planted id {raw}")
        # radiological view: the patient's right is on the image's LEFT
        if plant.side is not None and on_image_left(row) != (plant.side == "right"):
            problems.append(f"{key}: patient-{plant.side} structure on the wrong image half")
        size = size_problem(row, plant) if sizes else None
        if size:
            problems.append(f"{key}: {size}")
    produced = {(r["dataset"], r["case_id"], r["label"]) for r in rows}
    if datasets is None:
        datasets = {r["dataset"] for r in rows}
    for p in planted:
        if p.dataset in datasets and (p.dataset, p.case_key, p.label) not in produced:
            problems.append(f"planted but not produced: {p}")
    return problems


# -- the PNG -------------------------------------------------------------------------------


def assert_frames_blob(row, tolerance: int = 6, atol: float | None = None) -> None:
    """The row's box frames its blob in the stored PNG, to ``atol`` pixels (default: 1, or
    2 where the slice was resampled)."""
    grey = np.asarray(row["image"].convert("L"))
    found = foreground_box(grey, row["bbox"], tolerance=tolerance)
    if atol is None:
        atol = 2 if row["image_width"] != row["source_size"][2] else 1
    where = (row["dataset"], row["case_id"], row["label"], found, row["bbox"])
    assert np.allclose(found, row["bbox"], atol=atol), where


def assert_keeps_size_mm(row, extent_mm: tuple[float, float]) -> None:
    """The row's box keeps ``extent_mm`` in mm, to 2.5 of the finer in-plane pixels."""
    x1, y1, x2, y2 = row["bbox"]
    pixel_mm = min(row["spacing_mm"][1:])
    width, height = (x2 - x1) * pixel_mm, (y2 - y1) * pixel_mm
    where = (row["dataset"], row["case_id"], row["label"])
    assert width == pytest.approx(extent_mm[0], abs=2.5 * pixel_mm), where
    assert height == pytest.approx(extent_mm[1], abs=2.5 * pixel_mm), where
