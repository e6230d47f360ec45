"""Abdominal multi-organ CT specs, end to end: replica → build → load_dataset.

Checked against the replicas' planted truth, above all the kidney-id traps: a spec that
maps a raw id to the wrong side must fail the laterality check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    assert_frames_blob,
    assert_keeps_size_mm,
    build_rows,
    find_plant,
    plant_problems,
    swap_labels,
    write_replicas,
)

from medbench.builders.vgmed.sources.abdomen_ct import SPECS
from medbench.demo import abdomenct_1k, amos2022, btcv, flare21, flare22, word
from medbench.demo.truth import PlantedStructure

REPLICAS = {m.DATASET: m for m in (btcv, word, flare22, flare21, abdomenct_1k, amos2022)}
SPEC_BY_ID = {spec.id: spec for spec in SPECS}


@pytest.fixture(scope="module")
def replica_root(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("abdomen-sources")
    return root, write_replicas(root, REPLICAS.values())


@pytest.fixture(scope="module")
def rows(replica_root, tmp_path_factory):
    root, _ = replica_root
    return build_rows(root, tmp_path_factory.mktemp("abdomen-out") / "out", SPECS)[0]


def _raw_id(row) -> int:
    module = REPLICAS[row["dataset"]]
    return {**module.LABEL_IDS, **getattr(module, "SEX_LABEL_IDS", {})}[row["label"]]


def _problems(rows, planted) -> list[str]:
    """Rows whose name, raw id or side disagrees with the plant, and plants never produced."""
    return plant_problems(rows, planted, _raw_id)


def test_specs_use_the_shared_vocabulary_and_cover_the_replicas():
    assert set(SPEC_BY_ID) == set(REPLICAS)
    for dataset, module in REPLICAS.items():
        labels = SPEC_BY_ID[dataset].labels
        for name, raw in module.LABEL_IDS.items():
            assert labels[str(raw)] == name, (dataset, raw)
        assert all(v == v.lower() and v.strip() == v for v in labels.values())


def test_every_plant_is_produced_with_its_name_id_and_side(rows, replica_root):
    _, planted = replica_root
    assert {r["dataset"] for r in rows} == set(REPLICAS)
    assert len(rows) == len(planted)
    assert _problems(rows, planted) == []


@pytest.mark.parametrize(
    ("dataset", "name", "expected_id"),
    [
        ("BTCV", "right kidney", "2"),
        ("BTCV", "left kidney", "3"),
        ("WORD", "left kidney", "3"),
        ("WORD", "right kidney", "4"),
        ("FLARE22", "right kidney", "2"),
        ("FLARE22", "spleen", "3"),
        ("FLARE22", "left kidney", "13"),
    ],
)
def test_kidney_id_traps(rows, dataset, name, expected_id):
    hits = [r for r in rows if r["dataset"] == dataset and r["label"] == name]
    assert len(hits) == 2  # one per case
    for row in hits:
        assert row["source_label"] == expected_id
        x1, _, x2, _ = row["bbox"]
        centre = (x1 + x2) / 2
        if name == "right kidney":
            assert centre < row["image_width"] / 2, row["case_id"]
        elif name == "left kidney":
            assert centre > row["image_width"] / 2, row["case_id"]


def test_boxes_frame_the_planted_blobs_and_keep_their_size_in_mm(rows, replica_root):
    _, planted = replica_root
    for row in rows:
        assert_frames_blob(row)
        plant = find_plant(planted, row["dataset"], row["case_id"], row["label"])
        assert_keeps_size_mm(row, plant.extent_mm)


def test_unlabelled_images_are_not_cases(rows):
    cases = {(r["dataset"], r["case_id"]) for r in rows}
    expected = {(d, c.case_key) for d, m in REPLICAS.items() for c in m.CASES}
    assert cases == expected


@pytest.mark.parametrize(
    ("dataset", "a", "b"),
    [
        ("BTCV", "2", "3"),
        ("WORD", "3", "4"),
        ("FLARE22", "2", "13"),
        ("FLARE21", "1", "3"),  # liver (patient right) ↔ spleen (patient left)
        ("AbdomenCT-1K", "1", "3"),
    ],
)
def test_a_wrong_id_map_is_caught(replica_root, tmp_path, dataset, a, b):
    root, planted = replica_root
    wrong = swap_labels(SPEC_BY_ID[dataset], a, b)
    rows, _ = build_rows(root, tmp_path / "out", [wrong])
    problems = _problems(rows, planted)
    assert any("wrong image half" in p for p in problems), problems
