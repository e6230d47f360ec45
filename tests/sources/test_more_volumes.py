"""More volume sources (MSD Liver/Pancreas, KiTS19/21, CT-ORG, ATM22, HVSMR16, PROMISE12) and
the Tianchi pneumothorax re-host, end to end: replica → build → load_dataset.

Checked against each replica's planted truth: names, raw ids, sides, box sizes, the junk
and unlabelled files that must be listed instead of read, the KiTS19 axis override and
the merging of several RLE rows of one image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import (
    assert_frames_blob,
    box_size,
    build_rows,
    find_plant,
    plant_problems,
    size_problem,
    swap_labels,
    write_replicas,
)

from medbench.builders.vgmed.sources.more_volumes import SPECS
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


@pytest.fixture(scope="module")
def replica_root(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("more-volume-sources")
    return root, write_replicas(root, REPLICAS.values())


@pytest.fixture(scope="module")
def built(replica_root, tmp_path_factory):
    root, _ = replica_root
    return build_rows(root, tmp_path_factory.mktemp("more-volume-out") / "out", SPECS)


@pytest.fixture(scope="module")
def rows(built):
    return built[0]


def _raw_id(row) -> int | None:
    raw = RAW_IDS[row["dataset"]][row["label"]]
    # family F rows name their mask's origin, not an id
    return None if row["dataset"] == chest_image_pneum.DATASET else raw


def _problems(rows, planted) -> list[str]:
    """Rows whose name, raw id, side or size disagrees with the plant, and plants never made."""
    return plant_problems(rows, planted, _raw_id, sizes=True)


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
        assert_frames_blob(row)


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
            assert max(box_size(row)) < 11  # 8 mm across, 18 mm long in z
            assert anterior, row["case_id"]  # planted anterior: catches a wrong flip_rows
        else:
            assert not anterior, row["case_id"]  # kidneys are planted posterior
    canonical = SPEC_BY_ID["KiTS2019"].model_copy(update={"reorient": True})
    wrong, _ = build_rows(root, tmp_path / "out", [canonical])
    tumours = [r for r in wrong if r["label"] == "kidney tumor"]
    assert tumours and all(max(box_size(r)) > 15 for r in tumours)
    assert any("box" in p for p in _problems(wrong, planted))


def test_kits21_reads_the_majority_aggregation(rows, replica_root):
    _, planted = replica_root
    tumours = [r for r in rows if r["dataset"] == "KiTS2021" and r["label"] == "kidney tumor"]
    assert len(tumours) == 2
    for row in tumours:
        assert row["source_path"].endswith("imaging.nii.gz")
        plant = find_plant(planted, "KiTS2021", row["case_id"], row["label"])
        assert size_problem(row, plant) is None


def test_chest_image_pneum_merges_every_row_of_an_image(replica_root, rows):
    root, planted = replica_root
    spec = SPEC_BY_ID["Chest_Image_Pneum"]
    cases, _ = spec.discover(root / "Chest_Image_Pneum")
    two = [c for c in cases if len(c.get("rle", ())) == 2]
    assert len(two) == 1  # the two-region image, its rows apart in the CSV
    assert any(c.get("rle") == ("-1",) for c in cases)  # the empty image is a case, no box
    case = two[0]
    (row,) = [r for r in rows if r["case_id"] == case.case_id]
    plant = find_plant(planted, "Chest_Image_Pneum", case.case_id, "pneumothorax")
    assert box_size(row) == pytest.approx(plant.extent_px, abs=1)
    first_only = decode_rle_relative(case.get("rle")[0], 80, 80)
    cols = np.flatnonzero(first_only.any(0))
    assert cols[-1] - cols[0] + 1 < plant.extent_px[0] - 10  # one row alone is not enough


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
    wrong, _ = build_rows(root, tmp_path / "out", [swap_labels(SPEC_BY_ID[dataset], a, b)])
    assert _problems(wrong, planted)
