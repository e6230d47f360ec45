"""``medbench build ms-cxr | padchest-gr | rsna-pneumonia | covid-rural --demo`` over the layout
replicas (medbench.demo.cxr): rows load with ``datasets``; boxes equal the planted ones,
converted here by hand (xywh → xyxy, normalised × image size, mask components); multi-box
phrases are grouped; negatives are zero-box rows; missing images and left-out items are
listed; ``--embed-images`` embeds and says so; ``medbench publish`` refuses a public push."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from medbench.builders.cxr_grounding import BuildError, build
from medbench.cli import app
from medbench.demo.cxr import covid_rural, ms_cxr, padchest_gr, rsna_pneumonia
from medbench.publish import PublishError, licence_gate

runner = CliRunner()


def run_build(name: str, out: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["build", name, "--demo", "--out", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name in ("ms-cxr", "padchest-gr", "rsna-pneumonia", "covid-rural"):
        out[name] = tmp_path_factory.mktemp(name) / "out"
        run_build(name, out[name])
    return out


def rows_of(out: Path) -> dict[str, list[dict]]:
    """Every split, each row as a plain dict (images not decoded)."""
    loaded = load_dataset(str(out))
    return {split: list(ds.remove_columns("image")) for split, ds in loaded.items()}


def manifest_of(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def assert_boxes(actual: list, expected: list) -> None:
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected, strict=True):
        assert a == pytest.approx(e, abs=1e-4), (actual, expected)


# --- MS-CXR -----------------------------------------------------------------------------------


def test_mscxr_boxes_grouping_and_sizes(builds):
    splits = rows_of(builds["ms-cxr"])
    assert {s: len(r) for s, r in splits.items()} == {"train": 2, "val": 1, "test": 2}
    by_phrase = {r["sentence"]: r for rows in splits.values() for r in rows}
    # CSV x, y, w, h -> [x, y, x + w, y + h], worked out by hand from ms_cxr.LINES
    expected = {
        "Right lower lobe opacity": ([[20, 60, 60, 90]], (160, 128), "train", "Pneumonia"),
        # two CSV lines, not adjacent (the cardiomegaly line sits between them): one row
        "Bilateral pleural effusions": (
            [[10, 80, 40, 105], [105, 78, 140, 108]],
            (150, 120),
            "test",
            "Pleural effusion",
        ),
        "Enlarged cardiac silhouette": ([[50, 50, 105, 90]], (150, 120), "test", "Cardiomegaly"),
        # image missing from the store: size from the CSV, row still written
        "Small left apical pneumothorax": ([[90, 10, 120, 30]], (140, 140), "val", "Pneumothorax"),
        # stored at half the CSV's 200 x 160: (120, 90, 40, 30) halves to [60, 45, 80, 60]
        "Left lower lobe consolidation": ([[60, 45, 80, 60]], (100, 80), "train", "Consolidation"),
    }
    assert set(by_phrase) == set(expected)
    for phrase, (boxes, size, split, label) in expected.items():
        row = by_phrase[phrase]
        assert_boxes(row["boxes"], boxes)
        assert (row["image_width"], row["image_height"]) == size
        assert (row["split"], row["label"], row["groundable"]) == (split, label, True)
        assert row["box_names"] == [label] * len(boxes)
    # the replica's own record agrees with the hand-worked table
    planted = {p.phrase: p for p in ms_cxr.write(builds["ms-cxr"].parent / "again").phrases}
    assert set(planted) == set(expected)
    assert len(planted["Bilateral pleural effusions"].xywh) == 2

    row = by_phrase["Right lower lobe opacity"]
    assert (row["subject_id"], row["study_id"]) == ("10000032", "50414267")
    assert row["image_path"] == f"files/p10/p10000032/s50414267/{row['image_id']}.jpg"
    assert row["image_path"] == ms_cxr.IMAGES["A"].rel_path


def test_mscxr_lists_missing_image_and_left_out_phrase(builds):
    out = builds["ms-cxr"]
    issues = csv_rows(out / "report" / "missing_images.csv")
    assert [i["image_path"] for i in issues] == [ms_cxr.IMAGES["C"].rel_path]
    assert issues[0]["problem"] == "missing" and "row written" in issues[0]["outcome"]
    skipped = csv_rows(out / "report" / "skipped.csv")
    assert {s["kind"] for s in skipped} == {"degenerate_box", "no_valid_box"}
    assert all("Bibasilar atelectasis" in s["item"] for s in skipped)
    counts = manifest_of(out)["counts"]
    assert counts["by_box_count"] == {"0": 0, "1": 4, "2+": 1}
    assert counts["notes"]["images_rescaled"] == 1
    assert counts["by_split"]["test"]["by_box_count"] == {"0": 0, "1": 1, "2+": 1}


def test_mscxr_v1_0_without_split_column_is_all_test(tmp_path):
    root = tmp_path / "replica"
    ms_cxr.write(root)
    v11 = ms_cxr.source_root(root) / ms_cxr.CSV_NAME
    with open(v11, newline="") as fh:
        lines = [r[:-1] for r in csv.reader(fh)]  # drop the split column
    v11.unlink()
    with open(
        ms_cxr.source_root(root) / "MS_CXR_Local_Alignment_v1.0.0.csv", "w", newline=""
    ) as fh:
        csv.writer(fh).writerows(lines)
    result = build("ms-cxr", tmp_path / "out", ms_cxr.source_root(root), ms_cxr.image_root(root))
    assert {s.row.split for s in result.read.samples} == {"test"}
    assert result.manifest["input"]["annotations"]["path"].endswith("v1.0.0.csv")


def test_a_csv_without_a_required_column_is_a_one_line_error_naming_it(tmp_path):
    root = tmp_path / "replica"
    ms_cxr.write(root)
    path = ms_cxr.source_root(root) / ms_cxr.CSV_NAME
    with open(path, newline="") as fh:
        table = list(csv.reader(fh))
    column = table[0].index("label_text")
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([r[:column] + r[column + 1 :] for r in table])
    args = ["build", "ms-cxr", "--source-root", str(ms_cxr.source_root(root))]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert str(path) in message and "missing column(s) label_text" in message


# --- PadChest-GR --------------------------------------------------------------------------------


def test_padchest_normalised_boxes_to_pixels_and_zero_box_sentences(builds):
    splits = rows_of(builds["padchest-gr"])
    assert {s: len(r) for s, r in splits.items()} == {"train": 4, "test": 1}
    by_sentence = {r["sentence"]: r for rows in splits.values() for r in rows}
    # normalised [x1, y1, x2, y2] × (200, 160) or (120, 100), by hand
    assert_boxes(by_sentence["Cardiomegaly."]["boxes"], [[60, 64, 140, 128]])
    assert_boxes(
        by_sentence["Bilateral pleural effusion."]["boxes"],
        [[10, 96, 50, 144], [150, 96, 190, 144]],
    )
    nodule = by_sentence["Nódulo pulmonar derecho."]  # Spanish only where English is empty
    assert_boxes(nodule["boxes"], [[60, 20, 72, 30]])
    assert (nodule["image_width"], nodule["image_height"], nodule["split"]) == (120, 100, "test")

    for sentence in ("No pneumothorax.", "Trachea is midline."):
        row = by_sentence[sentence]
        assert row["boxes"] == [] and row["box_names"] == [] and row["groundable"] is False
    trail = by_sentence["Trachea is midline."]["cleanup"]
    assert [(c["stage"], c["removed"]) for c in trail] == [("negative", ["box 0"])]
    assert by_sentence["No pneumothorax."]["cleanup"] == []

    effusion = by_sentence["Bilateral pleural effusion."]
    assert effusion["original_regions"] == ["bilateral", "costophrenic angle"]
    assert effusion["label"] == "pleural effusion" and effusion["groundable"] is True
    assert effusion["image_path"] == padchest_gr.S1[1]
    assert effusion["subject_id"] == padchest_gr.S1[2]


def test_padchest_skips_unplaceable_and_unlisted(builds):
    out = builds["padchest-gr"]
    skipped = csv_rows(out / "report" / "skipped.csv")
    kinds = sorted((s["item"], s["kind"]) for s in skipped)
    s2, s3, s4 = padchest_gr.S2[0], padchest_gr.S3[0], padchest_gr.S4[0]
    assert kinds == sorted(
        [
            (f"{s2}#0", "image_unavailable"),
            (f"{s2}#1", "image_unavailable"),
            (f"{s3}#1", "bad_box"),
            (f"{s3}#1", "no_valid_box"),
            (s4, "no_split"),
        ]
    )
    issues = csv_rows(out / "report" / "missing_images.csv")
    assert [(i["image_path"], i["problem"]) for i in issues] == [(padchest_gr.S2[1], "missing")]
    assert "skipped" in issues[0]["outcome"]
    notes = manifest_of(out)["counts"]["notes"]
    assert notes["queries_in_spanish"] == 1 and notes["extra_boxes_ignored"] == 1


# --- RSNA Pneumonia -----------------------------------------------------------------------------


def test_rsna_boxes_per_image_and_negatives(builds):
    rows = rows_of(builds["rsna-pneumonia"])["train"]
    by_patient = {r["image_id"]: r for r in rows}
    p1, p2, p3, p4, p5 = (
        rsna_pneumonia.P1,
        rsna_pneumonia.P2,
        rsna_pneumonia.P3,
        rsna_pneumonia.P4,
        rsna_pneumonia.P5,
    )
    assert set(by_patient) == {p1, p2, p3, p5}
    # two CSV lines of P1 -> one row; x, y, width, height -> [x, y, x + w, y + h]
    assert_boxes(by_patient[p1]["boxes"], [[10, 20, 40, 60], [80, 25, 115, 70]])
    # (100, 60, 50, 50) runs past the 128 x 96 image: clipped
    assert_boxes(by_patient[p5]["boxes"], [[100, 60, 128, 96]])
    for p, label in ((p2, "Normal"), (p3, "No Lung Opacity / Not Normal")):
        assert by_patient[p]["boxes"] == [] and by_patient[p]["groundable"] is False
        assert by_patient[p]["label"] == label
    for row in rows:
        assert row["sentence"] == "pneumonia"
        assert (row["image_width"], row["image_height"]) == (128, 96)  # Columns, Rows
        assert row["image_path"] == f"stage_2_train_images/{row['image_id']}.dcm"
    skipped = csv_rows(builds["rsna-pneumonia"] / "report" / "skipped.csv")
    assert [(s["item"], s["kind"]) for s in skipped] == [(p4, "image_unavailable")]
    issues = csv_rows(builds["rsna-pneumonia"] / "report" / "missing_images.csv")
    assert [i["image_path"] for i in issues] == [f"stage_2_train_images/{p4}.dcm"]
    counts = manifest_of(builds["rsna-pneumonia"])["counts"]
    assert counts["by_box_count"] == {"0": 2, "1": 1, "2+": 1}
    assert counts["notes"]["boxes_clipped"] == 1


# --- COVID Rural --------------------------------------------------------------------------------


def test_covid_rural_component_boxes(builds):
    rows = rows_of(builds["covid-rural"])["test"]
    by_stem = {r["image_id"]: r for r in rows}
    assert set(by_stem) == {covid_rural.WITH_BOXES, covid_rural.EMPTY, covid_rural.NO_IMAGE}
    # rectangles in covid_rural.MASKS; the squares at (50..55, 5..10) and (55..60, 10..15)
    # touch only at a corner: one 8-connected component; boxes ordered by (y1, x1)
    assert_boxes(
        by_stem[covid_rural.WITH_BOXES]["boxes"],
        [[50, 5, 60, 15], [10, 20, 30, 40], [70, 50, 100, 80]],
    )
    empty = by_stem[covid_rural.EMPTY]
    assert empty["boxes"] == [] and empty["groundable"] is False
    assert (empty["image_width"], empty["image_height"]) == (90, 110)
    no_image = by_stem[covid_rural.NO_IMAGE]  # JPEG missing: size from the mask
    assert_boxes(no_image["boxes"], [[20, 10, 40, 20]])
    assert (no_image["image_width"], no_image["image_height"]) == (80, 60)
    row = by_stem[covid_rural.WITH_BOXES]
    assert (row["sentence"], row["label"], row["box_names"]) == (
        "COVID-19",
        "COVID-19",
        ["opacity"] * 3,
    )
    assert (row["subject_id"], row["study_id"]) == ("COVID-19-AR-16406502", "01-12-2012")
    assert row["image_path"] == f"jpgs/{covid_rural.WITH_BOXES}.jpg"

    out = builds["covid-rural"]
    skipped = {(s["item"], s["kind"]) for s in csv_rows(out / "report" / "skipped.csv")}
    assert skipped == {
        (covid_rural.UNANNOTATED, "not_annotated"),
        (covid_rural.MISMATCH, "size_mismatch"),
    }
    issues = csv_rows(out / "report" / "missing_images.csv")
    assert [i["image_path"] for i in issues] == [f"jpgs/{covid_rural.NO_IMAGE}.jpg"]
    assert "size from the mask" in issues[0]["outcome"]


# --- image sizes: where each came from -----------------------------------------------------------


def test_image_size_source_of_every_benchmark(builds):
    by = {name: rows_of(out) for name, out in builds.items()}
    mscxr = {r["sentence"]: r["image_size_source"] for rows in by["ms-cxr"].values() for r in rows}
    assert mscxr == {
        # the CSV's image_width / image_height (the stored JPEG, when there, agrees)
        "Right lower lobe opacity": "annotation-csv",
        "Bilateral pleural effusions": "annotation-csv",
        "Enlarged cardiac silhouette": "annotation-csv",
        "Small left apical pneumothorax": "annotation-csv",  # its JPEG is missing
        "Left lower lobe consolidation": "jpg-header",  # stored at half size: boxes rescaled
    }
    padchest = {r["image_size_source"] for rows in by["padchest-gr"].values() for r in rows}
    assert padchest == {"png-header"}  # the JSON has no sizes
    assert {r["image_size_source"] for r in by["rsna-pneumonia"]["train"]} == {"dicom-header"}
    covid = {r["image_id"]: r["image_size_source"] for r in by["covid-rural"]["test"]}
    assert covid == {
        covid_rural.WITH_BOXES: "jpg-header",
        covid_rural.EMPTY: "jpg-header",
        covid_rural.NO_IMAGE: "mask",
    }
    counts = manifest_of(builds["ms-cxr"])["counts"]
    assert counts["by_image_size_source"] == {"annotation-csv": 4, "jpg-header": 1}
    assert "(rows by source: `annotation-csv` 4, `jpg-header` 1)" in " ".join(
        (builds["ms-cxr"] / "README.md").read_text().split()
    )
    for rows in (r for splits in by.values() for r in splits.values()):
        assert all(r["attributes"] == [] for r in rows)  # no source here has attribute flags


# --- images, licences, publish ------------------------------------------------------------------


def test_no_image_bytes_by_default_and_card_states_licence(builds):
    for name, out in builds.items():
        manifest = manifest_of(out)
        assert manifest["images_embedded"] is False
        loaded = load_dataset(str(out))
        assert all(v is None for ds in loaded.values() for v in ds["image"])
        card = (out / "README.md").read_text()
        source = manifest["sources"][0]
        assert "The images are not included." in card, name
        assert source["license"] in card and "license: other" in card
        assert source["redistributable"] is False


def test_embed_images_embeds_and_marks_manifest(tmp_path):
    out = tmp_path / "rsna"
    summary = run_build("rsna-pneumonia", out, "--embed-images")
    assert summary["counts"]["images_embedded"] == 4
    manifest = manifest_of(out)
    assert manifest["images_embedded"] is True
    assert manifest["sources"][0]["images_embedded"] is True
    assert "embeds the images" in (out / "README.md").read_text()
    ds = load_dataset(str(out), split="train")
    for row in ds:
        image = np.asarray(row["image"])  # DICOM rendered to PNG, pixel for pixel
        assert image.shape == (row["image_height"], row["image_width"])
        for x1, y1, x2, y2 in row["boxes"]:  # the planted rectangles are the bright pixels
            assert image[int(y1), int(x1)] == 255 and image[int(y2) - 1, int(x2) - 1] == 255
        if not row["boxes"]:
            assert image.max() == image.min()

    out = tmp_path / "mscxr"
    run_build("ms-cxr", out, "--embed-images")
    ds = load_dataset(str(out), split="val")  # the pneumothorax row: its image is missing
    assert ds[0]["image"] is None
    for row in load_dataset(str(out), split="train"):
        assert row["image"].size == (row["image_width"], row["image_height"])  # JPEG as shipped


def test_publish_refuses_a_public_push_of_every_build(builds):
    for name, out in builds.items():
        manifest = manifest_of(out)
        with pytest.raises(PublishError, match="refusing a public upload"):
            licence_gate(manifest, private=False)
        result = runner.invoke(app, ["publish", str(out), "--repo-id", "org/x", "--dry-run"])
        assert result.exit_code == 2, (name, result.output)
        assert manifest["sources"][0]["id"] in " ".join(result.stderr.split())
        # the folder itself is a valid dataset: a private dry run passes every other check
        result = runner.invoke(
            app, ["publish", str(out), "--repo-id", "org/x", "--dry-run", "--private"]
        )
        assert result.exit_code == 0, (name, result.output)


def test_rebuild_is_byte_identical(builds, tmp_path):
    out = tmp_path / "again"
    run_build("padchest-gr", out)
    first = {s["path"]: s["sha256"] for s in manifest_of(builds["padchest-gr"])["shards"]}
    assert first == {s["path"]: s["sha256"] for s in manifest_of(out)["shards"]}


def test_cli_errors(tmp_path):
    result = runner.invoke(app, ["build", "ms-cxr", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--source-root or --demo" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    for name, needle in (
        ("ms-cxr", "MS_CXR_Local_Alignment"),
        ("padchest-gr", "grounded_reports"),
        ("rsna-pneumonia", "stage_2_train_labels.csv"),
        ("covid-rural", "pngs_masks"),
    ):
        result = runner.invoke(
            app, ["build", name, "--source-root", str(empty), "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 2, result.output
        assert needle in " ".join(result.stderr.split())
    with pytest.raises(BuildError, match="unknown benchmark"):
        build("nope", tmp_path / "x", empty)
