"""Review round trip: export a sheet, import ratings, low-rated rows leave the shards."""

import csv
import json

import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from medbench.cli import app

runner = CliRunner()


@pytest.fixture
def built(demo_root, tmp_path):
    root, _ = demo_root
    out = tmp_path / "out"
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
            "-d",
            "ISIC2018",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_export_writes_sheet_and_page(built):
    result = runner.invoke(app, ["review", "export", str(built)])
    assert result.exit_code == 0, result.output
    with open(built / "review" / "review_sheet.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    shard_rows = load_dataset(str(built), split="test")
    assert [r["sample_id"] for r in rows] == shard_rows["sample_id"]
    assert all(r["clinical_relevance"] == "" for r in rows)
    page = (built / "review" / "review.html").read_text()
    assert page.count('class="sample"') == len(rows)
    assert page.count("data:image/png;base64,") == len(rows)
    for row in rows:
        assert f'data-sample-id="{row["sample_id"]}"' in page
        assert f'name="{row["sample_id"]}:visual_grounding" value="5"' in page


def test_box_overlay_matches_the_row_box(built):
    runner.invoke(app, ["review", "export", str(built)])
    ds = load_dataset(str(built), split="test")
    row = ds[0]
    x1, y1, x2, y2 = row["bbox"]
    left = 100 * x1 / row["image_width"]
    page = (built / "review" / "review.html").read_text()
    assert f"left:{left:.3f}%" in page


def _rate(path, rows, scores_for):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["sample_id", "clinical_relevance", "visual_grounding", "minimum_semantic_grounding"]
        )
        for i, row in enumerate(rows):
            writer.writerow([row["sample_id"], *scores_for(i)])


def test_import_records_ratings_and_drops_low_rows(built, tmp_path):
    before = load_dataset(str(built), split="test")
    ids = before["sample_id"]
    ratings = tmp_path / "ratings.csv"
    # row 0 gets a 2 on visual grounding → dropped; row 1 all 3s → kept; others unrated
    _rate(
        ratings,
        [{"sample_id": ids[0]}, {"sample_id": ids[1]}],
        lambda i: [5, 2, 4] if i == 0 else [3, 3, 3],
    )
    result = runner.invoke(app, ["review", "import", str(built), str(ratings), "--json"])
    assert result.exit_code == 0, result.output
    after = load_dataset(str(built), split="test")
    assert after["sample_id"] == ids[1:]
    assert after[0]["review"] == {
        "clinical_relevance": 3,
        "visual_grounding": 3,
        "minimum_semantic_grounding": 3,
    }
    assert after[1]["review"] is None  # not rated
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["counts"]["rows"] == len(ids) - 1
    (dropped,) = manifest["review"]["dropped_rows"]
    assert dropped["sample_id"] == ids[0] and dropped["below_threshold"] == ["visual_grounding"]
    assert ids[0] in (built / "report" / "review_dropped.csv").read_text()
    assert f"| rows (questions) | {len(ids) - 1} |" in (built / "README.md").read_text()


def test_bad_ratings_are_one_line_errors(built, tmp_path):
    ids = load_dataset(str(built), split="test")["sample_id"]
    bad = tmp_path / "bad.csv"
    _rate(bad, [{"sample_id": ids[0]}], lambda i: [6, 3, 3])
    result = runner.invoke(app, ["review", "import", str(built), str(bad)])
    assert result.exit_code == 2
    assert "bad.csv:2: clinical_relevance must be an integer 1-5, got '6'" in result.output
    unknown = tmp_path / "unknown.csv"
    _rate(unknown, [{"sample_id": "nope"}], lambda i: [3, 3, 3])
    result = runner.invoke(app, ["review", "import", str(built), str(unknown)])
    assert result.exit_code == 2 and "unknown sample_id nope" in result.output
    # nothing changed
    assert load_dataset(str(built), split="test")["sample_id"] == ids
