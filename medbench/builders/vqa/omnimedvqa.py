"""OmniMedVQA (Hu et al. 2024), open-access part: ``OmniMedVQA/QA_information/Open-access/``.

One JSON file per source dataset (``Chest CT Scan.json``, ...), each a list of question
records: ``dataset``, ``question_id``, ``question_type`` (Disease Diagnosis, Anatomy
Identification, Modality Recognition, ...), ``question``, ``gt_answer`` (the option text),
``option_A`` … ``option_D`` (only as many as the question has), ``image_path`` (relative
to the ``OmniMedVQA`` folder, ``Images/<dataset>/...``) and ``modality_type`` (one file
spells it ``modality``). Paper 001 evaluates the open-access part only; the
restricted-access part ships paths into the original datasets, not images, and is not read.
The benchmark has no splits: its questions are built as split ``test``.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from medbench.builders.vqa.layout import find_path
from medbench.builders.vqa.records import (
    InputMissing,
    Outcome,
    RawQuestion,
    ReadError,
    ReadResult,
    Skip,
    add_records,
    clean_text,
    missing_fields,
)

BENCHMARK = "omnimedvqa"
DEFAULT_SPLIT = "test"
FOLDERS = ("omnimedvqa", "OmniMedVQA")
QA_DIR = "QA_information/Open-access"
LETTERS = "ABCDEFGH"


def locate(root: Path) -> Path | None:
    return find_path(root, FOLDERS, (QA_DIR, f"OmniMedVQA/{QA_DIR}"), want_dir=True)


def read(root: Path, split: str, languages: tuple[str, ...] = ("en",)) -> ReadResult:
    if split != "test":
        raise ReadError(f"OmniMedVQA has no splits; its questions build as 'test', not {split!r}")
    qa_dir = locate(root)
    if qa_dir is None:
        raise InputMissing(f"OmniMedVQA: no {QA_DIR} folder under {root}")
    base = qa_dir.parent.parent  # image_path is relative to the OmniMedVQA folder
    files = sorted(qa_dir.glob("*.json"), key=lambda p: p.name)
    if not files:
        raise ReadError(f"OmniMedVQA: no .json files in {qa_dir}")
    result = ReadResult([], [], files, "native")
    for path in files:
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            result.skipped.append(Skip(path.name, f"cannot read the file: {exc}"))
            continue
        if not isinstance(records, list):
            result.skipped.append(Skip(path.name, "file is not a JSON list of questions"))
            continue
        convert = partial(_question, stem=path.stem, base=base)
        add_records(result, records, convert, id_prefix=path.stem)
    return result


def _question(record: dict, position: int, stem: str, base: Path) -> Outcome:
    qid = record.get("question_id")
    source_id = str(qid) if qid is not None else f"{stem}#{position}"
    if skip := missing_fields(record, ("question", "gt_answer", "image_path"), source_id):
        return skip
    options = []
    for letter in LETTERS:
        value = record.get(f"option_{letter}")
        if value is None:
            break
        options.append(str(value))
    if len(options) < 2:
        return Skip(source_id, f"only {len(options)} option(s) in the record")
    image = str(record["image_path"])
    return RawQuestion(
        source_id=source_id,
        question=str(record["question"]),
        answer=str(record["gt_answer"]),
        image_name=image,
        image_path=base / image,
        label="closed",
        options=tuple(options),
        question_type=clean_text(record.get("question_type", "")),
        modality=clean_text(record.get("modality_type", record.get("modality", ""))),
        subset=clean_text(record.get("dataset", stem)),
    )
