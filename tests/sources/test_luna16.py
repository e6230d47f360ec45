"""LUNA16 end to end: replica → build → load_dataset, checked against the planted truth.

Nodules are world-mm spheres from annotations.csv; the seg-lungs-LUNA16 masks are a second
label layer of the same case (3 left lung, 4 right lung, 5 trachea as the spec declares).
Checked: names, raw ids, sides (left lung on the image's right half), sizes, boxes against
a hand computation from the planted geometry and against the PNG, and the traps: a mask on
another grid and a missing mask (listed, nodules still read), a series without a CSV row
(lungs only), a row for a series not present, a wrong world frame, swapped 3/4 ids.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from helpers import (
    assert_frames_blob,
    build_rows,
    plant_problems,
    swap_labels,
    write_replicas,
)

from medbench.builders.vgmed.build import BuildError
from medbench.builders.vgmed.families.world_spheres import WorldSphereSource
from medbench.builders.vgmed.sources.final_batch import LUNA16
from medbench.builders.vgmed.vocabulary import is_canonical
from medbench.demo import luna16
from medbench.demo.truth import PlantedStructure

NODULE_OF = {n.uid: n for n in luna16.NODULES}
ORGAN_OF = {o.label: o for o in luna16.ORGANS}
WITH_MASK = [n.uid for n in luna16.NODULES if n.mask == "ok"] + [luna16.UNANNOTATED]
COARSE = next(n.uid for n in luna16.NODULES if n.mask == "coarse grid")
MISSING = next(n.uid for n in luna16.NODULES if n.mask == "missing")


@pytest.fixture(scope="module")
def replica_root(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("luna16-source")
    return root, write_replicas(root, [luna16])


@pytest.fixture(scope="module")
def built(replica_root, tmp_path_factory):
    root, _ = replica_root
    return build_rows(root, tmp_path_factory.mktemp("luna16-out") / "out", [LUNA16])


@pytest.fixture(scope="module")
def rows(built):
    return built[0]


def _skipped(manifest: dict) -> list[dict]:
    return [s for s in manifest["skipped"] if s["dataset"] == luna16.DATASET]


def _raw_id(row) -> str:
    if row["label"] == luna16.LABEL:  # the CSV line of the case's nodule
        return luna16.source_label(NODULE_OF[row["case_id"]])
    return str(luna16.LABEL_IDS[row["label"]])


def _problems(rows, planted) -> list[str]:
    """Rows whose name, raw id, side or size disagrees with the plant, and plants never made.
    (The in-plane pixels are square, ``luna16.SPACING_XYZ``: one pixel size serves both sides.)"""
    return plant_problems(rows, planted, _raw_id, sizes=True, datasets={luna16.DATASET})


def _hand_box(organ: luna16.Organ) -> tuple[list[float], int]:
    """The organ's box (x1, y1, x2, y2) on its largest axial section, and that slice's file
    index, from the planted geometry alone. The series have an identity direction, so file
    column i grows toward the patient's left (LPS +x) and row j toward posterior (LPS +y):
    in the radiological view (patient's right on the image's left, anterior on top) the
    display column is i and the display row is j."""
    nz, ny, nx = luna16.SHAPE_ZYX
    sx, sy, sz = luna16.SPACING_XYZ
    ox, oy, oz = luna16.ORIGIN_LPS
    (cx, cy, cz), (a, b, c) = organ.centre_lps, organ.semi_axes
    x = ox + sx * np.arange(nx)
    y = oy + sy * np.arange(ny)
    z = oz + sz * np.arange(nz)
    inside = (
        ((z[:, None, None] - cz) / c) ** 2
        + ((y[None, :, None] - cy) / b) ** 2
        + ((x[None, None, :] - cx) / a) ** 2
    ) <= 1
    k = int(inside.sum(axis=(1, 2)).argmax())
    rows_in, cols_in = np.flatnonzero(inside[k].any(1)), np.flatnonzero(inside[k].any(0))
    return [cols_in[0], rows_in[0], cols_in[-1] + 1, rows_in[-1] + 1], k


def _same_slice(row, file_k: int) -> bool:
    """Display slices run inferior → superior or back: the slice in either order."""
    return row["slice_index"] in (file_k, luna16.SHAPE_ZYX[0] - 1 - file_k)


# ---------------------------------------------------------------------------- the spec


def test_spec_declares_the_replica_ids_in_the_vocabulary():
    assert LUNA16.labels == {str(v): k for k, v in luna16.LABEL_IDS.items()}
    assert (LUNA16.label, LUNA16.body_part) == (luna16.LABEL, "thorax")
    assert all(is_canonical(name) for name in [LUNA16.label, *LUNA16.labels.values()])
    assert LUNA16.mask_paths[0] == luna16.MASK_DIR + "/{case_id}.mhd"
    assert "UNVERIFIED" in LUNA16.notes and "swap 3/4" in LUNA16.notes


def test_mask_paths_and_labels_go_together():
    fields = LUNA16.model_dump(exclude={"mask_paths", "labels"})
    with pytest.raises(ValueError, match="go together"):
        WorldSphereSource(**fields, mask_paths=["m/{case_id}.mhd"])
    with pytest.raises(ValueError, match="go together"):
        WorldSphereSource(**fields, labels={"3": "left lung"})
    with pytest.raises(ValueError, match="placeholder"):
        WorldSphereSource(**fields, mask_paths=["m/mask.mhd"], labels={"3": "left lung"})


# ----------------------------------------------------------------- against the truth


def test_every_plant_is_produced_with_its_name_id_side_and_size(rows, replica_root):
    _, planted = replica_root
    assert len(planted) == len(luna16.NODULES) + len(WITH_MASK) * len(luna16.ORGANS)
    assert len(rows) == len(planted)
    assert _problems(rows, planted) == []
    assert all((r["modality"], r["body_part"]) == ("CT", "thorax") for r in rows)


def test_lung_and_trachea_boxes_are_the_hand_computed_ones(rows):
    organ_rows = [r for r in rows if r["label"] in ORGAN_OF]
    assert {(r["case_id"], r["label"]) for r in organ_rows} == {
        (uid, o.label) for uid in WITH_MASK for o in luna16.ORGANS
    }
    for row in organ_rows:
        box, k = _hand_box(ORGAN_OF[row["label"]])
        assert row["bbox"] == pytest.approx(box), (row["case_id"], row["label"])
        assert _same_slice(row, k), (row["case_id"], row["label"], row["slice_index"], k)


def test_left_lung_is_on_the_patients_left_the_image_right(rows):
    for uid in WITH_MASK:
        box = {r["label"]: r["bbox"] for r in rows if r["case_id"] == uid}
        left, right, width = box["left lung"], box["right lung"], luna16.SHAPE_ZYX[2]
        assert right[2] <= width / 2 <= left[0], uid  # right lung image-left, left lung image-right
        trachea_centre = (box["trachea"][0] + box["trachea"][2]) / 2
        assert right[2] < trachea_centre < left[0], uid


def test_swapped_lung_ids_are_caught(replica_root, tmp_path):
    root, planted = replica_root
    wrong, _ = build_rows(root, tmp_path / "out", [swap_labels(LUNA16, "3", "4")])
    problems = _problems(wrong, planted)
    assert any("patient-left structure on the wrong image half" in p for p in problems)
    assert any("patient-right structure on the wrong image half" in p for p in problems)


def test_boxes_frame_the_planted_blobs_in_the_png(rows):
    for row in rows:
        assert_frames_blob(row, atol=1)


def test_nodule_box_is_the_centre_cross_section(rows):
    nodules = [r for r in rows if r["label"] == luna16.LABEL]
    assert {r["case_id"] for r in nodules} == set(NODULE_OF)
    for row in nodules:
        nodule = NODULE_OF[row["case_id"]]
        centre = (nodule.centre_lps[2] - luna16.ORIGIN_LPS[2]) / luna16.SPACING_XYZ[2]
        assert _same_slice(row, round(centre)), row["case_id"]
        _, y1, _, y2 = row["bbox"]
        assert (y1 + y2) / 2 < row["image_height"] / 2  # planted anterior: top half


def test_wrong_world_frame_is_caught(replica_root, tmp_path):
    root, planted = replica_root
    spec = LUNA16.model_copy(update={"world_frame": "RAS"})
    try:
        wrong, _ = build_rows(root, tmp_path / "out", [spec])
    except BuildError:  # every sphere mirrored off the grid: nothing to extract
        return
    assert _problems(wrong, planted)


# ---------------------------------------------------------------------------- the traps


def test_mask_on_another_grid_is_one_listed_line_and_the_nodule_stays(built, rows):
    listed = [s for s in _skipped(built[1]) if s["case_id"] == COARSE]
    assert len(listed) == 1
    assert listed[0]["item"] == f"{luna16.MASK_DIR}/{COARSE}.mhd"
    assert "label shape (48, 48, 16) differs from image shape (96, 96, 16)" in listed[0]["reason"]
    assert "\n" not in listed[0]["reason"]
    assert {r["label"] for r in rows if r["case_id"] == COARSE} == {luna16.LABEL}


def test_missing_mask_is_one_listed_line_and_the_nodule_stays(built, rows):
    listed = [s for s in _skipped(built[1]) if s["case_id"] == MISSING]
    assert [(s["item"], s["reason"]) for s in listed] == [
        (f"{luna16.MASK_DIR}/{MISSING}.mhd", "no mask file: spheres only")
    ]
    assert {r["label"] for r in rows if r["case_id"] == MISSING} == {luna16.LABEL}


def test_series_without_row_gives_lungs_only_and_rows_without_series_are_listed(built, rows):
    skipped = _skipped(built[1])
    assert any(
        s["case_id"] == luna16.UNANNOTATED and "no row in annotations.csv" in s["reason"]
        for s in skipped
    )
    assert any(
        s["case_id"] == luna16.OTHER_SUBSET and "not present" in s["reason"] for s in skipped
    )
    assert {r["label"] for r in rows if r["case_id"] == luna16.UNANNOTATED} == set(ORGAN_OF)
    # nothing else about the series with good masks is listed
    assert not [s for s in skipped if s["case_id"] in WITH_MASK[:-1]]


def test_without_masks_the_spec_reads_nodules_only(replica_root):
    root, _ = replica_root
    spec = LUNA16.model_copy(update={"mask_paths": [], "labels": {}})
    cases, skipped = spec.discover(root / luna16.DATASET)
    assert {c.case_id for c in cases} == set(NODULE_OF)
    assert all(c.files_for("mask") == [] for c in cases)
    assert not any("mask" in s.reason for s in skipped)


def _copy(root: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(root / luna16.DATASET, tmp_path / luna16.DATASET))


def test_mask_with_shifted_origin_is_listed(replica_root, tmp_path):
    root, _ = replica_root
    dataset = _copy(root, tmp_path)
    uid = WITH_MASK[0]
    path = luna16.mask_path(dataset, uid)
    mask = sitk.ReadImage(str(path))
    mask.SetOrigin(tuple(o + d for o, d in zip(mask.GetOrigin(), (5.0, 0.0, 0.0), strict=True)))
    sitk.WriteImage(mask, str(path), useCompression=True)
    case = next(c for c in LUNA16.discover(dataset)[0] if c.case_id == uid)
    loaded = LUNA16.load(dataset, case)
    assert [layer.names for layer in loaded.iter_layers()] == [{1: luna16.LABEL}]
    assert len(loaded.skipped) == 1 and "affine differs" in loaded.skipped[0].reason


def test_nested_mask_folder_is_found(replica_root, tmp_path):
    root, _ = replica_root
    dataset = _copy(root, tmp_path)
    flat = dataset / luna16.MASK_DIR
    nested = flat / luna16.MASK_DIR
    nested.mkdir()
    for path in list(flat.iterdir()):
        if path.is_file():
            path.rename(nested / path.name)
    cases, _ = LUNA16.discover(dataset)
    found = {c.case_id: c.files_for("mask") for c in cases}
    assert found[WITH_MASK[0]] == [
        ("mask", f"{luna16.MASK_DIR}/{luna16.MASK_DIR}/{WITH_MASK[0]}.mhd")
    ]
    loaded = LUNA16.load(dataset, next(c for c in cases if c.case_id == WITH_MASK[0]))
    assert [set(layer.names.values()) for layer in loaded.iter_layers()] == [
        {luna16.LABEL},
        set(ORGAN_OF),
    ]
