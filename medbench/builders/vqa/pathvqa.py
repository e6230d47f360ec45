"""PathVQA (He et al. 2020), as released on Google Drive: ``pvqa/qas`` pickles + ``pvqa/images``.

Two question files per split ship, both Python pickles of a list of dicts:

- ``qas/<split>_vqa.pkl`` (the LXMERT-style file): ``img_id`` (``test_0001``),
  ``question_id``, ``sent`` (the question), ``label`` ({answer: score}) and
  ``answer_type`` (``yes/no`` for the closed questions);
- ``qas/<split>/<split>_qa.pkl``: ``image``, ``question``, ``answer``, with no id and no
  type (closed is then decided by the answer being yes/no; ids are the list positions).

The first is preferred. Images are ``images/<split>/<img_id>.jpg``; splits are train,
val, test. Pickles are loaded with an unpickler that only builds plain containers,
strings and numbers, so a tampered file cannot run code.
"""

from __future__ import annotations

import io
import pickle
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
    missing_fields,
)

BENCHMARK = "pathvqa"
DEFAULT_SPLIT = "test"
FOLDERS = ("pathvqa", "PathVQA", "path-vqa")
SPLITS = ("train", "val", "test")
SPLIT_ALIASES = {"validation": "val"}


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset pickle")


def load_plain_pickle(path: Path) -> object:
    return _PlainUnpickler(io.BytesIO(path.read_bytes())).load()


def locate(root: Path) -> Path | None:
    """The ``pvqa`` folder (holding ``qas/`` and ``images/``)."""
    return find_path(root, FOLDERS, ("pvqa/qas", "qas"), want_dir=True)


def read(root: Path, split: str, languages: tuple[str, ...] = ("en",)) -> ReadResult:
    split = SPLIT_ALIASES.get(split, split)
    if split not in SPLITS:
        raise ReadError(f"PathVQA has splits {list(SPLITS)}, not {split!r}")
    qas = locate(root)
    if qas is None:
        raise InputMissing(f"PathVQA: no pvqa/qas folder under {root}")
    pvqa = qas.parent
    image_dir = pvqa / "images" / split
    vqa_file = qas / f"{split}_vqa.pkl"
    qa_file = qas / split / f"{split}_qa.pkl"
    chosen = vqa_file if vqa_file.is_file() else qa_file
    if not chosen.is_file():
        raise ReadError(f"PathVQA: neither {vqa_file.name} nor {split}/{qa_file.name} in {qas}")
    try:
        records = load_plain_pickle(chosen)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ReadError(f"PathVQA: cannot read {chosen}: {exc}") from None
    if not isinstance(records, list):
        raise ReadError(f"PathVQA: {chosen} does not hold a list of questions")
    result = ReadResult([], [], [chosen], "native")
    convert = _from_vqa if chosen is vqa_file else _from_qa
    add_records(
        result, records, partial(convert, image_dir=image_dir), not_a_record="record is not a dict"
    )
    return result


def _row(
    source_id: str, image: str, question: str, answer: str, label: str, image_dir: Path
) -> RawQuestion:
    return RawQuestion(
        source_id=source_id,
        question=question,
        answer=answer,
        image_name=f"{image}.jpg",
        image_path=image_dir / f"{image}.jpg",
        label=label,
    )


def _from_vqa(record: dict, position: int, image_dir: Path) -> Outcome:
    source_id = str(record.get("question_id", f"#{position}"))
    label = record.get("label")
    if not isinstance(label, dict) or not label:
        return Skip(source_id, "record has no answer (empty 'label')")
    if record.get("img_id") is None or record.get("sent") is None:
        return Skip(source_id, "record has no img_id or sent")
    answer = max(label, key=lambda a: (label[a], str(a)))  # the top-scored answer
    kind = str(record.get("answer_type", "")).strip().lower()
    closed = "closed" if kind == "yes/no" else ("open" if kind else "")
    image, question = str(record["img_id"]), str(record["sent"])
    return _row(source_id, image, question, str(answer), closed, image_dir)


def _from_qa(record: dict, position: int, image_dir: Path) -> Outcome:
    source_id = f"#{position}"
    if skip := missing_fields(record, ("image", "question", "answer"), source_id):
        return skip
    image, question, answer = (str(record[k]) for k in ("image", "question", "answer"))
    return _row(source_id, image, question, answer, "", image_dir)
