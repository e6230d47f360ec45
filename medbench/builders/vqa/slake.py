"""SLAKE 1.0 (Liu et al. 2021): ``Slake1.0/{train,validate,test}.json`` + ``imgs/xmlab<N>/``.

Each split file is one list of question records. Fields used: ``qid``, ``img_name``
(``xmlab102/source.jpg``, relative to ``imgs/``), ``question``, ``answer``, ``q_lang``
(``en`` / ``zh``: the release is bilingual), ``answer_type`` (``OPEN`` / ``CLOSED``),
``content_type`` (Modality, Organ, Position, Abnormality, ...), ``modality`` and
``location`` (the body region). The Hugging Face copy (BoKelvin/SLAKE) renamed
``validate.json`` to ``validation.json``; both are read.
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
    records = load_json_list(questions_file, "SLAKE")
    result = ReadResult([], [], [questions_file], "native")
    convert = partial(_question, languages=languages, image_dir=questions_file.parent / "imgs")
    add_records(result, records, convert)
    return result


def _question(record: dict, position: int, languages: tuple[str, ...], image_dir: Path) -> Outcome:
    source_id = str(record.get("qid", f"#{position}"))
    language = str(record.get("q_lang", "")).strip().lower() or "en"
    if language not in languages:
        return Excluded(f"language {language}")
    if skip := missing_fields(record, ("img_name", "question", "answer"), source_id):
        return skip
    label = str(record.get("answer_type", "")).strip().lower()
    return RawQuestion(
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
