"""``medbench build coco-ref``: a COCO download → the VGMED-style COCO reference set.

Paper 001 (sec. 2.1) draws "the same number of samples from MS COCO" as VGMED has image–box
pairs and runs the same question pipeline on them. Here: read one split's instances →
candidates (crowd, tiny, malformed and image-less annotations listed as skipped) → seeded
sample stratified by supercategory, then category (VGMED's water-filling) → check the sampled
images (a bad one is listed and the sample drawn again without it) → a localization question
(VGMED's templates) and an attribute question (``coco-attribute`` prompt, one request per
unique category) per pair → Parquet shards + manifest.json + report/ + README.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from medbench.builders.coco_ref.images import (
    ImageProblem,
    StoredImage,
    image_bytes,
    inspect_image,
)
from medbench.builders.coco_ref.layout import (
    DEFAULT_MIN_PIXELS,
    CocoCandidate,
    CocoSkip,
    CocoSplit,
    Instances,
    LayoutError,
    choose_split,
    read_instances,
)
from medbench.builders.coco_ref.questions import CocoAttributeSource, template_attribute_source
from medbench.builders.config import BuildConfigModel
from medbench.builders.shards import MAX_SHARD_BYTES, ShardInfo, write_split
from medbench.builders.vgmed.questions import pair_question
from medbench.builders.vgmed.sampling import PAPER_TARGET, stratified_sample
from medbench.hashing import stable_hash
from medbench.schemas.coco_ref import COCO_REF_ARROW_SCHEMA, CocoRefRow
from medbench.schemas.fields import to_arrow_row

ROW_OVERHEAD_BYTES = 600  # non-image columns of a row, for shard planning
STRATA = ("supercategory", "label")  # water-filled in this order (VGMED: modality … label)

Progress = Callable[[str, int, int], None]


class BuildError(Exception):
    """The build cannot produce anything; the message is one line."""


class CocoBuildConfig(BuildConfigModel):
    coco_root: Path
    out: Path
    coco_split: str | None = Field(
        None, description="e.g. 'val2017'; None: val2017 if present, else the first found"
    )
    target: int = Field(PAPER_TARGET, ge=1, description="image–box pairs (VGMED's count)")
    seed: int = 0
    min_pixels: float = Field(DEFAULT_MIN_PIXELS, ge=0, description="minimum box area, px²")
    questions_per_label: int = Field(1, ge=1, description="attribute requests per category")
    workers: int = Field(4, ge=1, description="threads decoding the sampled images")
    split: str = Field("test", description="the split name of the output dataset")
    max_shard_bytes: int = MAX_SHARD_BYTES


@dataclass
class CocoBuildResult:
    out: Path
    split: CocoSplit
    splits_found: list[str]
    instances: Instances
    selected: list[CocoCandidate]
    stored: dict[int, StoredImage]  # image id -> what its rows hold
    rows: int
    shards: list[ShardInfo]
    skipped: list[CocoSkip]
    question_counts: dict[str, int] = field(default_factory=dict)
    resampled: int = 0  # extra sampling rounds caused by bad image files


def _inspect_all(
    root: Path, candidates: Sequence[CocoCandidate], workers: int
) -> Iterator[StoredImage | ImageProblem]:
    """Each candidate's image checked, in order, as the checks finish."""

    def one(candidate: CocoCandidate) -> StoredImage | ImageProblem:
        try:
            size = (candidate.image_width, candidate.image_height)
            return inspect_image(root / candidate.file_name, size)
        except ImageProblem as exc:
            return exc

    if workers <= 1 or len(candidates) <= 1:
        yield from map(one, candidates)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:  # PIL decodes without the GIL
        yield from pool.map(one, candidates)


def sample_checked(
    config: CocoBuildConfig,
    candidates: list[CocoCandidate],
    progress: Progress,
) -> tuple[list[CocoCandidate], dict[int, StoredImage], list[CocoSkip], int]:
    """Stratified sample whose every image decodes and matches its annotations.

    A sampled image that fails is listed and its pairs leave the pool; the sample is drawn
    again from what is left (same seed), until every sampled image is good. Images are
    checked once each, so the loop ends."""
    stored: dict[int, StoredImage] = {}
    skipped: list[CocoSkip] = []
    pool = list(candidates)
    rounds = 0
    while True:
        # case_id is the image, so picks rotate over images
        selected = stratified_sample(
            pool,
            config.target,
            None,
            config.seed,
            strata=STRATA,
        )
        first_of_image: dict[int, CocoCandidate] = {}
        for candidate in selected:
            if candidate.image_id not in stored:
                first_of_image.setdefault(candidate.image_id, candidate)
        todo = list(first_of_image.values())
        bad: set[int] = set()
        done = len(stored)
        total = len(stored) + len(todo)
        for candidate, outcome in zip(
            todo, _inspect_all(config.coco_root, todo, config.workers), strict=True
        ):
            done += 1
            progress("check images", done, total)
            if isinstance(outcome, ImageProblem):
                bad.add(candidate.image_id)
                lost = sum(1 for c in pool if c.image_id == candidate.image_id)
                skipped.append(
                    CocoSkip(
                        candidate.image_id,
                        None,
                        candidate.file_name,
                        "bad_image",
                        f"{outcome}: its {lost} annotation(s) are left out",
                    )
                )
            else:
                stored[candidate.image_id] = outcome
        if not bad:
            return selected, stored, skipped, rounds  # type: ignore[return-value]
        rounds += 1
        pool = [c for c in pool if c.image_id not in bad]


def build_coco_ref(
    config: CocoBuildConfig,
    attribute_source: CocoAttributeSource | None = None,
    progress: Progress | None = None,
) -> CocoBuildResult:
    progress = progress or (lambda stage, done, total: None)
    try:
        split, found = choose_split(config.coco_root, config.coco_split)
        instances = read_instances(split, config.min_pixels, progress)
    except LayoutError as exc:
        raise BuildError(str(exc)) from None
    if not instances.candidates:
        kinds = Counter(s.kind for s in instances.skipped)
        why = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no annotations"
        raise BuildError(
            f"no usable image–box pairs in {split.annotations} ({why}); "
            f"are the images under {split.images_dir}?"
        )
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    selected, stored, image_skips, rounds = sample_checked(config, instances.candidates, progress)
    if not selected:
        raise BuildError(f"no sampled image of {split.images_dir} could be read; see the report")
    source = attribute_source or template_attribute_source(config.seed)
    shards, rows, counts = write_rows(
        out, config, selected, stored, instances.licenses, source, progress
    )
    result = CocoBuildResult(
        out=out,
        split=split,
        splits_found=found,
        instances=instances,
        selected=selected,
        stored=stored,
        rows=rows,
        shards=shards,
        skipped=instances.skipped + image_skips,
        question_counts=counts,
        resampled=rounds,
    )
    # deferred imports: the card and report pull in matplotlib and huggingface_hub
    from medbench.builders.coco_ref.report import write_manifest, write_report
    from medbench.cards.coco_ref import write_card

    manifest = write_manifest(result, config, source)
    write_report(result)
    write_card(out, manifest)
    return result


def write_rows(
    out: Path,
    config: CocoBuildConfig,
    selected: list[CocoCandidate],
    stored: dict[int, StoredImage],
    licenses: dict[int, tuple[str, str]],
    source: CocoAttributeSource,
    progress: Progress,
) -> tuple[list[ShardInfo], int, dict[str, int]]:
    """Two rows per pair (localization, then attribute), in the sample's order."""
    attribute_options = source.questions(c.label for c in selected)
    row_sizes: list[int] = []
    for candidate in selected:
        row_sizes += [stored[candidate.image_id].num_bytes + ROW_OVERHEAD_BYTES] * 2
    counts: Counter[str] = Counter()
    loaded: dict[int, bytes] = {}
    written = 0

    def bytes_of(candidate: CocoCandidate) -> bytes:
        if candidate.image_id not in loaded:
            loaded.clear()  # rows are grouped by image: keep one image in memory
            path = config.coco_root / candidate.file_name
            loaded[candidate.image_id] = image_bytes(path, stored[candidate.image_id])
        return loaded[candidate.image_id]

    def rows_for(indices: range):
        nonlocal written
        for index in indices:
            candidate = selected[index // 2]
            kind, question, question_source = pair_question(
                index,
                candidate.label,
                candidate.pair_id,
                attribute_options[candidate.label],
                config.seed,
            )
            counts[kind] += 1
            written += 1
            progress("write", written, len(row_sizes))
            yield to_arrow_row(
                make_row(
                    candidate,
                    stored[candidate.image_id],
                    bytes_of(candidate),
                    kind,
                    question,
                    question_source,
                    licenses.get(candidate.license_id, ("", "")),  # type: ignore[arg-type]
                )
            )

    shards = write_split(
        out,
        config.split,
        COCO_REF_ARROW_SCHEMA,
        row_sizes,
        rows_for,
        max_bytes=config.max_shard_bytes,
    )
    return shards, len(row_sizes), dict(counts)


def make_row(
    candidate: CocoCandidate,
    stored: StoredImage,
    data: bytes,
    kind: str,
    question: str,
    question_source: str,
    license_: tuple[str, str],
) -> CocoRefRow:
    return CocoRefRow(
        sample_id=stable_hash(candidate.pair_id, kind),
        pair_id=candidate.pair_id,
        image=data,
        image_width=stored.width,
        image_height=stored.height,
        bbox=list(candidate.box),
        label=candidate.label,
        supercategory=candidate.supercategory,
        question=question,
        question_type=kind,  # type: ignore[arg-type]
        question_source=question_source,
        coco_split=candidate.file_name.split("/", 1)[0],
        coco_image_id=candidate.image_id,
        coco_annotation_id=candidate.annotation_id,
        coco_category_id=candidate.category_id,
        coco_bbox=list(candidate.coco_bbox),
        coco_area=candidate.area,
        file_name=candidate.file_name,
        image_format=stored.format,
        image_note=stored.note,
        image_license=license_[0],
        image_license_url=license_[1],
        flickr_url=candidate.flickr_url,
    )
