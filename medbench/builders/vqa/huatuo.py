"""HuatuoGPT-Vision's combined evaluation data: one JSON + ``images/`` for six benchmarks.

``FreedomIntelligence/Medical_Multimodal_Evaluation_Data`` ships
``medical_multimodel_evaluation_data.json`` (sic) and ``images.zip``. The JSON is one list;
the fields HuatuoGPT-Vision's ``eval.py`` / ``scorer.py`` read are ``question``,
``options`` (a list, or its Python-literal string), ``answer`` (the option's text; ``?``
when unknown), ``image`` (a list of paths relative to the JSON's folder, ``images/...``),
``dataset`` (``VQA-RAD_test``, ``SLAKE_test``, ``PathVQA_test``, ``PMC-VQA_test``,
``OmniMedVQA``, ``MMMU_Medical_Validation``), ``subset`` (OmniMedVQA: the modality; MMMU:
the subject) and, on some records, ``question_type`` (``open`` ones are skipped by its
scorer). Every question is posed as multiple choice. A record with several images builds one
row with all of them, in the list's order. Records carry no question id: the
source id is the record's 0-based position in the JSON, so ids differ from the native files';
SLAKE / VQA-RAD / PathVQA open questions are absent; yes/no questions come out as the
canonical ``["yes", "no"]`` pair, as from the native files.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from medbench.builders.vqa.layout import find_path
from medbench.builders.vqa.records import (
    InputMissing,
    Outcome,
    RawImage,
    RawQuestion,
    ReadError,
    ReadResult,
    Skip,
    clean_text,
    load_json_list,
)

FILE_NAME = "medical_multimodel_evaluation_data.json"
FOLDERS = ("huatuo", "Medical_Multimodal_Evaluation_Data", "huatuogpt-vision")
PREFIXES = (  # normalised dataset name prefix -> benchmark id
    ("vqarad", "vqa-rad"),
    ("slake", "slake"),
    ("pathvqa", "pathvqa"),
    ("pmcvqa", "pmc-vqa"),
    ("omnimedvqa", "omnimedvqa"),
    ("mmmu", "mmmu-med"),
)
ID_FIELDS = ("id", "qid", "question_id")


def locate(root: Path) -> Path | None:
    return find_path(root, FOLDERS, (FILE_NAME,))


def benchmark_of(dataset: str) -> tuple[str, str] | None:
    """``"SLAKE_test"`` → ``("slake", "test")``; None for a name no benchmark here owns."""
    key = re.sub(r"[^a-z0-9]", "", dataset.lower())
    for prefix, benchmark in PREFIXES:
        if key.startswith(prefix):
            if "validation" in key or key.endswith("val"):
                return benchmark, "validation"
            if benchmark == "mmmu-med" and not key.endswith("test"):
                return benchmark, "validation"
            return benchmark, "test"
    return None


Grouped = tuple[dict[tuple[str, str], ReadResult], tuple[Skip, ...]]


def read(
    root: Path, benchmark: str, split: str, cache: dict[Path, Grouped] | None = None
) -> ReadResult:
    """The records of one benchmark and split; ``cache`` keeps the parsed JSON between calls."""
    path = locate(root)
    if path is None:
        raise InputMissing(f"HuatuoGPT-Vision evaluation data: no {FILE_NAME} under {root}")
    cache = {} if cache is None else cache
    if path not in cache:
        cache[path] = read_all(path)
    by_benchmark, _ = cache[path]
    found = by_benchmark.get((benchmark, split))
    if found is None:
        have = sorted(f"{b}/{s}" for b, s in by_benchmark)
        raise ReadError(f"{path.name} has no {benchmark} {split} questions (it has {have})")
    return found


def read_all(path: Path) -> Grouped:
    """Every record, grouped by (benchmark, split); records of unknown datasets apart."""
    records = load_json_list(path)
    groups: dict[tuple[str, str], ReadResult] = {}
    unattributed: list[Skip] = []
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            unattributed.append(Skip(str(position), "record is not a JSON object"))
            continue
        owner = benchmark_of(str(record.get("dataset", "")))
        if owner is None:
            reason = f"dataset {record.get('dataset')!r} is none of the six benchmarks"
            unattributed.append(Skip(str(position), reason))
            continue
        group = groups.setdefault(owner, ReadResult([], [], [path], "huatuo"))
        group.add(_question(record, position, owner[0], path.parent))
    return groups, tuple(unattributed)


def _question(record: dict, position: int, benchmark: str, base: Path) -> Outcome:
    given = next((record[k] for k in ID_FIELDS if record.get(k) is not None), None)
    source_id = str(given) if given is not None else str(position)
    images = record.get("image")
    images = [images] if isinstance(images, str) else list(images or [])
    if not images:
        return Skip(source_id, "record has no image")
    if record.get("question") is None or record.get("answer") is None:
        return Skip(source_id, "record has no question or answer")
    answer = clean_text(record["answer"])
    if answer == "?":
        return Skip(source_id, "answer is '?' (unknown)")
    options = record.get("options") or []
    if isinstance(options, str):
        try:
            options = ast.literal_eval(options)
        except (ValueError, SyntaxError) as exc:
            return Skip(source_id, f"options are not a list literal: {exc}")
    if not isinstance(options, list | tuple):
        return Skip(source_id, "options are not a list")
    is_open = str(record.get("question_type", "")).strip().lower() == "open" or not options
    subset = clean_text(record.get("subset", ""))
    return RawQuestion(
        source_id=source_id,
        question=str(record["question"]),
        answer=answer,
        image_name=str(images[0]),
        image_path=base / str(images[0]),
        # further images in the record's order (HuatuoGPT-Vision's chatbot takes a list)
        extra_images=tuple(RawImage(str(i), base / str(i)) for i in images[1:]),
        label="open" if is_open else "closed",
        options=() if is_open else tuple(str(o) for o in options),
        modality=subset if benchmark == "omnimedvqa" else "",
        subset="" if benchmark == "omnimedvqa" else subset,
    )
