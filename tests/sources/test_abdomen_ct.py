"""Abdominal multi-organ CT specs, end to end: replica → build → load_dataset.

Checked against the replicas' planted truth, above all the kidney-id traps: a spec that
maps a raw id to the wrong side must fail the laterality check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset
from helpers import foreground_box as _foreground_box

from medbench.builders.vgmed import sources
from medbench.builders.vgmed.build import BuildConfig, build_vgmed
from medbench.builders.vgmed.sources.abdomen_ct import SPECS
from medbench.builders.vgmed.spec import SourceSpec
from medbench.demo import abdomenct_1k, amos2022, btcv, flare21, flare22, word
from medbench.demo.truth import PlantedStructure

REPLICAS = {m.DATASET: m for m in (btcv, word, flare22, flare21, abdomenct_1k, amos2022)}
SPEC_BY_ID = {spec.id: spec for spec in SPECS}


def _build(root: Path, out: Path, specs: list[SourceSpec]):
    with pytest.MonkeyPatch.context() as mp:
        for spec in specs:
            mp.setitem(sources.SOURCES, spec.id, spec)
        build_vgmed(BuildConfig(source_root=root, out=out, datasets=[s.id for s in specs]))
    rows = load_dataset(str(out), split="test")
    return [row for row in rows if row["question_type"] == "localization"]


@pytest.fixture(scope="module")
def replica_root(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("abdomen-sources")
    planted = []
    for dataset, module in REPLICAS.items():
        planted += module.write(root / dataset, seed=0)
    return root, planted


@pytest.fixture(scope="module")
def rows(replica_root, tmp_path_factory):
    root, _ = replica_root
    return _build(root, tmp_path_factory.mktemp("abdomen-out") / "out", SPECS)


def _truth(planted, dataset, case_id, label) -> PlantedStructure | None:
    for p in planted:
        if (p.dataset, p.case_key, p.label) == (dataset, case_id, label):
            return p
    return None


def _problems(rows, planted) -> list[str]:
    """Rows whose name, raw id or side disagrees with the plant, and plants never produced."""
    problems = []
    for row in rows:
        key = (row["dataset"], row["case_id"], row["label"])
        plant = _truth(planted, *key)
        if plant is None:
            problems.append(f"no such planted structure: {key}")
            continue
        module = REPLICAS[row["dataset"]]
        raw = {**module.LABEL_IDS, **getattr(module, "SEX_LABEL_IDS", {})}[row["label"]]
        if row["source_label"] != str(raw):
            problems.append(f"{key}: source_label {row['source_label']} != planted id {raw}")
        x1, _, x2, _ = row["bbox"]
        on_left = (x1 + x2) / 2 < row["image_width"] / 2
        # radiological view: the patient's right is on the image's LEFT
        if plant.side is not None and on_left != (plant.side == "right"):
            problems.append(f"{key}: patient-{plant.side} structure on the wrong image half")
    produced = {(r["dataset"], r["case_id"], r["label"]) for r in rows}
    datasets = {r["dataset"] for r in rows}
    for p in planted:
        if p.dataset in datasets and (p.dataset, p.case_key, p.label) not in produced:
            problems.append(f"planted but not produced: {p}")
    return problems


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
        grey = np.asarray(row["image"].convert("L"))
        found = _foreground_box(grey, row["bbox"], tolerance=6)
        slack = 2 if row["image_width"] != row["source_size"][2] else 1
        assert np.allclose(found, row["bbox"], atol=slack), (row["case_id"], row["label"])
        plant = _truth(planted, row["dataset"], row["case_id"], row["label"])
        x1, y1, x2, y2 = row["bbox"]
        _, dy, dx = row["spacing_mm"]
        pixel_mm = min(dy, dx)
        assert (x2 - x1) * pixel_mm == pytest.approx(plant.extent_mm[0], abs=2.5 * pixel_mm)
        assert (y2 - y1) * pixel_mm == pytest.approx(plant.extent_mm[1], abs=2.5 * pixel_mm)


def test_unlabelled_images_are_not_cases(rows):
    cases = {(r["dataset"], r["case_id"]) for r in rows}
    expected = {(d, c.case_key) for d, m in REPLICAS.items() for c in m.CASES}
    assert cases == expected


def _swapped(spec: SourceSpec, a: str, b: str) -> SourceSpec:
    labels = dict(spec.labels)
    labels[a], labels[b] = labels[b], labels[a]
    return spec.model_copy(update={"labels": labels})


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
    wrong = _swapped(SPEC_BY_ID[dataset], a, b)
    rows = _build(root, tmp_path / "out", [wrong])
    problems = _problems(rows, planted)
    assert any("wrong image half" in p for p in problems), problems
