"""End to end: demo replicas → medbench build vgmed → load_dataset, checked against what
was planted in the replicas (not against medbench's own intermediate output)."""

import hashlib
import io
import json

import numpy as np
import pytest
from datasets import load_dataset
from helpers import foreground_box as _foreground_box
from PIL import Image
from typer.testing import CliRunner

from medbench.builders.vgmed.build import BuildConfig, build_vgmed
from medbench.cli import app
from medbench.demo import REPLICAS

DEMO_DATASETS = set(REPLICAS)


def shard_digests(out):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def built(demo_root, tmp_path_factory):
    root, planted = demo_root
    out = tmp_path_factory.mktemp("vgmed") / "out"
    result = build_vgmed(BuildConfig(source_root=root, out=out))
    return out, result, planted


@pytest.fixture(scope="module")
def rows(built):
    out, _, _ = built
    return load_dataset(str(out), split="test")


def test_hub_folder_layout(built):
    out, result, _ = built
    assert (out / "README.md").read_text().startswith("---\n")
    assert [p.name for p in (out / "data").iterdir()] == ["test-00000-of-00001.parquet"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["rows"] == result.rows == 2 * len(result.selected)
    shard = manifest["shards"][0]
    assert shard["sha256"] == hashlib.sha256((out / shard["path"]).read_bytes()).hexdigest()
    for name in (
        "counts_by_dataset.csv",
        "counts_by_modality.csv",
        "counts_by_body_part.csv",
        "skipped.csv",
        "counts_by_dataset.png",
        "counts_by_modality.png",
        "distribution.png",
    ):
        assert (out / "report" / name).stat().st_size > 0


def test_load_dataset_decodes_images_and_boxes_fit(rows):
    assert len(rows) > 0
    assert set(rows["dataset"]) == DEMO_DATASETS
    assert set(rows["question_type"]) == {"localization", "attribute"}
    for row in rows:
        image = row["image"]
        assert isinstance(image, Image.Image)
        assert image.size == (row["image_width"], row["image_height"])
        x1, y1, x2, y2 = row["bbox"]
        assert 0 <= x1 < x2 <= image.width and 0 <= y1 < y2 <= image.height
        assert row["label"] in row["question"] or row["question_type"] == "attribute"


def test_each_pair_has_one_question_of_each_type(rows):
    kinds: dict[str, list[str]] = {}
    for pair_id, kind in zip(rows["pair_id"], rows["question_type"], strict=True):
        kinds.setdefault(pair_id, []).append(kind)
    assert all(sorted(k) == ["attribute", "localization"] for k in kinds.values())


def test_boxes_land_on_the_planted_structures(rows):
    """In every stored PNG the box must frame the blob planted for that label."""
    checked = 0
    for row in rows:
        if row["question_type"] != "localization":
            continue
        grey = np.asarray(row["image"].convert("L"))
        jpeg = row["source_path"].lower().endswith((".jpg", ".jpeg")) or row["dataset"] in (
            "SLAKE",
            "Kvasir-SEG",
            "PolypDB",
        )
        found = _foreground_box(grey, row["bbox"], tolerance=30 if jpeg else 6)
        # bilinear resampling and JPEG blur edges by about a pixel
        slack = 2 if row["image_width"] != row["source_size"][2] or jpeg else 1
        assert np.allclose(found, row["bbox"], atol=slack), (
            row["dataset"],
            row["case_id"],
            row["label"],
            found,
            row["bbox"],
        )
        checked += 1
    assert checked > 20


def _same_case(case_key: str, case_id: str) -> bool:
    parts = case_id.split("/")
    return case_key == case_id or case_key == parts[0] or case_id.endswith("/" + case_key)


def _planted_for(row, planted):
    return [
        p
        for p in planted
        if p.dataset == row["dataset"]
        and _same_case(p.case_key, row["case_id"])
        and p.label == row["label"]
    ]


def test_laterality_and_physical_size_match_the_plant(rows, demo_root):
    """Patient right is on image left (radiological view); sizes in mm survive orientation."""
    _, planted = demo_root
    lateral = sized = 0
    for row in rows:
        if row["question_type"] != "localization":
            continue
        matches = _planted_for(row, planted)
        assert matches, f"no planted structure for {row['dataset']} {row['case_id']} {row['label']}"
        plant = matches[0]
        x1, y1, x2, y2 = row["bbox"]
        if plant.side is not None:
            centre = (x1 + x2) / 2
            if plant.side == "right":
                assert centre < row["image_width"] / 2, (row["case_id"], row["label"])
            else:
                assert centre > row["image_width"] / 2, (row["case_id"], row["label"])
            lateral += 1
        if plant.extent_mm is not None:
            _, dy, dx = row["spacing_mm"]
            pixel_mm = min(dy, dx)
            assert (x2 - x1) * pixel_mm == pytest.approx(plant.extent_mm[0], abs=2.5 * pixel_mm)
            assert (y2 - y1) * pixel_mm == pytest.approx(plant.extent_mm[1], abs=2.5 * pixel_mm)
            sized += 1
        if plant.extent_px is not None:
            assert (x2 - x1) == pytest.approx(plant.extent_px[0], abs=1)
            assert (y2 - y1) == pytest.approx(plant.extent_px[1], abs=1)
            sized += 1
    assert lateral > 5 and sized > 20


def test_every_planted_structure_is_in_the_output(rows, demo_root):
    _, planted = demo_root
    produced = {
        (d, c, lab)
        for d, c, lab in zip(rows["dataset"], rows["case_id"], rows["label"], strict=True)
    }
    for plant in planted:
        assert any(
            d == plant.dataset and _same_case(plant.case_key, c) and lab == plant.label
            for d, c, lab in produced
        ), plant


def test_rebuild_is_byte_identical_and_workers_do_not_change_output(built, demo_root, tmp_path):
    out, _, _ = built
    root, _ = demo_root
    again = tmp_path / "again"
    build_vgmed(BuildConfig(source_root=root, out=again))
    parallel = tmp_path / "parallel"
    build_vgmed(BuildConfig(source_root=root, out=parallel, workers=2))
    assert shard_digests(again) == shard_digests(out)
    assert shard_digests(parallel) == shard_digests(out)
    assert (again / "README.md").read_text().replace(str(again), "X") == (
        (out / "README.md").read_text().replace(str(out), "X")
    )


def test_rerun_uses_the_cache(built, demo_root):
    out, first, _ = built
    root, _ = demo_root
    before = shard_digests(out)
    second = build_vgmed(BuildConfig(source_root=root, out=out))
    assert second.cases_from_cache == second.cases_total == first.cases_total
    assert shard_digests(out) == before


def test_other_seed_gives_other_questions(demo_root, tmp_path):
    root, _ = demo_root
    a = build_vgmed(BuildConfig(source_root=root, out=tmp_path / "a", datasets=["MSD-Spleen"]))
    b = build_vgmed(
        BuildConfig(source_root=root, out=tmp_path / "b", datasets=["MSD-Spleen"], seed=7)
    )
    qa = load_dataset(str(a.out), split="test")["question"]
    qb = load_dataset(str(b.out), split="test")["question"]
    assert qa != qb


def test_components_mode_and_spread_policy(demo_root, tmp_path):
    root, _ = demo_root
    runner = CliRunner()
    out = tmp_path / "spread"
    result = runner.invoke(
        app,
        [
            "build",
            "vgmed",
            "--source-root",
            str(root),
            "--out",
            str(out),
            "-d",
            "MSD-Spleen",
            "--slice-policy",
            "spread",
            "--slices-per-structure",
            "3",
            "--box-mode",
            "components",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    ds = load_dataset(str(out), split="test")
    per_case: dict[str, set] = {}
    for case_id, k in zip(ds["case_id"], ds["slice_index"], strict=True):
        per_case.setdefault(case_id, set()).add(k)
    assert all(len(slices) == 3 for slices in per_case.values())
    assert set(ds["box_mode"]) == {"components"}


def test_demo_command(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["build", "vgmed", "--demo", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["rows"] == 2 * summary["pairs"] > 0
    png = Image.open(io.BytesIO((out / "report" / "counts_by_dataset.png").read_bytes()))
    assert png.size[0] > 100


def test_dataset_card_header(built):
    from huggingface_hub import DatasetCard

    out, result, _ = built
    card = DatasetCard.load(out / "README.md")
    data = card.data.to_dict()
    assert data["pretty_name"] == "VGMED"
    assert data["license"] == "other"
    for dataset in DEMO_DATASETS:
        assert dataset in data["license_details"]
        assert dataset in data["source_datasets"]
    assert data["configs"] == [
        {"config_name": "default", "data_files": [{"split": "test", "path": "data/test-*"}]}
    ]
    info = data["dataset_info"]
    assert info["splits"][0]["num_examples"] == result.rows
    assert [f["name"] for f in info["features"]][:3] == ["sample_id", "pair_id", "image"]
    assert data["size_categories"] == ["n<1K"]
    assert "visual-question-answering" in data["task_categories"]
    assert f"{len(result.selected)}" in card.text


def test_mr_structures_use_the_documented_sequence(rows):
    expected = {
        ("BraTS2021", "enhancing tumor"): "t1ce",
        ("BraTS2021", "necrotic tumor core"): "t1ce",
        ("BraTS2021", "peritumoral edema"): "flair",
        ("BraTS2015", "enhancing tumor"): "T1c",
        ("BraTS2015", "edema"): "Flair",
    }
    seen = set()
    for dataset, label, channel in zip(
        rows["dataset"], rows["label"], rows["channel"], strict=True
    ):
        if (dataset, label) in expected:
            assert channel == expected[(dataset, label)], (dataset, label, channel)
            seen.add((dataset, label))
    assert seen == set(expected)


def test_all_sequences_option_emits_every_sequence(demo_root, tmp_path):
    root, _ = demo_root
    out = tmp_path / "all"
    result = CliRunner().invoke(
        app,
        [
            "build",
            "vgmed",
            "--source-root",
            str(root),
            "--out",
            str(out),
            "-d",
            "BraTS2021",
            "--all-sequences",
        ],
    )
    assert result.exit_code == 0, result.output
    ds = load_dataset(str(out), split="test")
    per_structure: dict[tuple, set] = {}
    for case_id, label, channel in zip(ds["case_id"], ds["label"], ds["channel"], strict=True):
        per_structure.setdefault((case_id, label), set()).add(channel)
    assert per_structure
    assert all(c == {"flair", "t1", "t1ce", "t2"} for c in per_structure.values())
