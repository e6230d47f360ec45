"""MS-CXR (PhysioNet ``ms-cxr``): phrases from MIMIC-CXR reports with expert boxes.

Input: ``MS_CXR_Local_Alignment_v1.0.0.csv`` or ``…v1.1.0.csv`` (the highest version found
under the source root), one row per box with columns ``dicom_id, category_name, label_text,
path, x, y, w, h, image_width, image_height`` and, from v1.1.0, ``split``. Boxes are xywh in
pixels of the original image (``image_width`` × ``image_height``).

Rows: one per (dicom_id, label_text), so a phrase with several boxes is one multi-box row;
query = the phrase, label = ``category_name``. Images live in MIMIC-CXR-JPG at
``files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg``; subject and study ids come from the CSV's
``path`` column (the CSV has no subject_id/study_id columns). When the stored JPEG's size
differs from the CSV's (a resized image store), boxes are scaled to the stored image.
v1.0.0 has no split column: its rows go to ``test`` (the set was published for evaluation).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from medbench.builders.cxr_grounding.records import (
    BuildError,
    ImageStore,
    ReadResult,
    Sample,
    Skip,
    SourceInfo,
    csv_number,
    finish_boxes,
    read_csv,
)
from medbench.hashing import stable_hash
from medbench.imaging.boxes import scale_box, xywh_to_xyxy
from medbench.schemas.gmpg import GroundingRow

NAME = "ms-cxr"
SOURCE = SourceInfo(
    id="MS-CXR",
    title="MS-CXR: Local Alignment Chest X-ray dataset (phrase grounding boxes on MIMIC-CXR)",
    license="PhysioNet Credentialed Health Data License 1.5.0",
    homepage="https://physionet.org/content/ms-cxr/",
    terms="https://physionet.org/content/ms-cxr/view-license/",
    credentialed=True,
    redistributable=False,
    citation="Boecking et al., Making the Most of Text Semantics to Improve Biomedical "
    "Vision-Language Processing, ECCV 2022",
    image_store="the MIMIC-CXR-JPG root (the folder holding files/pXX/...)",
)
CSV_PATTERN = "MS_CXR_Local_Alignment_v*.csv"
REQUIRED = ("dicom_id", "category_name", "label_text", "path", "x", "y", "w", "h")
SIZE_COLUMNS = ("image_width", "image_height")
SIZE_FROM_CSV = "annotation-csv"
NO_SPLIT = "test"
_VERSION = re.compile(r"_v(\d+(?:\.\d+)*)\.csv$")
_MIMIC_PATH = re.compile(r"p(\d{2})/p(\d+)/s(\d+)/")
_SPLIT_NAME = re.compile(r"^\w+$")


def find_csv(source_root: Path) -> Path:
    found = [p for p in source_root.rglob(CSV_PATTERN) if p.is_file() and _VERSION.search(p.name)]
    if not found:
        raise BuildError(f"{source_root}: no {CSV_PATTERN} found (the PhysioNet ms-cxr files)")

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in _VERSION.search(p.name).group(1).split("."))  # type: ignore[union-attr]

    return max(found, key=lambda p: (version(p), str(p)))


def image_rel_path(dicom_id: str, path: str) -> tuple[str, str, str]:
    """(image path in MIMIC-CXR-JPG, subject_id, study_id) from the CSV's path column."""
    match = _MIMIC_PATH.search(path)
    if match is None:
        return path, "", ""  # not the MIMIC layout: keep the path as given
    prefix, subject, study = match.groups()
    return f"files/p{prefix}/p{subject}/s{study}/{dicom_id}.jpg", subject, study


def read(source_root: Path, image_root: Path | None) -> ReadResult:
    csv_path = find_csv(source_root)
    records, columns = read_csv(csv_path, (*REQUIRED, *SIZE_COLUMNS))
    has_split = "split" in columns

    groups: dict[tuple[str, str], list[tuple[int, dict]]] = {}
    for line, rec in enumerate(records, start=2):
        groups.setdefault((rec["dicom_id"].strip(), rec["label_text"].strip()), []).append(
            (line, rec)
        )

    store = ImageStore(image_root)
    notes: Counter = Counter()
    samples: list[Sample] = []
    skipped: list[Skip] = []
    for (dicom_id, phrase), members in groups.items():
        lines = ", ".join(str(n) for n, _ in members)
        item = f"{dicom_id} / {phrase!r} (CSV line {lines})"
        first = members[0][1]
        keys = {
            (r["category_name"], r["image_width"], r["image_height"], r.get("split", ""), r["path"])
            for _, r in members
        }
        if len(keys) > 1:
            reason = "rows of one phrase disagree on category, image size, split or path"
            skipped.append(Skip(item, "inconsistent_rows", reason))
            continue
        csv_w, csv_h = csv_number(first["image_width"]), csv_number(first["image_height"])
        if not dicom_id or not phrase or not csv_w or not csv_h:
            reason = "empty dicom_id / label_text or no image size"
            skipped.append(Skip(item, "malformed_row", reason))
            continue
        split = (first.get("split") or "").strip().lower() if has_split else NO_SPLIT
        if not _SPLIT_NAME.match(split):
            skipped.append(Skip(item, "bad_split", f"split {split!r} is not a usable split name"))
            continue

        xywh = []
        for line, rec in members:
            values = [csv_number(rec[k]) for k in ("x", "y", "w", "h")]
            if any(v is None for v in values) or values[2] <= 0 or values[3] <= 0:  # type: ignore[operator]
                box_item = f"{dicom_id} / {phrase!r} (CSV line {line})"
                skipped.append(Skip(box_item, "degenerate_box", f"x,y,w,h={values}"))
                continue
            xywh.append(values)
        if not xywh:
            # MS-CXR has no zero-box phrases: a phrase whose boxes are all bad is left out
            skipped.append(Skip(item, "no_valid_box", "every box of the phrase is degenerate"))
            continue

        rel, subject, study = image_rel_path(dicom_id, first["path"].strip())
        probe = store.probe(rel)
        width, height = int(round(csv_w)), int(round(csv_h))
        size_source = SIZE_FROM_CSV  # also when the JPEG header was read and agrees
        boxes = [xywh_to_xyxy(b) for b in xywh]  # type: ignore[arg-type]
        if probe.size is not None and probe.size != (width, height):
            sx, sy = probe.size[0] / csv_w, probe.size[1] / csv_h
            boxes = [scale_box(b, sx, sy) for b in boxes]
            width, height = probe.size
            size_source = probe.size_source
            notes["images_rescaled"] += 1
        store.report(rel, "row written (size from image_width/image_height in the CSV)")
        kept, dropped = finish_boxes(boxes, width, height, notes)
        if dropped:
            reason = f"{dropped} box(es) outside the {width}x{height} image"
            skipped.append(Skip(item, "box_outside_image", reason))
        if not kept:
            continue
        category = first["category_name"].strip()
        row = GroundingRow(
            sample_id=stable_hash(NAME, dicom_id, phrase),
            dataset=NAME,
            image_id=dicom_id,
            study_id=study,
            subject_id=subject,
            split=split,
            image_path=rel,
            image_width=width,
            image_height=height,
            image_size_source=size_source,
            sentence=phrase,
            boxes=kept,
            box_names=[category] * len(kept),
            groundable=True,
            label=category,
        )
        samples.append(Sample(row, probe.path))
    notes["csv_rows"] = len(records)
    if not has_split:
        notes["no_split_column"] = 1
    return ReadResult(
        samples=samples,
        skipped=skipped,
        image_issues=list(store.issues.values()),
        inputs={"annotations": csv_path},
        image_root=image_root,
        notes=notes,
    )
