"""StructSeg2019 tasks 1 and 2, CTPelvic1K and autoPET, end to end: replica → build →
load_dataset (LUNA16, the batch's fifth spec, is tested in test_luna16.py).

Checked against each replica's planted truth: names, raw ids, sides, box sizes and the
boxes framing the blobs in the PNG; the traps: autoPET's double-space study folders and
its negative-control study (empty SEG listed, no sample), CTPelvic1K's hips by laterality
and its mask-only dataset, and left/right id swaps being caught.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    assert_frames_blob,
    build_rows,
    on_image_left,
    plant_problems,
    swap_labels,
    write_replicas,
)

from medbench.builders.vgmed.sources.final_batch import SPECS
from medbench.builders.vgmed.vocabulary import is_canonical
from medbench.demo import autopet, ctpelvic1k, structseg2019_task1, structseg2019_task2
from medbench.demo.truth import PlantedStructure

MODULES = (structseg2019_task1, structseg2019_task2, ctpelvic1k, autopet)
REPLICAS = {m.DATASET: m for m in MODULES}
SPEC_BY_ID = {spec.id: spec for spec in SPECS}
BATCH = [SPEC_BY_ID[dataset] for dataset in REPLICAS]


@pytest.fixture(scope="module")
def replica_root(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("final-batch-sources")
    return root, write_replicas(root, REPLICAS.values())


@pytest.fixture(scope="module")
def built(replica_root, tmp_path_factory):
    root, _ = replica_root
    return build_rows(root, tmp_path_factory.mktemp("final-batch-out") / "out", BATCH)


@pytest.fixture(scope="module")
def rows(built):
    return built[0]


def _raw_label(row) -> str:
    return str(REPLICAS[row["dataset"]].LABEL_IDS[row["label"]])


def _problems(rows, planted) -> list[str]:
    """Rows whose name, raw id, side or size disagrees with the plant, and plants never made."""
    return plant_problems(rows, planted, _raw_label, sizes=True)


def test_specs_cover_the_replicas_with_their_names():
    assert [s.id for s in SPECS] == [*REPLICAS, "LUNA16"]
    for dataset, module in REPLICAS.items():
        spec = SPEC_BY_ID[dataset]
        for name, raw in module.LABEL_IDS.items():
            assert spec.labels[str(raw)] == name, (dataset, raw)
        assert all(is_canonical(v) for v in spec.labels.values()), dataset
    assert SPEC_BY_ID["StructSeg2019-Task1"].body_part == "head and neck"
    assert SPEC_BY_ID["StructSeg2019-Task2"].body_part == "thorax"
    assert SPEC_BY_ID["CTPelvic1K"].body_part == "pelvis"
    assert SPEC_BY_ID["autoPET"].modality == "PET"


def test_every_plant_is_produced_with_its_name_id_side_and_size(rows, replica_root):
    _, planted = replica_root
    assert {r["dataset"] for r in rows} == set(REPLICAS)
    assert len(rows) == len(planted)
    assert _problems(rows, planted) == []
    for row in rows:
        spec = SPEC_BY_ID[row["dataset"]]
        assert (row["modality"], row["body_part"]) == (spec.modality, spec.body_part)


def test_boxes_frame_the_planted_blobs_in_the_png(rows):
    for row in rows:
        assert_frames_blob(row)


def test_ctpelvic1k_hips_by_laterality(rows):
    hips = [r for r in rows if r["dataset"] == "CTPelvic1K" and "hip" in r["label"]]
    assert len(hips) == 4
    for row in hips:
        # official ids: 2 = right hip (image left half), 3 = left hip
        assert row["source_label"] == ("2" if row["label"] == "right hip bone" else "3")
        assert on_image_left(row) == (row["label"] == "right hip bone"), row["case_id"]


def test_ctpelvic1k_reads_dataset6_only(rows, replica_root):
    root, _ = replica_root
    cases, _ = SPEC_BY_ID["CTPelvic1K"].discover(root / "CTPelvic1K")
    assert [c.case_id for c in cases] == [c.case_key for c in ctpelvic1k.CASES]
    assert all(c.file("image").startswith("CTPelvic1K_dataset6_data/") for c in cases)
    assert not any(r["case_id"].startswith("dataset1") for r in rows)


def test_autopet_double_space_studies_and_negative_control(rows, built, replica_root):
    root, _ = replica_root
    cases, skipped = SPEC_BY_ID["autoPET"].discover(root / "autoPET")
    assert skipped == []
    # the study folder names, double space kept, two studies of one patient
    assert {c.case_id for c in cases} == {c.case_key for c in (*autopet.CASES, autopet.NEGATIVE)}
    assert all("  " in c.case_id for c in cases)
    assert all(c.file("image:SUV").endswith("/SUV.nii.gz") for c in cases)
    pet = [r for r in rows if r["dataset"] == "autoPET"]
    assert {r["case_id"] for r in pet} == {c.case_key for c in autopet.CASES}
    assert all("  " in r["source_path"] and r["source_path"].endswith("SUV.nii.gz") for r in pet)
    absent = [
        s for s in built[1]["skipped"] if s["dataset"] == "autoPET" and "absent" in s["reason"]
    ]
    assert [s["case_id"] for s in absent] == [autopet.NEGATIVE.case_key]
    assert "tumor lesion" in absent[0]["item"]


@pytest.mark.parametrize(
    ("dataset", "a", "b"),
    [
        ("StructSeg2019-Task1", "2", "3"),
        ("StructSeg2019-Task1", "12", "13"),
        ("StructSeg2019-Task2", "1", "2"),
        ("StructSeg2019-Task2", "3", "5"),
        ("CTPelvic1K", "2", "3"),
    ],
)
def test_a_wrong_id_map_is_caught(replica_root, tmp_path, dataset, a, b):
    root, planted = replica_root
    wrong, _ = build_rows(root, tmp_path / "out", [swap_labels(SPEC_BY_ID[dataset], a, b)])
    assert _problems(wrong, planted)
