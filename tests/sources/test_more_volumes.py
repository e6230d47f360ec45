"""More volume sources (MSD Liver/Pancreas, KiTS19/21, CT-ORG, ATM22, HVSMR16, PROMISE12) and
the Tianchi pneumothorax re-host, end to end: replica → build → load_dataset.

Checked against each replica's planted truth: names, raw ids, sides, box sizes, the junk
and unlabelled files that must be listed instead of read, the KiTS19 axis override and
the merging of several RLE rows of one image.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset
from helpers import foreground_box as _foreground_box

from medbench.builders.vgmed import sources
from medbench.builders.vgmed.build import BuildConfig, build_vgmed
from medbench.builders.vgmed.sources.more_volumes import SPECS
from medbench.builders.vgmed.spec import SourceSpec
from medbench.builders.vgmed.vocabulary import is_canonical
from medbench.demo import (
    atm2022,
    chest_image_pneum,
    ct_org,
    hvsmr2016,
    kits2019,
    kits2021,
    msd_liver,
    msd_pancreas,
    promise09,
    promise12,
)
from medbench.demo.truth import PlantedStructure
from medbench.imaging.rle import decode_rle_relative

MODULES = (
    msd_liver,
    msd_pancreas,
    kits2019,
    chest_image_pneum,
    kits2021,
    ct_org,
    atm2022,
    hvsmr2016,
    promise12,
    promise09,
)
REPLICAS = {m.DATASET: m for m in MODULES}
SPEC_BY_ID = {spec.id: spec for spec in SPECS}
RAW_IDS = {d: getattr(m, "LABEL_IDS", {"pneumothorax": 1}) for d, m in REPLICAS.items()}


def _build(root: Path, out: Path, specs: list[SourceSpec]) -> tuple[list[dict], dict]:
    with pytest.MonkeyPatch.context() as mp:
        for spec in specs:
            mp.setitem(sources.SOURCES, spec.id, spec)
        build_vgmed(BuildConfig(source_root=root, out=out, datasets=[s.id for s in specs]))
    rows = load_dataset(str(out), split="test")
    manifest = json.loads((out / "manifest.json").read_text())
    return [row for row in rows if row["question_type"] == "localization"], manifest


@pytest.fixture(scope="module")
def replica_root(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("more-volume-sources")
    planted = []
    for dataset, module in REPLICAS.items():
        planted += module.write(root / dataset, seed=0)
    return root, planted


@pytest.fixture(scope="module")
def built(replica_root, tmp_path_factory):
    root, _ = replica_root
    return _build(root, tmp_path_factory.mktemp("more-volume-out") / "out", SPECS)


@pytest.fixture(scope="module")
def rows(built):
    return built[0]


def _truth(planted, dataset, case_id, label) -> PlantedStructure | None:
    for p in planted:
        if (p.dataset, p.case_key, p.label) == (dataset, case_id, label):
            return p
    return None


def _box_size(row) -> tuple[float, float]:
    """(width, height) of the row's box: mm for volumes, pixels for 2D images."""
    x1, y1, x2, y2 = row["bbox"]
    if row["source_size"][0] <= 1:  # 2D source: one slice
        return x2 - x1, y2 - y1
    _, dy, dx = row["spacing_mm"]
    pixel_mm = min(dy, dx)
    return (x2 - x1) * pixel_mm, (y2 - y1) * pixel_mm


def _size_problem(row, plant: PlantedStructure) -> str | None:
    width, height = _box_size(row)
    if plant.extent_mm is not None:
        _, dy, dx = row["spacing_mm"]
        want, slack = plant.extent_mm, 2.5 * min(dy, dx)
    else:
        want, slack = plant.extent_px, 1.0
    if abs(width - want[0]) > slack or abs(height - want[1]) > slack:
        return f"box {width:.1f} x {height:.1f} != planted {want[0]} x {want[1]}"
    return None


def _problems(rows, planted) -> list[str]:
    """Rows whose name, raw id, side or size disagrees with the plant, and plants never made."""
    problems = []
    for row in rows:
        key = (row["dataset"], row["case_id"], row["label"])
        plant = _truth(planted, *key)
        if plant is None:
            problems.append(f"no such planted structure: {key}")
            continue
        raw = RAW_IDS[row["dataset"]][row["label"]]
        # family F rows name their mask's origin, not an id
        if row["dataset"] != chest_image_pneum.DATASET and row["source_label"] != str(raw):
            problems.append(f"{key}: source_label {row['source_label']} != planted id {raw}")
        x1, _, x2, _ = row["bbox"]
        on_left = (x1 + x2) / 2 < row["image_width"] / 2
        # radiological view: the patient's right is on the image's LEFT
        if plant.side is not None and on_left != (plant.side == "right"):
            problems.append(f"{key}: patient-{plant.side} structure on the wrong image half")
        size = _size_problem(row, plant)
        if size:
            problems.append(f"{key}: {size}")
    produced = {(r["dataset"], r["case_id"], r["label"]) for r in rows}
    datasets = {r["dataset"] for r in rows}
    for p in planted:
        if p.dataset in datasets and (p.dataset, p.case_key, p.label) not in produced:
            problems.append(f"planted but not produced: {p}")
    return problems


def test_specs_cover_the_replicas_with_their_names():
    assert [s.id for s in SPECS] == list(REPLICAS)
    for dataset, module in REPLICAS.items():
        spec = SPEC_BY_ID[dataset]
        names = set(spec.labels.values())
        if isinstance(getattr(spec, "label", None), str):  # family F: one name
            names.add(spec.label)
        if hasattr(module, "LABEL_IDS"):
            for name, raw in module.LABEL_IDS.items():
                assert spec.labels[str(raw)] == name, (dataset, raw)
        assert all(is_canonical(v) for v in names), (dataset, names)


def test_every_plant_is_produced_with_its_name_id_side_and_size(rows, replica_root):
    _, planted = replica_root
    assert {r["dataset"] for r in rows} == set(REPLICAS)
    assert len(rows) == len(planted)
    assert _problems(rows, planted) == []


def test_boxes_frame_the_planted_blobs_in_the_png(rows):
    for row in rows:
        grey = np.asarray(row["image"].convert("L"))
        found = _foreground_box(grey, row["bbox"], tolerance=6)
        slack = 2 if row["image_width"] != row["source_size"][2] else 1
        assert np.allclose(found, row["bbox"], atol=slack), (row["dataset"], row["case_id"])


def test_only_labelled_cases_of_the_read_variant_become_cases(rows, replica_root):
    cases = {(r["dataset"], r["case_id"]) for r in rows}
    expected = {
        (d, c.case_key) for d, m in REPLICAS.items() if hasattr(m, "CASES") for c in m.CASES
    }
    # 2D: the images with a region (not the "-1" one, not the one without a CSV row)
    expected |= {(p.dataset, p.case_key) for p in replica_root[1] if p.extent_px is not None}
    assert cases == expected
    assert not any("axial_full" in c or c.startswith("._") for _, c in cases)


def test_junk_and_unlabelled_files_are_listed(built):
    skipped = built[1]["skipped"]

    def listed(dataset: str, item_end: str, reason: str) -> bool:
        return any(
            s["dataset"] == dataset and s["item"].endswith(item_end) and reason in s["reason"]
            for s in skipped
        )

    assert listed("MSD-Liver", "labelsTr/._liver_0.nii.gz", "AppleDouble")
    assert listed("MSD-Pancreas", "labelsTr/._pancreas_001.nii.gz", "AppleDouble")
    assert listed("KiTS2019", "data/case_00210", "lacks label")
    assert listed("Chest_Image_Pneum", ".dcm", "no row")


def test_kits19_override_slices_the_first_file_axis(replica_root, rows, tmp_path):
    """The replica's affine claims axis 0 is left-right; slicing axis 0 anyway shows the
    z-elongated kidneys and tumour as small cross-sections, canonical reorientation as long
    boxes (and an image whose columns are the 16 slices)."""
    root, planted = replica_root
    kits = [r for r in rows if r["dataset"] == "KiTS2019"]
    assert len(kits) == 4
    for row in kits:
        assert (row["image_width"], row["image_height"]) == (64, 64)
        _, y1, _, y2 = row["bbox"]
        anterior = (y1 + y2) / 2 < row["image_height"] / 2  # anterior at the top
        if row["label"] == "kidney tumor":
            assert max(_box_size(row)) < 11  # 8 mm across, 18 mm long in z
            assert anterior, row["case_id"]  # planted anterior: catches a wrong flip_rows
        else:
            assert not anterior, row["case_id"]  # kidneys are planted posterior
    canonical = SPEC_BY_ID["KiTS2019"].model_copy(update={"reorient": True})
    wrong, _ = _build(root, tmp_path / "out", [canonical])
    tumours = [r for r in wrong if r["label"] == "kidney tumor"]
    assert tumours and all(max(_box_size(r)) > 15 for r in tumours)
    assert any("box" in p for p in _problems(wrong, planted))


def test_kits21_reads_the_majority_aggregation(rows, replica_root):
    _, planted = replica_root
    tumours = [r for r in rows if r["dataset"] == "KiTS2021" and r["label"] == "kidney tumor"]
    assert len(tumours) == 2
    for row in tumours:
        assert row["source_path"].endswith("imaging.nii.gz")
        assert _size_problem(row, _truth(planted, "KiTS2021", row["case_id"], row["label"])) is None


def test_chest_image_pneum_merges_every_row_of_an_image(replica_root, rows):
    root, planted = replica_root
    spec = SPEC_BY_ID["Chest_Image_Pneum"]
    cases, _ = spec.discover(root / "Chest_Image_Pneum")
    two = [c for c in cases if len(c.get("rle", ())) == 2]
    assert len(two) == 1  # the two-region image, its rows apart in the CSV
    assert any(c.get("rle") == ("-1",) for c in cases)  # the empty image is a case, no box
    case = two[0]
    (row,) = [r for r in rows if r["case_id"] == case.case_id]
    plant = _truth(planted, "Chest_Image_Pneum", case.case_id, "pneumothorax")
    assert _box_size(row) == pytest.approx(plant.extent_px, abs=1)
    first_only = decode_rle_relative(case.get("rle")[0], 80, 80)
    cols = np.flatnonzero(first_only.any(0))
    assert cols[-1] - cols[0] + 1 < plant.extent_px[0] - 10  # one row alone is not enough


def _swapped(spec: SourceSpec, a: str, b: str) -> SourceSpec:
    labels = dict(spec.labels)
    labels[a], labels[b] = labels[b], labels[a]
    return spec.model_copy(update={"labels": labels})


@pytest.mark.parametrize(
    ("dataset", "a", "b"),
    [
        ("MSD-Liver", "1", "2"),
        ("MSD-Pancreas", "1", "2"),
        ("KiTS2021", "2", "3"),
        ("CT-ORG", "1", "3"),
        ("HVSMR2016", "1", "2"),
    ],
)
def test_a_wrong_id_map_is_caught(replica_root, tmp_path, dataset, a, b):
    root, planted = replica_root
    wrong, _ = _build(root, tmp_path / "out", [_swapped(SPEC_BY_ID[dataset], a, b)])
    assert _problems(wrong, planted)
