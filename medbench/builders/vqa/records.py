"""What a benchmark reader hands the builder, and the rules that turn it into a ``VQARow``.

A reader returns each question as the benchmark states it (``RawQuestion``): its own id,
text, answer, closed/open label where it has one, options where it has them, and where the
image is. Records it cannot read become ``Skip`` lines naming the record. ``finalize`` then
applies the same rules to every benchmark:

- text is normalised for whitespace only (runs of blanks → one space, ends stripped);
- a yes/no answer ("Yes", "yes.", " NO ") becomes ``yes`` / ``no``;
- options that are exactly yes and no (any order, case, trailing full stop) become
  ``["yes", "no"]``, the answer index following the answer;
- other options keep their prompt order (A, B, C, ...), ``answer_index`` into them;
- a question the benchmark labels closed whose answer is yes/no gets ``["yes", "no"]``;
  one labelled closed with another answer ("left", "Lung") stays closed with no options,
  because the benchmark ships none and medbench does not invent them;
- a benchmark without a closed/open label (PathVQA's question-only pickle) is closed when
  the answer is yes/no, open otherwise.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

YES_NO = ("yes", "no")
_TRAILING = re.compile(r"[\s.!。！]+$")
_NATURAL = re.compile(r"(\d+)")


class ReadError(Exception):
    """A benchmark's files are missing or not in the published format (one-line message)."""


class InputMissing(ReadError):
    """The benchmark's files are not under the source root at all."""


@dataclass(frozen=True)
class RawImage:
    """One image of a question: a file, or bytes in hand."""

    name: str
    path: Path | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class RawQuestion:
    """One question as its benchmark ships it; the image is a file or bytes in hand. A
    question about several images (MMMU) lists the second and later in ``extra_images``."""

    source_id: str
    question: str
    answer: str
    image_name: str
    image_path: Path | None = None
    image_bytes: bytes | None = None
    label: str = ""  # the benchmark's own closed/open label: "closed", "open" or "" (none)
    options: tuple[str, ...] = ()
    answer_index: int | None = None
    question_type: str = ""
    modality: str = ""
    body_part: str = ""
    subset: str = ""
    language: str = "en"
    extra_images: tuple[RawImage, ...] = ()

    @property
    def images(self) -> tuple[RawImage, ...]:
        """Every image of the question, in order (the first is ``image_*``)."""
        first = RawImage(self.image_name, self.image_path, self.image_bytes)
        return (first, *self.extra_images)


@dataclass(frozen=True)
class Skip:
    """A record left out, and why (one line; the record id is in ``source_id``)."""

    source_id: str
    reason: str

    def line(self, benchmark: str, split: str) -> str:
        return f"{benchmark} {split} {self.source_id}: {self.reason}"


@dataclass(frozen=True)
class Excluded:
    """A record present but deliberately not built (another split, another language); counted
    under ``reason``, never listed as skipped."""

    reason: str


Outcome = RawQuestion | Skip | Excluded


@dataclass
class ReadResult:
    """What a reader found for one benchmark and split."""

    questions: list[RawQuestion]
    skipped: list[Skip]
    input_files: list[Path]  # the annotation files read (not the images)
    input_kind: str  # "native" or "huatuo"
    # records present but deliberately not built (other language, other split, ...)
    excluded: Counter[str] = field(default_factory=Counter)
    # facts worth recording that are not errors (e.g. label/text disagreements)
    notes: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        """File one record's outcome: a question, a skip, or an exclusion count."""
        if isinstance(outcome, Skip):
            self.skipped.append(outcome)
        elif isinstance(outcome, Excluded):
            self.excluded[outcome.reason] += 1
        else:
            self.questions.append(outcome)


Convert = Callable[[dict, int], Outcome]


def add_records(
    result: ReadResult,
    records: Iterable[object],
    convert: Convert,
    *,
    id_prefix: str = "",
    not_a_record: str = "record is not a JSON object",
) -> None:
    """Run ``convert(record, position)`` over a benchmark file's records and file each outcome
    in ``result``. Every reader shares this loop; what differs is ``convert`` (its own field
    names). An entry that is not a mapping is skipped as ``<id_prefix>#<position>``."""
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            result.add(Skip(f"{id_prefix}#{position}", not_a_record))
        else:
            result.add(convert(record, position))


def load_json_list(path: Path, name: str = "") -> list:
    """The JSON list of question records in ``path``; a ReadError (prefixed ``<name>: ``)
    when the file cannot be read or holds something else."""
    prefix = f"{name}: " if name else ""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReadError(f"{prefix}cannot read {path}: {exc}") from None
    if not isinstance(records, list):
        raise ReadError(f"{prefix}{path} is not a JSON list of questions")
    return records


def missing_fields(record: Mapping, keys: Sequence[str], source_id: str) -> Skip | None:
    """A skip naming the ``keys`` whose value is absent or null, or None when all are there."""
    missing = [k for k in keys if record.get(k) is None]
    return Skip(source_id, f"record has no {', '.join(missing)}") if missing else None


@dataclass(frozen=True)
class Finalized:
    question: str
    options: list[str]
    answer: str
    answer_index: int | None
    answer_type: str  # "closed" | "open"


def clean_text(value: object) -> str:
    """Whitespace-only normalisation: runs of blanks become one space, ends stripped."""
    return " ".join(str(value).split())


def yes_no(value: object) -> str | None:
    """``yes`` / ``no`` when the text is one of them (any case, trailing full stop), else None."""
    text = _TRAILING.sub("", clean_text(value)).casefold()
    return text if text in YES_NO else None


def natural_key(source_id: str) -> tuple:
    """Sort key that puts "q2" before "q10" (numeric runs compare as numbers)."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _NATURAL.split(source_id)
        if part != ""
    )


def finalize(raw: RawQuestion) -> Finalized | str:
    """The row's question, options, answer and type; a string is the reason it cannot be."""
    question = raw.question.strip()
    answer = clean_text(raw.answer)
    if not question:
        return "empty question"
    if not answer:
        return "empty answer"
    options = [clean_text(o) for o in raw.options]
    if options:
        if any(not o for o in options):
            return f"empty option among {options}"
        if len(options) == 2 and {yes_no(o) for o in options} == set(YES_NO):
            # the two options are yes and no: the canonical pair, whatever order shipped
            if raw.answer_index is not None:
                picked = yes_no(options[raw.answer_index])
            else:
                picked = yes_no(answer)
            if picked is None:
                return f"answer {answer!r} is not one of the options yes/no"
            return Finalized(question, list(YES_NO), picked, YES_NO.index(picked), "closed")
        index = raw.answer_index
        if index is None:
            folded = [o.casefold() for o in options]
            if answer.casefold() not in folded:
                return f"answer {answer!r} is not among the options {options}"
            index = folded.index(answer.casefold())
        if not 0 <= index < len(options):
            return f"answer index {index} outside {len(options)} options"
        return Finalized(question, options, options[index], index, "closed")
    word = yes_no(answer)
    if raw.label == "closed" or (raw.label == "" and word is not None):
        if word is not None:
            return Finalized(question, list(YES_NO), word, YES_NO.index(word), "closed")
        return Finalized(question, [], answer, None, "closed")
    return Finalized(question, [], answer, None, "open")
