"""MMMU (Yue et al. 2024), Health & Medicine track, as on the Hub (MMMU/MMMU): Parquet.

One folder per subject, ``<Subject>/{dev,validation,test}-00000-of-00001.parquet``; the
track is the five subjects in ``SUBJECTS``. Columns used: ``id``
(``validation_Clinical_Medicine_1``), ``question`` (with ``<image 1>`` placeholders),
``options`` (a Python-literal list as a string, ``"['A', 'B']"``; ``"[]"`` for open
questions), ``image_1`` … ``image_7`` (HF Image structs: ``bytes`` + ``path``),
``img_type``, ``answer`` (the option letter; the text for open questions; hidden in
``test``), ``question_type`` (``multiple-choice`` / ``open``) and ``subfield``. Paper 001
reports the validation split (150 questions, as in HuatuoGPT-Vision's evaluation data), the
default here. ``VQARow`` holds one image: questions with more than one are skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pyarrow.parquet as pq

from medbench.builders.vqa.layout import search_bases
from medbench.builders.vqa.records import (
    InputMissing,
    RawQuestion,
    ReadError,
    ReadResult,
    Skip,
    clean_text,
)

BENCHMARK = "mmmu-med"
DEFAULT_SPLIT = "validation"
FOLDERS = ("mmmu-med", "mmmu", "MMMU")
SUBJECTS = (
    "Basic_Medical_Science",
    "Clinical_Medicine",
    "Diagnostics_and_Laboratory_Medicine",
    "Pharmacy",
    "Public_Health",
)
SPLITS = ("dev", "validation", "test")
IMAGE_COLUMNS = tuple(f"image_{i}" for i in range(1, 8))
LETTERS = "ABCDEFGHIJ"


def locate(root: Path) -> Path | None:
    """The folder holding the subject folders (the dataset repository's root)."""
    for base in search_bases(root, FOLDERS):
        for candidate in (base, base / "MMMU"):
            if any((candidate / s).is_dir() for s in SUBJECTS):
                return candidate
    return None


def parse_list(text: object) -> list:
    """``"['a', 'b']"`` → ``['a', 'b']`` (MMMU stores lists as Python literals)."""
    if isinstance(text, list):
        return text
    value = ast.literal_eval(str(text)) if str(text).strip() else []
    if not isinstance(value, list):
        raise ValueError(f"not a list: {text!r}")
    return value


def read(root: Path, split: str, languages: tuple[str, ...] = ("en",)) -> ReadResult:
    if split not in SPLITS:
        raise ReadError(f"MMMU has splits {list(SPLITS)}, not {split!r}")
    repo = locate(root)
    if repo is None:
        raise InputMissing(f"MMMU: none of the folders {', '.join(SUBJECTS)} under {root}")
    files = []
    for subject in SUBJECTS:
        files += sorted((repo / subject).glob(f"{split}-*.parquet"), key=lambda p: p.name)
    if not files:
        raise ReadError(f"MMMU: no {split}-*.parquet in the Health & Medicine subject folders")
    result = ReadResult([], [], files, "native")
    for path in files:
        subject = path.parent.name
        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as exc:
            result.skipped.append(Skip(f"{subject}/{path.name}", f"cannot read: {exc}"))
            continue
        for position, record in enumerate(table.to_pylist()):
            raw = _question(record, subject, position)
            if isinstance(raw, Skip):
                result.skipped.append(raw)
            else:
                result.questions.append(raw)
    return result


def _question(record: dict, subject: str, position: int) -> RawQuestion | Skip:
    source_id = str(record.get("id") or f"{subject}#{position}")
    images = [(c, record.get(c)) for c in IMAGE_COLUMNS if record.get(c)]
    images = [(c, v) for c, v in images if isinstance(v, dict) and v.get("bytes")]
    if not images:
        return Skip(source_id, "question has no image")
    if len(images) > 1:
        names = ", ".join(c for c, _ in images)
        return Skip(source_id, f"question has {len(images)} images ({names}); VQARow holds one")
    column, image = images[0]
    try:
        options = [str(o) for o in parse_list(record.get("options", "[]"))]
    except (ValueError, SyntaxError) as exc:
        return Skip(source_id, f"options are not a list literal: {exc}")
    answer = clean_text(record.get("answer") or "")
    if not answer or answer == "?":
        return Skip(source_id, "answer is hidden or missing")
    kind = clean_text(record.get("question_type", "")).lower()
    answer_index = None
    if options:
        if len(answer) != 1 or answer.upper() not in LETTERS[: len(options)]:
            return Skip(source_id, f"answer {answer!r} is not a letter of {len(options)} options")
        answer_index = LETTERS.index(answer.upper())
        answer = options[answer_index]
    try:
        img_type = "; ".join(clean_text(t) for t in parse_list(record.get("img_type", "[]")))
    except (ValueError, SyntaxError):
        img_type = clean_text(record.get("img_type", ""))
    return RawQuestion(
        source_id=source_id,
        question=str(record.get("question") or ""),
        answer=answer,
        image_name=str(image.get("path") or f"{source_id}/{column}"),
        image_bytes=image["bytes"],
        label="closed" if options or kind == "multiple-choice" else "open",
        options=tuple(options),
        answer_index=answer_index,
        question_type=clean_text(record.get("subfield", "")),
        modality=img_type,
        subset=subject,
    )
