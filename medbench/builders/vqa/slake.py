"""SLAKE 1.0 (Liu et al. 2021): ``Slake1.0/{train,validate,test}.json`` + ``imgs/xmlab<N>/``.

Each split file is one list of question records. Fields used: ``qid``, ``img_name``
(``xmlab102/source.jpg``, relative to ``imgs/``), ``question``, ``answer``, ``q_lang``
(``en`` / ``zh``: the release is bilingual), ``answer_type`` (``OPEN`` / ``CLOSED``),
``content_type`` (Modality, Organ, Position, Abnormality, ...), ``modality`` and
``location`` (the body region). The Hugging Face copy (BoKelvin/SLAKE) renamed
``validate.json`` to ``validation.json``; both are read.
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

BENCHMARK = "slake"
DEFAULT_SPLIT = "test"
FOLDERS = ("slake", "SLAKE", "Slake", "Slake1.0")
SPLIT_FILES = {
    "test": ("test.json",),
    "validation": ("validate.json", "validation.json"),
    "train": ("train.json",),
}
SPLIT_ALIASES = {"validate": "validation", "val": "validation"}


def locate(root: Path, split: str = DEFAULT_SPLIT) -> Path | None:
    names = SPLIT_FILES.get(SPLIT_ALIASES.get(split, split), ())
    rels = [n for n in names] + [f"Slake1.0/{n}" for n in names]
    found = find_path(root, FOLDERS, rels)
    # a test.json alone could be anyone's: SLAKE's sits next to imgs/
    return found if found is not None and (found.parent / "imgs").is_dir() else None


def read(root: Path, split: str, languages: tuple[str, ...] = ("en",)) -> ReadResult:
    canonical = SPLIT_ALIASES.get(split, split)
    if canonical not in SPLIT_FILES:
        raise ReadError(f"SLAKE has splits {sorted(SPLIT_FILES)}, not {split!r}")
    questions_file = locate(root, canonical)
    if questions_file is None:
        names = " or ".join(SPLIT_FILES[canonical])
        raise InputMissing(f"SLAKE: no {names} next to an imgs/ folder under {root}")
    try:
        records = json.loads(questions_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReadError(f"SLAKE: cannot read {questions_file}: {exc}") from None
    if not isinstance(records, list):
        raise ReadError(f"SLAKE: {questions_file} is not a JSON list of questions")
    image_dir = questions_file.parent / "imgs"
    result = ReadResult([], [], [questions_file], "native")
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            result.skipped.append(Skip(f"#{position}", "record is not a JSON object"))
            continue
        source_id = str(record.get("qid", f"#{position}"))
        language = str(record.get("q_lang", "")).strip().lower() or "en"
        if language not in languages:
            result.excluded[f"language {language}"] += 1
            continue
        missing = [k for k in ("img_name", "question", "answer") if record.get(k) is None]
        if missing:
            result.skipped.append(Skip(source_id, f"record has no {', '.join(missing)}"))
            continue
        label = str(record.get("answer_type", "")).strip().lower()
        result.questions.append(
            RawQuestion(
                source_id=source_id,
                question=str(record["question"]),
                answer=str(record["answer"]),
                image_name=str(record["img_name"]),
                image_path=image_dir / str(record["img_name"]),
                label=label if label in ("closed", "open") else "",
                question_type=clean_text(record.get("content_type", "")),
                modality=clean_text(record.get("modality", "")),
                body_part=clean_text(record.get("location", "")),
                language=language,
            )
        )
    return result
