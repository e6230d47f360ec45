"""VQA-RAD (Lau et al. 2018), as released on OSF: ``VQA_RAD Dataset Public.json`` + images.

The JSON is one list of question records. Fields used: ``qid``, ``image_name`` (a file in
``VQA_RAD Image Folder/``), ``question``, ``answer`` (a string, sometimes a JSON number),
``answer_type`` (``CLOSED`` / ``OPEN``), ``question_type`` (``PRES``, ``MODALITY``, ...),
``image_organ`` (``CHEST``, ``HEAD``, ``ABD``) and ``phrase_type``: the test set is the
``test_freeform`` + ``test_para`` questions, the train set ``freeform`` + ``para``; other
phrase types (templated variants) belong to neither and are counted as excluded.
"""

from __future__ import annotations

import json
from pathlib import Path

from medbench.builders.vqa.layout import find_path
from medbench.builders.vqa.records import (
    InputMissing,
    RawQuestion,
    ReadError,
    ReadResult,
    Skip,
    clean_text,
)

BENCHMARK = "vqa-rad"
DEFAULT_SPLIT = "test"
ANNOTATIONS = "VQA_RAD Dataset Public.json"
IMAGE_FOLDER = "VQA_RAD Image Folder"
FOLDERS = ("vqa-rad", "VQA_RAD", "vqa_rad", "VQA-RAD")
PHRASE_TYPES = {"test": ("test_freeform", "test_para"), "train": ("freeform", "para")}


def locate(root: Path) -> Path | None:
    return find_path(root, FOLDERS, (ANNOTATIONS, f"osfstorage-archive/{ANNOTATIONS}"))


def read(root: Path, split: str, languages: tuple[str, ...] = ("en",)) -> ReadResult:
    annotations = locate(root)
    if annotations is None:
        raise InputMissing(f"VQA-RAD: no '{ANNOTATIONS}' under {root}")
    if split not in PHRASE_TYPES:
        raise ReadError(f"VQA-RAD has splits {sorted(PHRASE_TYPES)}, not {split!r}")
    try:
        records = json.loads(annotations.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReadError(f"VQA-RAD: cannot read {annotations}: {exc}") from None
    if not isinstance(records, list):
        raise ReadError(f"VQA-RAD: {annotations} is not a JSON list of questions")
    image_dir = annotations.parent / IMAGE_FOLDER
    if not image_dir.is_dir():
        image_dir = annotations.parent
    result = ReadResult([], [], [annotations], "native")
    wanted = PHRASE_TYPES[split]
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            result.skipped.append(Skip(f"#{position}", "record is not a JSON object"))
            continue
        source_id = str(record.get("qid", f"#{position}"))
        phrase_type = str(record.get("phrase_type", ""))
        if phrase_type not in wanted:
            result.excluded[f"phrase_type {phrase_type or '(none)'}"] += 1
            continue
        missing = [k for k in ("image_name", "question", "answer") if record.get(k) is None]
        if missing:
            result.skipped.append(Skip(source_id, f"record has no {', '.join(missing)}"))
            continue
        label = str(record.get("answer_type", "")).strip().lower()
        result.questions.append(
            RawQuestion(
                source_id=source_id,
                question=str(record["question"]),
                answer=str(record["answer"]),
                image_name=str(record["image_name"]),
                image_path=image_dir / str(record["image_name"]),
                label=label if label in ("closed", "open") else "",
                question_type=clean_text(record.get("question_type", "")),
                body_part=clean_text(record.get("image_organ", "")),
            )
        )
    return result
