"""MMMU (Yue et al. 2024), Health & Medicine track, as on the Hub (MMMU/MMMU): Parquet.

One folder per subject, ``<Subject>/{dev,validation,test}-00000-of-00001.parquet``; the
track is the five subjects in ``SUBJECTS``. Columns used: ``id``
(``validation_Clinical_Medicine_1``), ``question`` (with ``<image 1>`` placeholders),
``options`` (a Python-literal list as a string, ``"['A', 'B']"``; ``"[]"`` for open
questions), ``image_1`` … ``image_7`` (HF Image structs: ``bytes`` + ``path``),
``img_type``, ``answer`` (the option letter; the text for open questions; hidden in
``test``), ``question_type`` (``multiple-choice`` / ``open``) and ``subfield``. Paper 001
reports the validation split (150 questions, as in HuatuoGPT-Vision's evaluation data), the
default here.

A question's images are ``image_1``, ``image_2``, ... in column order: the row's ``image``
and then ``extra_images``, so the placeholder ``<image k>`` in the question or an option is
image k of the row. That holds only when the images fill ``image_1`` … ``image_n`` without a
gap and every placeholder names one of them; a question that breaks either is skipped with
the reason (its placeholders could not be mapped).
"""

from __future__ import annotations

import ast
import re
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq

from medbench.builders.vqa.layout import search_bases
from medbench.builders.vqa.records import (
    InputMissing,
    Outcome,
    RawImage,
    RawQuestion,
    ReadError,
    ReadResult,
    Skip,
    add_records,
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
_PLACEHOLDER = re.compile(r"<image (\d+)>")


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
        add_records(result, table.to_pylist(), partial(_question, subject=subject))
    return result


def _question(record: dict, position: int, subject: str) -> Outcome:
    source_id = str(record.get("id") or f"{subject}#{position}")
    images = [(c, record.get(c)) for c in IMAGE_COLUMNS if record.get(c)]
    images = [(c, v) for c, v in images if isinstance(v, dict) and v.get("bytes")]
    if not images:
        return Skip(source_id, "question has no image")
    columns = [c for c, _ in images]
    if columns != list(IMAGE_COLUMNS[: len(images)]):
        # <image k> is the k-th image of the row only when image_1..image_n are all there
        wanted = f"image_1..image_{len(images)}"
        return Skip(source_id, f"images in {', '.join(columns)}, not {wanted}: <image k> unmapped")
    try:
        options = [str(o) for o in parse_list(record.get("options", "[]"))]
    except (ValueError, SyntaxError) as exc:
        return Skip(source_id, f"options are not a list literal: {exc}")
    text = " ".join([str(record.get("question") or ""), *options])
    unknown = sorted({int(k) for k in _PLACEHOLDER.findall(text)} - set(range(1, len(images) + 1)))
    if unknown:
        return Skip(source_id, f"<image {unknown[0]}> names none of its {len(images)} image(s)")
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
    first, *extra = (
        RawImage(str(image.get("path") or f"{source_id}/{column}"), data=image["bytes"])
        for column, image in images
    )
    return RawQuestion(
        source_id=source_id,
        question=str(record.get("question") or ""),
        answer=answer,
        image_name=first.name,
        image_bytes=first.data,
        extra_images=tuple(extra),
        label="closed" if options or kind == "multiple-choice" else "open",
        options=tuple(options),
        answer_index=answer_index,
        question_type=clean_text(record.get("subfield", "")),
        modality=img_type,
        subset=subject,
    )
