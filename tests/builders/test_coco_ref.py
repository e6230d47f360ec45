"""``medbench build coco-ref`` over the COCO replica (medbench.demo.coco): rows load with
``datasets``, boxes sit on the planted rectangles in the decoded pixels, every left-out
annotation is listed with its reason, sampling follows the water-filling by hand, 2014
layouts are found, two builds are byte-identical and the card passes the publish checks."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from datasets import load_dataset
from PIL import Image
from typer.testing import CliRunner

from medbench.builders.coco_ref.build import (
    BuildError,
    CocoBuildConfig,
    build_coco_ref,
    sample_checked,
)
from medbench.builders.coco_ref.layout import (
    LayoutError,
    choose_split,
    find_splits,
    read_instances,
)
from medbench.builders.vgmed.questions import localization_templates
from medbench.cli import app
from medbench.demo import coco
from medbench.llm.template_backend import COCO_MODALITY, TemplateBackend
from tests.helpers import foreground_box


@pytest.fixture(scope="module")
def replica(tmp_path_factory) -> tuple[Path, list[coco.PlantedBox]]:
    root = tmp_path_factory.mktemp("coco")
    return root, coco.write(root)


@pytest.fixture(scope="module")
def built(replica, tmp_path_factory):
    root, planted = replica
    out = tmp_path_factory.mktemp("coco-ref")
    result = build_coco_ref(CocoBuildConfig(coco_root=root, out=out))
    return out, result, planted


@pytest.fixture(scope="module")
def rows(built):
    return load_dataset(str(built[0]), split="test")


def _shard_digests(out: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }


def test_every_planted_box_is_one_pair_of_two_rows(rows, built):
    _, result, planted = built
    assert len(rows) == 2 * len(planted) == result.rows == 14
    by_annotation = {p.annotation_id: p for p in planted}
    seen = Counter()
    for row in rows:
        truth = by_annotation[row["coco_annotation_id"]]
        seen[(truth.annotation_id, row["question_type"])] += 1
        assert row["coco_image_id"] == truth.image_id
        assert row["bbox"] == list(truth.box)
        assert (row["label"], row["supercategory"]) == (truth.label, truth.supercategory)
        assert row["file_name"] == truth.file_name
        assert row["coco_split"] == "val2017"
        x1, y1, x2, y2 = truth.box
        assert row["coco_bbox"] == [x1, y1, x2 - x1, y2 - y1]
    assert set(seen.values()) == {1} and len(seen) == 2 * len(planted)


def test_boxes_sit_on_the_planted_rectangles_in_the_decoded_pixels(rows, built):
    planted = {p.annotation_id: p for p in built[2]}
    for row in rows:
        if row["question_type"] != "localization":
            continue
        truth = planted[row["coco_annotation_id"]]
        image = row["image"]
        assert image.size == (row["image_width"], row["image_height"])
        rgb = np.asarray(image.convert("RGB")).astype(int)
        grey = np.asarray(image.convert("L"))
        assert foreground_box(grey, row["bbox"], tolerance=40) == truth.box
        x1, y1, x2, y2 = (int(v) for v in truth.box)
        inside = rgb[y1 + 1 : y2 - 1, x1 + 1 : x2 - 1].reshape(-1, 3).mean(axis=0)
        assert np.abs(inside - np.array(truth.colour)).max() < 8


def test_jpeg_bytes_are_kept_and_an_exif_rotated_file_becomes_png(built, replica):
    out, _, _ = built
    root, _ = replica
    table = pq.read_table(
        sorted((out / "data").glob("*.parquet")),
        columns=["image", "file_name", "image_format", "image_note"],
    ).to_pylist()
    for row in table:
        data = row["image"]["bytes"]
        if row["file_name"].endswith(coco.file_name_for(coco.EXIF_IMAGE, 2017)):
            assert row["image_format"] == "PNG" and data.startswith(b"\x89PNG")
            assert "EXIF orientation 6" in row["image_note"]
            with Image.open(root / row["file_name"]) as original:
                assert np.array_equal(
                    np.asarray(Image.open(io.BytesIO(data))), np.asarray(original)
                )
        else:
            assert row["image_format"] == "JPEG" and row["image_note"] == ""
            assert data == (root / row["file_name"]).read_bytes()


def test_left_out_annotations_are_listed_with_their_reasons(built, rows):
    out, result, _ = built
    with open(out / "report" / "skipped.csv", newline="", encoding="utf-8") as fh:
        report = list(csv.DictReader(fh))
    listed = {(r["image_id"], r["annotation_id"], r["kind"]): r["reason"] for r in report}
    assert set(listed) == {
        ("139", str(coco.CROWD_ANNOTATION), "iscrowd"),
        ("139", str(coco.TINY_ANNOTATION), "tiny_box"),
        ("285", str(coco.BAD_ANNOTATION), "bad_annotation"),
        (str(coco.MISSING_IMAGE), "", "missing_image"),
    }
    assert "iscrowd=1" in listed[("139", str(coco.CROWD_ANNOTATION), "iscrowd")]
    assert "2×3 = 6 px² < 10" in listed[("139", str(coco.TINY_ANNOTATION), "tiny_box")]
    assert "bad bbox" in listed[("285", str(coco.BAD_ANNOTATION), "bad_annotation")]
    assert (
        "missing image file: its 1 annotation"
        in listed[(str(coco.MISSING_IMAGE), "", "missing_image")]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["skipped_by_kind"] == {
        "bad_annotation": 1,
        "iscrowd": 1,
        "missing_image": 1,
        "tiny_box": 1,
    }
    assert len(manifest["skipped"]) == len(report) == len(result.skipped)
    left_out = {coco.CROWD_ANNOTATION, coco.TINY_ANNOTATION, coco.BAD_ANNOTATION}
    left_out.add(coco.MISSING_IMAGE_ANNOTATION)
    assert not left_out & set(rows["coco_annotation_id"])


def test_questions_use_the_vgmed_templates_and_one_request_per_category(built, rows):
    out, _, planted = built
    localization = set(localization_templates())
    offline = TemplateBackend(0)
    for row in rows:
        label = row["label"]
        if row["question_type"] == "localization":
            assert row["question"] in {t.format(label=label) for t in localization}
        else:
            assert row["question"] == offline.questions_for(COCO_MODALITY, label, 1)[0]
        assert row["question_source"] == "template"
    manifest = json.loads((out / "manifest.json").read_text())
    categories = {p.label for p in planted}
    assert manifest["llm"]["requests"] == manifest["llm"]["unique_labels"] == len(categories) == 5
    assert manifest["counts"]["by_category"] == dict(
        sorted(Counter(p.label for p in planted).items())
    )
    assert set(manifest["prompts"]) >= {"coco-attribute", "vgmed_localization.txt"}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # supercategories animal (cat 1, dog 2), person (2), vehicle (bicycle 1, car 1):
        # water_fill([3, 2, 2], 3) = [1, 1, 1]; animal's 1 → water_fill([1, 2], 1) = cat;
        # vehicle's 1 → water_fill([1, 1], 1) = bicycle
        (3, {"cat": 1, "person": 1, "bicycle": 1}),
        # water_fill([3, 2, 2], 5) = [2, 2, 1]: animal → cat 1 + dog 1; vehicle → bicycle
        (5, {"cat": 1, "dog": 1, "person": 2, "bicycle": 1}),
    ],
)
def test_sampling_water_fills_supercategories_then_categories(replica, tmp_path, target, expected):
    root, _ = replica
    config = CocoBuildConfig(coco_root=root, out=tmp_path, target=target)
    split, _ = choose_split(root, None)
    candidates = read_instances(split).candidates
    selected, *_ = sample_checked(config, candidates, lambda *a: None)
    assert Counter(c.label for c in selected) == expected


def test_a_2014_layout_is_found_and_a_split_can_be_chosen(tmp_path):
    root = tmp_path / "coco"
    planted_2014 = coco.write(root, year=2014)
    assert [s.name for s in find_splits(root)] == ["val2014"]
    result = build_coco_ref(CocoBuildConfig(coco_root=root, out=tmp_path / "out2014", target=3))
    assert result.split.name == "val2014"
    names = {c.file_name for c in result.selected}
    assert names <= {p.file_name for p in planted_2014}
    assert all(n.startswith("val2014/COCO_val2014_0000000") for n in names)

    coco.write(root, year=2017)  # both years present: val2017 is the default
    assert choose_split(root, None)[0].name == "val2017"
    assert choose_split(root, "val2014")[1] == ["val2017", "val2014"]
    with pytest.raises(LayoutError, match="'train2017' not found.*found: val2017, val2014"):
        choose_split(root, "train2017")


def test_two_builds_are_byte_identical_and_a_rebuild_in_place_too(built, replica, tmp_path):
    out, _, _ = built
    root, _ = replica
    first = _shard_digests(out)
    assert list(first) == ["test-00000-of-00001.parquet"]
    build_coco_ref(CocoBuildConfig(coco_root=root, out=tmp_path / "again"))
    assert _shard_digests(tmp_path / "again") == first
    build_coco_ref(CocoBuildConfig(coco_root=root, out=tmp_path / "again"))
    assert _shard_digests(tmp_path / "again") == first


def test_the_card_passes_the_publish_checks(built):
    from huggingface_hub import DatasetCard

    from medbench.publish.checks import licence_gate, validate_folder

    out, result, _ = built
    manifest, files = validate_folder(out)
    assert licence_gate(manifest, private=False) == []
    assert {f.path for f in files} >= {"README.md", "manifest.json", "report/skipped.csv"}
    card = DatasetCard.load(out / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "other" and data["license_name"] == "coco-terms-of-use"
    assert "CC-BY-4.0" in data["license_details"] and "Flickr" in data["license_details"]
    assert data["configs"] == [
        {"config_name": "default", "data_files": [{"split": "test", "path": "data/test-*"}]}
    ]
    info = data["dataset_info"]
    assert info["splits"][0]["num_examples"] == result.rows
    assert [f["name"] for f in info["features"]][:3] == ["sample_id", "pair_id", "image"]
    assert "| image–box pairs | 7 |" in card.text and "Flickr" in card.text


def test_an_unreadable_sampled_image_is_listed_and_the_sample_redrawn(replica, tmp_path):
    source, planted = replica
    root = tmp_path / "coco"
    shutil.copytree(source, root)
    broken = root / "val2017" / coco.file_name_for(632, 2017)
    broken.write_bytes(broken.read_bytes()[:300])
    result = build_coco_ref(CocoBuildConfig(coco_root=root, out=tmp_path / "out"))
    bad = [s for s in result.skipped if s.kind == "bad_image"]
    assert len(bad) == 1 and bad[0].image_id == 632
    assert "unreadable image" in bad[0].reason and "its 2 annotation(s)" in bad[0].reason
    assert result.resampled == 1
    assert {c.annotation_id for c in result.selected} == {
        p.annotation_id for p in planted if p.image_id != 632
    }


def test_cli_builds_the_demo_and_fails_cleanly_without_coco(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app, ["build", "coco-ref", "--demo", "--out", str(tmp_path / "out"), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["pairs"] == 7 and summary["rows"] == 14 and summary["coco_split"] == "val2017"
    assert summary["llm"]["requests"] == 5

    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        app, ["build", "coco-ref", "--coco-root", str(empty), "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "no COCO instances file" in result.output

    with pytest.raises(BuildError, match="no usable image–box pairs"):
        only_json = tmp_path / "only-json"
        coco.write(only_json)
        shutil.rmtree(only_json / "val2017")
        build_coco_ref(CocoBuildConfig(coco_root=only_json, out=tmp_path / "y"))
