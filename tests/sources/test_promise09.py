"""PROMISE09 (parallel NRRD trees, layout UNVERIFIED), end to end: replica → build →
load_dataset. Case ids are the case folders; boxes sit on the planted T2 prostate; T1 is
never read; a case folder with several or no T2 images is listed and the build goes on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset
from helpers import foreground_box

from medbench.builders.vgmed.build import BuildConfig, build_vgmed
from medbench.builders.vgmed.sources import SOURCES
from medbench.demo import promise09

SPEC = SOURCES["PROMISE09"]


def _add_broken_cases(dataset_dir: Path) -> None:
    """Case folder 7: a label and two T2 candidates; case folder 9: a label (and a T1) but
    no T2 image. Both copy case 3's valid files."""
    t2, label = dataset_dir / promise09.CASES[0].image, dataset_dir / promise09.CASES[0].label
    (dataset_dir / "T2_segmented_images/7").mkdir(parents=True)
    shutil.copy(label, dataset_dir / "T2_segmented_images/7/000060.00001.004.nrrd")
    (dataset_dir / "T2_images/7").mkdir(parents=True)
    for name in ("000060.00001.002.nrrd", "000060.00002.002.nrrd"):
        shutil.copy(t2, dataset_dir / "T2_images/7" / name)
    (dataset_dir / "T2_segmented_images/9").mkdir(parents=True)
    shutil.copy(label, dataset_dir / "T2_segmented_images/9/000061.00001.004.nrrd")
    (dataset_dir / "T1_images/9").mkdir(parents=True)
    shutil.copy(t2, dataset_dir / "T1_images/9/000061.00001.001.nrrd")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("promise09-src")
    planted = promise09.write(root / "PROMISE09")
    _add_broken_cases(root / "PROMISE09")
    out = tmp_path_factory.mktemp("promise09-out") / "out"
    build_vgmed(BuildConfig(source_root=root, out=out, datasets=["PROMISE09"]))
    rows = [r for r in load_dataset(str(out), split="test") if r["question_type"] == "localization"]
    skipped = json.loads((out / "manifest.json").read_text())["skipped"]
    return rows, skipped, planted, root / "PROMISE09"


def test_case_ids_are_the_case_folders(built):
    rows, _, _, _ = built
    assert sorted(r["case_id"] for r in rows) == ["11", "3"]  # one prostate box each
    assert {(r["label"], r["source_label"], r["modality"]) for r in rows} == {
        ("prostate", "1", "MR")
    }


def test_boxes_are_drawn_on_t2_over_the_planted_prostate(built):
    rows, _, planted, _ = built
    plants = {p.case_key: p for p in planted}
    for row in rows:
        # T2 of the same case folder, never T1 (.001) nor the label (.004)
        assert row["source_path"].startswith(f"T2_images/{row['case_id']}/")
        assert row["source_path"].endswith(".002.nrrd")
        grey = np.asarray(row["image"].convert("L"))
        assert np.allclose(foreground_box(grey, row["bbox"], tolerance=6), row["bbox"], atol=1)
        x1, y1, x2, y2 = row["bbox"]
        pixel_mm = min(row["spacing_mm"][1:])
        want = plants[row["case_id"]].extent_mm
        assert (x2 - x1) * pixel_mm == pytest.approx(want[0], abs=2.5 * pixel_mm)
        assert (y2 - y1) * pixel_mm == pytest.approx(want[1], abs=2.5 * pixel_mm)


def test_ambiguous_and_missing_t2_are_listed(built):
    _, skipped, _, _ = built
    mine = {s["case_id"]: s for s in skipped if s["dataset"] == "PROMISE09"}
    assert set(mine) == {"7", "9"}
    assert mine["7"]["item"] == "T2_segmented_images/7/000060.00001.004.nrrd"
    assert "2 image files match T2_images/7/*.002.nrrd" in mine["7"]["reason"]
    assert "T2_images/7/000060.00002.002.nrrd" in mine["7"]["reason"]
    assert mine["9"]["item"] == "T2_segmented_images/9/000061.00001.004.nrrd"
    assert mine["9"]["reason"] == "no image file matches T2_images/9/*.002.nrrd"


def test_discovery_pairs_by_folder(built):
    _, _, _, dataset_dir = built
    cases, _ = SPEC.discover(dataset_dir)
    assert {c.case_id: dict(c.files) for c in cases} == {
        "3": {
            "image": "T2_images/3/000031.00002.002.nrrd",
            "label": "T2_segmented_images/3/000031.00002.004.nrrd",
        },
        "11": {
            "image": "T2_images/11/000047.00005.002.nrrd",
            "label": "T2_segmented_images/11/000047.00005.004.nrrd",
        },
    }


def test_a_second_label_in_one_case_folder_is_listed(built, tmp_path):
    _, _, _, dataset_dir = built
    copy = tmp_path / "PROMISE09"
    shutil.copytree(dataset_dir, copy)
    extra = copy / "T2_segmented_images/3/000031.00009.004.nrrd"
    shutil.copy(copy / promise09.CASES[0].label, extra)
    cases, skipped = SPEC.discover(copy)
    assert sorted(c.case_id for c in cases) == ["11", "3"]
    (note,) = [s for s in skipped if s.item == "T2_segmented_images/3/000031.00009.004.nrrd"]
    assert note.case_id == "3" and "already has label" in note.reason
