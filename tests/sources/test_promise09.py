"""PROMISE09 (parallel NRRD trees, layout UNVERIFIED), end to end: replica → build →
load_dataset. Case ids are the case folders; boxes sit on the planted T2 prostate; T1 is
never read; a case folder with several or no T2 images is listed and the build goes on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import assert_frames_blob, assert_keeps_size_mm, build_rows, write_replicas

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
    planted = write_replicas(root, [promise09])
    _add_broken_cases(root / "PROMISE09")
    rows, manifest = build_rows(root, tmp_path_factory.mktemp("promise09-out") / "out", [SPEC])
    return rows, manifest["skipped"], planted, root / "PROMISE09"


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
        assert_frames_blob(row, atol=1)
        assert_keeps_size_mm(row, plants[row["case_id"]].extent_mm)


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
