"""VQA-RAD (Lau et al. 2018), as released on OSF: ``VQA_RAD Dataset Public.json`` + images.

The JSON is one list of question records. Fields used: ``qid``, ``image_name`` (a file in
``VQA_RAD Image Folder/``), ``question``, ``answer`` (a string, sometimes a JSON number),
``answer_type`` (``CLOSED`` / ``OPEN``), ``question_type`` (``PRES``, ``MODALITY``, ...),
``image_organ`` (``CHEST``, ``HEAD``, ``ABD``) and ``phrase_type``: the test set is the
``test_freeform`` + ``test_para`` questions, the train set ``freeform`` + ``para``; other
phrase types (templated variants) belong to neither and are counted as excluded.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from medbench.builders.vqa.layout import find_path
from medbench.builders.vqa.records import (
    Excluded,
    InputMissing,
    Outcome,
    RawQuestion,
    ReadError,
    ReadResult,
    add_records,
    clean_text,
    load_json_list,
    missing_fields,
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
    records = load_json_list(annotations, "VQA-RAD")
    image_dir = annotations.parent / IMAGE_FOLDER
    if not image_dir.is_dir():
        image_dir = annotations.parent
    result = ReadResult([], [], [annotations], "native")
    convert = partial(_question, wanted=PHRASE_TYPES[split], image_dir=image_dir)
    add_records(result, records, convert)
    return result


def _question(record: dict, position: int, wanted: tuple[str, ...], image_dir: Path) -> Outcome:
    source_id = str(record.get("qid", f"#{position}"))
    phrase_type = str(record.get("phrase_type", ""))
    if phrase_type not in wanted:
        return Excluded(f"phrase_type {phrase_type or '(none)'}")
    if skip := missing_fields(record, ("image_name", "question", "answer"), source_id):
        return skip
    label = str(record.get("answer_type", "")).strip().lower()
    return RawQuestion(
        source_id=source_id,
        question=str(record["question"]),
        answer=str(record["answer"]),
        image_name=str(record["image_name"]),
        image_path=image_dir / str(record["image_name"]),
        label=label if label in ("closed", "open") else "",
        question_type=clean_text(record.get("question_type", "")),
        body_part=clean_text(record.get("image_organ", "")),
    )
