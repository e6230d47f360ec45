"""PMC-VQA (Zhang et al. 2023), as on the Hub (xmcmic/PMC-VQA): CSV metafiles + ``images.zip``.

Metafiles ``train.csv``, ``test.csv`` and ``test_clean.csv`` (the 2,000-question cleaned
test set); columns ``Figure_path`` (an image file name), ``Question``, ``Answer`` (spelt
``Anwser`` in the first release), ``Choice A`` … ``Choice D`` (each prefixed with its
letter, ``A:Diffuse uptake pattern``, sometimes with a leading space) and ``Answer_label``
(the letter). Split ``test`` reads ``test_clean.csv`` when present, else ``test.csv``; any
other split name reads ``<split>.csv``. Rows carry no id: the source id is the 0-based data
row number in the CSV. Images are looked up in ``images/``, ``figures/``, then next to the
CSV. The answer is the option ``Answer_label`` names; when the ``Answer`` text differs it
is counted in the manifest's notes.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
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
)

BENCHMARK = "pmc-vqa"
DEFAULT_SPLIT = "test"
FOLDERS = ("pmc-vqa", "PMC-VQA", "pmc_vqa")
LETTERS = "ABCD"
IMAGE_DIRS = ("images", "figures", "images_2", ".")
_PREFIX = re.compile(r"^\s*([A-Da-d])\s*[:：]\s*")


def csv_names(split: str) -> tuple[str, ...]:
    return ("test_clean.csv", "test.csv") if split == "test" else (f"{split}.csv",)


def locate(root: Path, split: str = DEFAULT_SPLIT) -> Path | None:
    for name in csv_names(split):
        found = find_path(root, FOLDERS, (name,))
        if found is not None:
            return found
    return None


def strip_letter(text: str, letter: str) -> str:
    """``"B:Focal uptake"`` → ``"Focal uptake"`` when the prefix is the option's own letter."""
    match = _PREFIX.match(text)
    if match and match.group(1).upper() == letter:
        return text[match.end() :]
    return text


def read(root: Path, split: str, languages: tuple[str, ...] = ("en",)) -> ReadResult:
    metafile = locate(root, split)
    if metafile is None:
        raise InputMissing(f"PMC-VQA: no {' or '.join(csv_names(split))} under {root}")
    image_dirs = [metafile.parent / d for d in IMAGE_DIRS if (metafile.parent / d).is_dir()]
    try:
        with open(metafile, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise ReadError(f"PMC-VQA: cannot read {metafile}: {exc}") from None
    result = ReadResult([], [], [metafile], "native")
    convert = partial(_question, image_dirs=image_dirs, metafile=metafile, notes=result.notes)
    add_records(result, rows, convert)
    return result


def _question(
    row: dict, number: int, image_dirs: list[Path], metafile: Path, notes: Counter[str]
) -> Outcome:
    source_id = str(number)
    answer_text = row.get("Answer", row.get("Anwser"))
    label = clean_text(row.get("Answer_label", row.get("Anwser_label", "")) or "").upper()
    figure = clean_text(row.get("Figure_path") or "")
    question = row.get("Question")
    if not figure or question is None:
        return Skip(source_id, "row has no Figure_path or Question")
    options = []
    for letter in LETTERS:
        value = row.get(f"Choice {letter}")
        if value is None or not clean_text(value):
            break  # options are consecutive from A
        options.append(clean_text(strip_letter(value, letter)))
    if len(options) < 2:
        return Skip(source_id, f"only {len(options)} choice(s) in the row")
    answer_index = LETTERS.index(label) if len(label) == 1 and label in LETTERS else None
    if answer_index is not None and answer_index >= len(options):
        answer_index = None
    answer = clean_text(_strip_any_letter(answer_text or ""))
    if answer_index is None and not answer:
        return Skip(source_id, "row has no Answer_label and no Answer")
    if answer_index is not None:
        if answer and answer.casefold() != options[answer_index].casefold():
            notes["Answer text differs from the option Answer_label names"] += 1
        answer = options[answer_index]
    # a missing image is reported by the builder, at the first folder it would sit in
    fallback = (image_dirs[0] if image_dirs else metafile.parent) / figure
    path = next((d / figure for d in image_dirs if (d / figure).is_file()), fallback)
    return RawQuestion(
        source_id=source_id,
        question=question,
        answer=answer,
        image_name=figure,
        image_path=path,
        label="closed",
        options=tuple(options),
        answer_index=answer_index,
    )


def _strip_any_letter(text: str) -> str:
    match = _PREFIX.match(text)
    return text[match.end() :] if match else text
