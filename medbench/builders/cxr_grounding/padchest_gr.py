"""PadChest-GR (BIMCV): bilingual grounded reports on PadChest chest X-rays.

Input: ``grounded_reports_<date>.json`` (a list of studies ``{StudyID, ImageID, findings}``;
each finding has ``sentence_en``, ``sentence_es``, ``abnormal``, ``boxes`` normalised to
0..1, ``extra_boxes``, ``labels``, ``locations``, ``progression``; non-abnormal findings
often omit boxes/labels/locations) and ``master_table.csv`` (or ``master_table.csv.zip``):
one row per (study, label) with ``StudyID``, ``ImageID``, ``PatientID`` and ``split``.

Rows: one per finding sentence; query = ``sentence_en`` (``sentence_es`` only when the
English is empty); boxes = ``boxes`` × image size (read from the PNG header: the JSON has no
sizes, so a finding whose image is missing cannot be placed and is skipped). Non-abnormal
sentences are zero-box rows (groundable False); boxes attached to one anyway are removed
and the removal is recorded in the row's cleanup trail. ``extra_boxes`` are counted, not
used. Splits come from the master table. Images: ``<image root>/<ImageID>`` (the PNGs of
``Padchest_GR_files``); without ``--image-root`` the first of ``IMAGE_DIRS`` holding a study
image is used.
"""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

from medbench.builders.cxr_grounding.records import (
    BuildError,
    ImageStore,
    ReadResult,
    Sample,
    Skip,
    SourceInfo,
    csv_records,
    finish_boxes,
)
from medbench.hashing import stable_hash
from medbench.imaging.boxes import scale_box
from medbench.schemas.gmpg import CleanupStep, GroundingRow

NAME = "padchest-gr"
SOURCE = SourceInfo(
    id="PadChest-GR",
    title="PadChest-GR: a bilingual chest X-ray dataset for grounded radiology report "
    "generation (BIMCV)",
    license="other (BIMCV PadChest-GR data use agreement, research only)",
    homepage="https://bimcv.cipf.es/bimcv-projects/padchest-gr/",
    terms="https://bimcv.cipf.es/bimcv-projects/padchest-gr/",
    credentialed=True,
    redistributable=False,
    citation="de Castro et al., PadChest-GR: A bilingual chest X-ray dataset for grounded "
    "radiology report generation, NEJM AI 2025",
    image_store="the folder holding the PadChest-GR PNGs (<ImageID>.png)",
)
JSON_PATTERN = "grounded_reports_*.json"
MASTER_NAMES = ("master_table.csv", "master_table.csv.zip")
# Where the unzipped Padchest_GR_files archive may have put the PNGs (relative to the
# source root), in the order tried when --image-root is not given.
IMAGE_DIRS = (
    "Padchest_GR_files/PadChest_GR",
    "Padchest_GR_files",
    "PadChest_GR",
    "images_grounding",
    ".",
)
MASTER_COLUMNS = ("StudyID", "ImageID", "split")
BOX_TOLERANCE = 1e-3  # normalised coordinates a hair outside 0..1 are clipped, not dropped


def find_inputs(source_root: Path) -> tuple[Path, Path]:
    reports = sorted(p for p in source_root.rglob(JSON_PATTERN) if p.is_file())
    if not reports:
        raise BuildError(f"{source_root}: no {JSON_PATTERN} found (the PadChest-GR files)")
    for name in MASTER_NAMES:
        found = sorted(p for p in source_root.rglob(name) if p.is_file())
        if found:
            return reports[-1], found[0]  # the newest dated report file
    raise BuildError(f"{source_root}: no master_table.csv (or .csv.zip) found")


def read_master_table(path: Path) -> list[dict]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            name = next((n for n in zf.namelist() if n.endswith(".csv")), None)
            if name is None:
                raise BuildError(f"{path}: no .csv inside")
            text = zf.read(name).decode("utf-8-sig")
    else:
        text = path.read_text(encoding="utf-8-sig")
    return csv_records(text, path, MASTER_COLUMNS)[0]


def default_image_root(source_root: Path, image_ids: list[str]) -> Path:
    for rel in IMAGE_DIRS:
        folder = source_root / rel
        if folder.is_dir() and any((folder / i).is_file() for i in image_ids):
            return folder
    return source_root


def _normalised_box(value) -> list[float] | None:
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    try:
        box = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if any(v < -BOX_TOLERANCE or v > 1 + BOX_TOLERANCE for v in box):
        return None
    return box


def read(source_root: Path, image_root: Path | None) -> ReadResult:
    reports_path, master_path = find_inputs(source_root)
    try:
        studies = json.loads(reports_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BuildError(f"{reports_path}: not valid JSON ({exc})") from None
    if not isinstance(studies, list):
        raise BuildError(f"{reports_path}: expected a list of studies")

    master = read_master_table(master_path)
    by_study: dict[str, dict] = {}
    conflicts: set[str] = set()
    for rec in master:
        sid = rec["StudyID"].strip()
        entry = {"split": rec["split"].strip().lower(), "patient": rec.get("PatientID", "")}
        if by_study.setdefault(sid, entry)["split"] != entry["split"]:
            conflicts.add(sid)

    image_ids = [str(s.get("ImageID", "")) for s in studies if isinstance(s, dict)]
    if image_root is None:
        image_root = default_image_root(source_root, image_ids[:200])
    store = ImageStore(image_root)
    notes: Counter = Counter()
    samples: list[Sample] = []
    skipped: list[Skip] = []
    for index, study in enumerate(studies):
        if not isinstance(study, dict) or not study.get("StudyID") or not study.get("ImageID"):
            skipped.append(Skip(f"study #{index}", "malformed_study", "no StudyID/ImageID"))
            continue
        study_id, image_id = str(study["StudyID"]), str(study["ImageID"])
        findings = study.get("findings") or []
        if study_id not in by_study or study_id in conflicts:
            why = "not in the master table" if study_id not in by_study else "several splits"
            skipped.append(Skip(study_id, "no_split", f"{len(findings)} sentence(s): {why}"))
            continue
        meta = by_study[study_id]
        probe = store.probe(image_id)
        if probe.size is None:
            store.report(image_id, "rows skipped (size unknown: boxes are normalised)")
            why = f"image {probe.problem}: its size is needed to place normalised boxes"
            skipped.extend(
                Skip(f"{study_id}#{i}", "image_unavailable", why) for i in range(len(findings))
            )
            continue
        width, height = probe.size
        size_source = probe.size_source
        for i, finding in enumerate(findings):
            item = f"{study_id}#{i}"
            if not isinstance(finding, dict):
                skipped.append(Skip(item, "malformed_finding", "not an object"))
                continue
            sentence = (finding.get("sentence_en") or "").strip()
            if not sentence:
                sentence = (finding.get("sentence_es") or "").strip()
                if not sentence:
                    skipped.append(Skip(item, "no_sentence", "sentence_en and sentence_es empty"))
                    continue
                notes["queries_in_spanish"] += 1
            labels = [str(v) for v in finding.get("labels") or []]
            raw_boxes = finding.get("boxes") or []
            notes["extra_boxes_ignored"] += len(finding.get("extra_boxes") or [])
            cleanup: list[CleanupStep] = []
            boxes: list[list[float]] = []
            if not finding.get("abnormal", False):
                if raw_boxes:
                    cleanup.append(
                        CleanupStep(
                            stage="negative",
                            removed=[f"box {j}" for j in range(len(raw_boxes))],
                            decided_by="source:abnormal=false",
                            reason="non-abnormal sentences ground to no region",
                        )
                    )
                    notes["boxes_removed_from_non_abnormal"] += len(raw_boxes)
            else:
                pixel_boxes = []
                for j, value in enumerate(raw_boxes):
                    box = _normalised_box(value)
                    if box is None:
                        reason = f"box {j} = {value!r} is not 4 numbers in 0..1"
                        skipped.append(Skip(item, "bad_box", reason))
                        continue
                    pixel_boxes.append(scale_box(box, width, height))
                boxes, dropped = finish_boxes(pixel_boxes, width, height, notes)
                if dropped:
                    skipped.append(Skip(item, "degenerate_box", f"{dropped} zero-area box(es)"))
                if raw_boxes and not boxes:
                    # a zero-box row would claim the finding grounds to nothing
                    reason = "abnormal sentence whose every box is unusable"
                    skipped.append(Skip(item, "no_valid_box", reason))
                    continue
                if not boxes:
                    notes["abnormal_without_boxes"] += 1
            label = "; ".join(labels)
            row = GroundingRow(
                sample_id=stable_hash(NAME, study_id, image_id, i, sentence),
                dataset=NAME,
                image_id=image_id,
                study_id=study_id,
                subject_id=str(meta["patient"]),
                split=meta["split"],
                image_path=image_id,
                image_width=width,
                image_height=height,
                image_size_source=size_source,
                sentence=sentence,
                boxes=boxes,
                box_names=[label] * len(boxes),
                groundable=bool(boxes),
                label=label,
                original_regions=[str(v) for v in finding.get("locations") or []],
                cleanup=cleanup,
            )
            samples.append(Sample(row, probe.path))
    notes["studies"] = len(studies)
    return ReadResult(
        samples=samples,
        skipped=skipped,
        image_issues=list(store.issues.values()),
        inputs={"grounded_reports": reports_path, "master_table": master_path},
        image_root=image_root,
        notes=notes,
    )
