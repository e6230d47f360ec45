"""``medbench build vqa``: the six Med-VQA benchmarks of paper 001 sec. 4 → one dataset each.

For each benchmark: find its files under the source root (the published layout, or else
HuatuoGPT-Vision's combined evaluation JSON, see ``huatuo``) → read its questions → apply
``records.finalize`` (closed/open, options, yes/no) → check every image decodes → sort by
source id → ``<out>/<benchmark>/data/<split>-NNNNN-of-NNNNN.parquet`` + ``manifest.json`` +
``report/skipped.csv``. A record that cannot be built is listed with its reason; the rest
build. Nothing here is random: the same files give byte-identical shards.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Literal

from PIL import Image
from pydantic import Field

from medbench.builders.config import BuildConfigModel
from medbench.builders.shards import MAX_SHARD_BYTES, SHARD_NAME, ShardInfo, write_split
from medbench.builders.vqa import huatuo, mmmu, omnimedvqa, pathvqa, pmc_vqa, slake, vqa_rad
from medbench.builders.vqa.layout import relative_name
from medbench.builders.vqa.records import (
    Finalized,
    InputMissing,
    RawImage,
    RawQuestion,
    ReadError,
    ReadResult,
    Skip,
    finalize,
    natural_key,
)
from medbench.hashing import stable_hash
from medbench.schemas.fields import to_arrow_row
from medbench.schemas.vqa import BENCHMARKS, VQA_ARROW_SCHEMA, VQARow

READERS: dict[str, ModuleType] = {
    "vqa-rad": vqa_rad,
    "slake": slake,
    "pathvqa": pathvqa,
    "pmc-vqa": pmc_vqa,
    "omnimedvqa": omnimedvqa,
    "mmmu-med": mmmu,
}
assert tuple(READERS) == BENCHMARKS  # one reader per benchmark the row schema names
LANGUAGES = ("en", "zh")
ROW_OVERHEAD_BYTES = 400  # non-image columns, for shard planning

Progress = Callable[[str, int, int], None]
InputKind = Literal["auto", "native", "huatuo"]


class BuildError(Exception):
    """Nothing can be built; the message is one line."""


class VQABuildConfig(BuildConfigModel):
    source_root: Path
    out: Path
    benchmarks: list[str] = Field(default_factory=lambda: list(BENCHMARKS))
    split: str | None = Field(None, description="None: each benchmark's evaluation split")
    input: InputKind = Field(
        "auto", description="native files, HuatuoGPT-Vision's JSON, or native where present"
    )
    languages: tuple[str, ...] = Field(("en",), description="SLAKE question languages")
    workers: int = Field(4, ge=1, description="threads checking images")
    max_shard_bytes: int = MAX_SHARD_BYTES


@dataclass
class BenchmarkBuild:
    benchmark: str
    split: str
    out: Path  # the dataset folder, <out>/<benchmark>
    read: ReadResult
    rows: list[VQARow] = field(default_factory=list)  # without image bytes (b"", [])
    sources: list[RawQuestion] = field(default_factory=list)  # the question of each row
    image_sizes: list[int] = field(default_factory=list)  # bytes of each row's images
    image_formats: Counter[str] = field(default_factory=Counter)  # over every image
    skipped: list[Skip] = field(default_factory=list)
    shards: list[ShardInfo] = field(default_factory=list)

    @property
    def input_kind(self) -> str:
        return self.read.input_kind


@dataclass
class VQABuildResult:
    out: Path
    built: list[BenchmarkBuild]
    missing: dict[str, str]  # benchmark -> why nothing was built
    unattributed: list[Skip]  # HuatuoGPT-Vision records of no known benchmark


def default_split(benchmark: str) -> str:
    return READERS[benchmark].DEFAULT_SPLIT


def canonical_split(benchmark: str, split: str) -> str:
    return getattr(READERS[benchmark], "SPLIT_ALIASES", {}).get(split, split)


def expand_benchmarks(names: Sequence[str]) -> list[str]:
    """``all`` → every benchmark; unknown names raise; order follows ``BENCHMARKS``."""
    wanted = set()
    for name in names or ["all"]:
        key = name.strip().lower()
        if key == "all":
            wanted |= set(BENCHMARKS)
        elif key in READERS:
            wanted.add(key)
        else:
            raise BuildError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    return [b for b in BENCHMARKS if b in wanted]


def expand_languages(names: Sequence[str]) -> tuple[str, ...]:
    wanted = set()
    for name in names or ["en"]:
        key = name.strip().lower()
        if key == "all":
            wanted |= set(LANGUAGES)
        elif key in LANGUAGES:
            wanted.add(key)
        else:
            raise BuildError(f"unknown language {name!r}; choose from en, zh, all")
    return tuple(lang for lang in LANGUAGES if lang in wanted)


def read_benchmark(config: VQABuildConfig, benchmark: str, split: str, cache: dict) -> ReadResult:
    """The benchmark's questions from the input ``config.input`` asks for."""
    native = READERS[benchmark]
    if config.input == "huatuo":
        return huatuo.read(config.source_root, benchmark, split, cache)
    try:
        return native.read(config.source_root, split, config.languages)
    except InputMissing as missing:
        if config.input == "native":
            raise
        try:
            return huatuo.read(config.source_root, benchmark, split, cache)
        except ReadError as other:
            raise InputMissing(f"{missing}; {other}") from None


def build_vqa(config: VQABuildConfig, progress: Progress | None = None) -> VQABuildResult:
    progress = progress or (lambda stage, done, total: None)
    benchmarks = expand_benchmarks(config.benchmarks)
    if not config.source_root.is_dir():
        raise BuildError(f"source root {config.source_root} is not a folder")
    cache: dict = {}
    built: list[BenchmarkBuild] = []
    missing: dict[str, str] = {}
    for benchmark in benchmarks:
        split = canonical_split(benchmark, config.split or default_split(benchmark))
        try:
            read = read_benchmark(config, benchmark, split, cache)
        except ReadError as exc:
            missing[benchmark] = str(exc)
            continue
        build = BenchmarkBuild(benchmark, split, config.out / benchmark, read)
        prepare(build, config.source_root, config.workers, progress)
        write(build, config, progress)
        built.append(build)
    unattributed = [s for _, skips in cache.values() for s in skips]
    return VQABuildResult(config.out, built, missing, unattributed)


def _check_one(image: RawImage, root: Path) -> tuple[int, str] | str:
    """(byte size, format) of a decodable image, or why it is not."""
    if image.data is not None:
        data = image.data
    elif image.path is None or not image.path.is_file():
        where = relative_name(image.path, root) if image.path else "no path"
        return f"image {image.name} not found (looked for {where})"
    else:
        try:
            data = image.path.read_bytes()
        except OSError as exc:
            return f"image {image.name} cannot be read: {exc}"
    try:
        with Image.open(io.BytesIO(data)) as decoded:
            image_format = decoded.format or "unknown"
            decoded.load()
    except Exception as exc:  # any decoder error means the same thing: unreadable
        return f"image {image.name} does not decode: {exc}"
    return len(data), image_format


def _check_image(raw: RawQuestion, root: Path) -> tuple[int, list[str]] | str:
    """(total byte size, format of each image) when every image of the question decodes,
    else why the first bad one does not."""
    size, formats = 0, []
    for image in raw.images:
        checked = _check_one(image, root)
        if isinstance(checked, str):
            return checked
        size += checked[0]
        formats.append(checked[1])
    return size, formats


def prepare(build: BenchmarkBuild, root: Path, workers: int, progress: Progress) -> None:
    """Rows (image bytes left out) in source-id order; every failure listed as skipped."""
    questions = build.read.questions
    build.skipped = list(build.read.skipped)
    finals: list[Finalized | str] = [finalize(q) for q in questions]
    checked: list[tuple[int, list[str]] | str] = []
    stage = f"{build.benchmark}: check images"
    with ThreadPoolExecutor(max_workers=workers) as pool:  # decoding releases the GIL
        outcomes = pool.map(partial(_check_image, root=root), questions)
        for done, outcome in enumerate(outcomes, start=1):
            checked.append(outcome)
            progress(stage, done, len(questions))
    seen: set[str] = set()
    kept: list[tuple[RawQuestion, Finalized, int, list[str]]] = []
    for raw, final, image in zip(questions, finals, checked, strict=True):
        if raw.source_id in seen:
            build.skipped.append(Skip(raw.source_id, "duplicate source id; first one kept"))
            continue
        seen.add(raw.source_id)
        if isinstance(final, str):
            build.skipped.append(Skip(raw.source_id, final))
        elif isinstance(image, str):
            build.skipped.append(Skip(raw.source_id, image))
        else:
            kept.append((raw, final, *image))
    kept.sort(key=lambda item: natural_key(item[0].source_id))
    build.skipped.sort(key=lambda s: (natural_key(s.source_id), s.reason))
    build.rows = [make_row(build, raw, final) for raw, final, _, _ in kept]
    build.image_formats = Counter(fmt for _, _, _, formats in kept for fmt in formats)
    build.sources = [raw for raw, _, _, _ in kept]
    build.image_sizes = [size for _, _, size, _ in kept]


def make_row(build: BenchmarkBuild, raw: RawQuestion, final: Finalized) -> VQARow:
    return VQARow(
        sample_id=stable_hash(build.benchmark, build.split, raw.source_id),
        benchmark=build.benchmark,
        split=build.split,
        source_id=raw.source_id,
        image=b"",
        image_name=raw.image_name,
        question=final.question,
        options=final.options,
        answer=final.answer,
        answer_index=final.answer_index,
        answer_type=final.answer_type,  # type: ignore[arg-type]
        question_type=raw.question_type,
        modality=raw.modality,
        body_part=raw.body_part,
        subset=raw.subset,
        language=raw.language,
    )


def _image_bytes(image: RawImage) -> bytes:
    if image.data is not None:
        return image.data
    assert image.path is not None
    return image.path.read_bytes()


def write(build: BenchmarkBuild, config: VQABuildConfig, progress: Progress) -> None:
    row_sizes = [
        size + ROW_OVERHEAD_BYTES + len(row.question) + sum(len(o) for o in row.options)
        for row, size in zip(build.rows, build.image_sizes, strict=True)
    ]
    written = 0
    stage = f"{build.benchmark}: write"

    def rows_for(indices: range):
        nonlocal written
        for index in indices:
            first, *extra = (_image_bytes(i) for i in build.sources[index].images)
            row = build.rows[index].model_copy(update={"image": first, "extra_images": extra})
            written += 1
            progress(stage, written, len(build.rows))
            yield to_arrow_row(row)

    build.out.mkdir(parents=True, exist_ok=True)
    if build.rows:
        build.shards = write_split(
            build.out,
            build.split,
            VQA_ARROW_SCHEMA,
            row_sizes,
            rows_for,
            max_bytes=config.max_shard_bytes,
        )
    else:
        # a zero-row shard does not load (datasets reads it with batch size 0): write none,
        # and drop an earlier build's shards of this split; the manifest says why
        build.shards = []
        for old in (build.out / "data").glob(f"{build.split}-*.parquet"):
            if SHARD_NAME.match(old.name):
                old.unlink()
    from medbench.builders.vqa.report import write_manifest, write_skipped_csv

    write_manifest(build, config)
    write_skipped_csv(build)
