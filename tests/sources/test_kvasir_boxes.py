"""Kvasir-SEG native boxes (``kavsir_bboxes.json``): read and cross-checked against the masks,
never used for the rows. Expected lines come from the replica's planted faults and from
boxes worked out by hand, not from the checker."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import build_rows
from PIL import Image

from medbench.builders.vgmed.cache import case_cache_key
from medbench.builders.vgmed.extract import ExtractConfig
from medbench.builders.vgmed.families.paired_2d import NativeBoxCheck
from medbench.builders.vgmed.sources.photo_2d import KVASIR_SEG
from medbench.demo import kvasir_seg

CHECK = "cross-check:"
BOX_FILE = "kavsir_bboxes.json"


def _checks(skips) -> list:
    return [s for s in skips if s.reason.startswith(CHECK)]


def _mask_box_on_disk(path: Path) -> tuple[int, int, int, int]:
    """Box of the mask JPEG thresholded at 127, read with PIL alone."""
    mask = (np.asarray(Image.open(path).convert("L")) > 127).astype(bool)
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


@pytest.fixture(scope="module")
def replica(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kvasir-boxes")
    kvasir_seg.write(root / "Kvasir-SEG", 0)
    return root


@pytest.fixture(scope="module")
def built(replica, tmp_path_factory):
    out = tmp_path_factory.mktemp("kvasir-build") / "out"
    rows, manifest = build_rows(replica, out, [KVASIR_SEG], extract=ExtractConfig())
    return out, rows, manifest


# -- the replica itself ------------------------------------------------------------------


def test_replica_box_file_has_exactly_the_planted_faults(replica):
    folder = replica / "Kvasir-SEG" / "Kvasir-SEG"
    boxes = json.loads((folder / BOX_FILE).read_text())
    stems = set(kvasir_seg.IMAGES)
    assert set(boxes) == stems - {kvasir_seg.NOT_IN_JSON_STEM}
    for stem, entry in boxes.items():
        on_disk = _mask_box_on_disk(folder / "masks" / f"{stem}.jpg")
        assert on_disk == kvasir_seg.planted_boxes(0)[stem]  # JPEG keeps the thresholded box
        (box,) = entry["bbox"]
        xyxy = (box["xmin"], box["ymin"], box["xmax"], box["ymax"])
        height, width = np.asarray(Image.open(folder / "images" / f"{stem}.jpg")).shape[:2]
        assert (entry["height"], entry["width"]) == (height, width)
        if stem == kvasir_seg.WRONG_BOX_STEM:
            assert xyxy == (50, 18, 70, 38)
            assert on_disk[2] <= 50  # no overlap with the polyp at all: IoU 0
        else:
            assert xyxy == on_disk


# -- the build: exactly the planted disagreements are listed ------------------------------


def test_build_lists_exactly_the_planted_disagreements(built):
    out, _, manifest = built
    lines = [s for s in manifest["skipped"] if s["reason"].startswith(CHECK)]
    wrong, missing = kvasir_seg.WRONG_BOX_STEM, kvasir_seg.NOT_IN_JSON_STEM
    x1, y1, x2, y2 = kvasir_seg.planted_boxes(0)[wrong]
    expected = {
        (wrong, "polyp [50, 18, 70, 38] (native box)"),
        (wrong, f"polyp [{x1}, {y1}, {x2}, {y2}] (mask component)"),
        (missing, f"images/{missing}.jpg"),
        ("", BOX_FILE),  # the summary line
    }
    assert {(s["case_id"], s["item"]) for s in lines} == expected
    assert len(lines) == len(expected)
    by_key = {(s["case_id"], s["item"]): s["reason"] for s in lines}
    native = by_key[(wrong, "polyp [50, 18, 70, 38] (native box)")]
    assert wrong in native and "matches no mask component" in native and "IoU 0.00" in native
    component = by_key[(wrong, f"polyp [{x1}, {y1}, {x2}, {y2}] (mask component)")]
    assert wrong in component and "has no native box" in component
    assert missing in by_key[(missing, f"images/{missing}.jpg")]
    assert "no entry" in by_key[(missing, f"images/{missing}.jpg")]
    # 4 images have one native box each; 5 images have masks
    assert "4 native boxes of 4 of 5 images" in by_key[("", BOX_FILE)]
    # the correct entries are named nowhere
    correct = set(kvasir_seg.IMAGES) - {wrong, missing}
    assert len(correct) == 3
    for s in manifest["skipped"]:
        assert not any(stem in s["reason"] or stem == s["case_id"] for stem in correct), s
    # the lines reach the report
    with open(out / "report" / "skipped.csv", encoding="utf-8") as fh:
        report = [r for r in csv.DictReader(fh) if r["reason"].startswith(CHECK)]
    assert {(r["case_id"], r["item"]) for r in report} == expected


def test_rows_keep_the_mask_boxes(built):
    _, rows, _ = built
    truth = kvasir_seg.planted_boxes(0)
    assert sorted(r["case_id"] for r in rows) == sorted(truth)  # no row dropped
    for row in rows:
        assert tuple(row["bbox"]) == truth[row["case_id"]], row["case_id"]
    (wrong_row,) = [r for r in rows if r["case_id"] == kvasir_seg.WRONG_BOX_STEM]
    assert tuple(wrong_row["bbox"]) != (50, 18, 70, 38)


def test_missing_box_file_is_one_line(replica, tmp_path):
    dataset = tmp_path / "Kvasir-SEG"
    shutil.copytree(replica / "Kvasir-SEG", dataset)
    folder = dataset / "Kvasir-SEG"
    (folder / BOX_FILE).unlink()
    cases, skipped = KVASIR_SEG.discover(folder)
    (line,) = _checks(skipped)
    assert line.item == BOX_FILE and "not found" in line.reason
    assert len(cases) == len(kvasir_seg.IMAGES)
    for case in cases:
        assert _checks(KVASIR_SEG.load(folder, case).skipped) == []


def test_no_check_without_the_field(replica):
    spec = KVASIR_SEG.model_copy(update={"native_box_check": None})
    folder = replica / "Kvasir-SEG" / "Kvasir-SEG"
    cases, skipped = spec.discover(folder)
    assert _checks(skipped) == []
    assert all(_checks(spec.load(folder, c).skipped) == [] for c in cases)


def test_a_changed_box_file_changes_the_cache_key(replica, tmp_path):
    dataset = tmp_path / "Kvasir-SEG"
    shutil.copytree(replica / "Kvasir-SEG", dataset)
    folder = dataset / "Kvasir-SEG"
    stem = next(iter(kvasir_seg.IMAGES))
    before = {c.case_id: c for c in KVASIR_SEG.discover(folder)[0]}[stem]
    boxes = json.loads((folder / BOX_FILE).read_text())
    boxes[stem]["bbox"][0]["xmin"] += 30
    (folder / BOX_FILE).write_text(json.dumps(boxes))
    after = {c.case_id: c for c in KVASIR_SEG.discover(folder)[0]}[stem]
    config = ExtractConfig()
    assert case_cache_key(KVASIR_SEG, folder, before, config) != case_cache_key(
        KVASIR_SEG, folder, after, config
    )
    assert any(stem in s.reason for s in _checks(KVASIR_SEG.load(folder, after).skipped))


# -- the matcher on hand-made masks (PNG, so pixels are exact) ----------------------------

SIZE = 48  # every hand-made image is 48 x 48
# stem → (mask rectangles as (x1, y1, x2, y2), native boxes in the JSON)
HAND = {
    # two polyps, boxes listed in the other order: both match, nothing listed
    "two": ([(5, 5, 15, 15), (30, 5, 40, 15)], [(30, 5, 40, 15), (5, 5, 15, 15)]),
    # two native boxes on one polyp: IoU 1 and 19*19/20*20 = 0.9025; one-to-one, so the
    # second is listed; the 2x2 speck (4 px < 10) is no component
    "double": ([(5, 5, 25, 25), (40, 40, 42, 42)], [(5, 5, 25, 25), (6, 6, 25, 25)]),
    # IoU 10*20 / 20*20 = 0.5 exactly: agrees
    "half": ([(5, 5, 25, 25)], [(5, 5, 25, 15)]),
    # IoU 9*20 / 20*20 = 0.45: listed on both sides
    "under": ([(5, 5, 25, 25)], [(5, 5, 25, 14)]),
    # a polyp and an empty box list
    "nobox": ([(10, 10, 20, 20)], []),
    # right box, wrong size in the JSON
    "size": ([(10, 10, 20, 20)], [(10, 10, 20, 20)]),
}


@pytest.fixture
def hand_made(tmp_path):
    folder = tmp_path / "hand"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    entries = {}
    for stem, (rects, natives) in HAND.items():
        mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
        for x1, y1, x2, y2 in rects:
            mask[y1:y2, x1:x2] = 255
        Image.fromarray(mask).save(folder / "masks" / f"{stem}.png")
        Image.fromarray(np.full((SIZE, SIZE), 90, dtype=np.uint8)).save(
            folder / "images" / f"{stem}.png"
        )
        bbox = [
            {"label": "polyp", "xmin": a, "ymin": b, "xmax": c, "ymax": d} for a, b, c, d in natives
        ]
        entries[stem] = {"height": SIZE, "width": SIZE, "bbox": bbox}
    entries["size"]["height"] = 40
    entries["ghost"] = {"height": SIZE, "width": SIZE, "bbox": []}  # no such image
    entries["broken"] = {"height": SIZE, "width": SIZE, "bbox": [{"xmin": 1}]}
    (folder / "boxes.json").write_text(json.dumps(entries))
    spec = KVASIR_SEG.model_copy(
        update={
            "image_globs": ["images/*.png"],
            "mask": "masks/{stem}.png",
            "native_box_check": NativeBoxCheck(path="boxes.json", min_iou=0.5),
        }
    )
    return spec, folder


def test_matcher_on_hand_made_masks(hand_made):
    spec, folder = hand_made
    cases, skipped = spec.discover(folder)
    lines = _checks(skipped)
    for case in cases:
        lines += _checks(spec.load(folder, case).skipped)
    got = {(s.case_id, s.item) for s in lines}
    assert got == {
        ("double", "polyp [6, 6, 25, 25] (native box)"),
        ("under", "polyp [5, 5, 25, 14] (native box)"),
        ("under", "polyp [5, 5, 25, 25] (mask component)"),
        ("nobox", "polyp [10, 10, 20, 20] (mask component)"),
        ("size", "boxes.json"),
        ("ghost", "boxes.json"),
        ("broken", "boxes.json"),
        ("", "boxes.json"),  # summary
    }
    assert len(lines) == len(got)
    reason = {(s.case_id, s.item): s.reason for s in lines}
    assert "IoU 0.90" in reason[("double", "polyp [6, 6, 25, 25] (native box)")]
    assert (
        "matched to another native box" in reason[("double", "polyp [6, 6, 25, 25] (native box)")]
    )
    assert "best IoU 0.45 < 0.5" in reason[("under", "polyp [5, 5, 25, 14] (native box)")]
    assert "40x48" in reason[("size", "boxes.json")] and "48x48" in reason[("size", "boxes.json")]
    assert "no image ghost" in reason[("ghost", "boxes.json")]
    assert "malformed" in reason[("broken", "boxes.json")]
    # 6 images with entries; 2+2+1+1+0+1 = 7 native boxes
    assert "7 native boxes of 6 of 6 images" in reason[("", "boxes.json")]
    assert all(s.case_id in s.reason or s.case_id == "" for s in lines)


def test_a_stricter_threshold_lists_the_half_overlap(hand_made):
    spec, folder = hand_made
    strict = spec.model_copy(
        update={"native_box_check": spec.native_box_check.model_copy(update={"min_iou": 0.6})}
    )
    (case,) = [c for c in strict.discover(folder)[0] if c.case_id == "half"]
    items = {s.item for s in _checks(strict.load(folder, case).skipped)}
    assert items == {"polyp [5, 5, 25, 15] (native box)", "polyp [5, 5, 25, 25] (mask component)"}
