"""``medbench build vgmed``: source root → Hub-ready dataset folder.

discover cases → extract each case (cached, resumable, parallel) → stratified sample →
questions → Parquet shards + manifest.json + report/ + README.md (dataset card).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from medbench.builders.config import BuildConfigModel
from medbench.builders.executor import run_tasks
from medbench.builders.shards import MAX_SHARD_BYTES, ShardInfo, write_split
from medbench.builders.vgmed.cache import (
    CaseTask,
    case_cache_key,
    load_images,
    load_meta,
    meta_path_for,
    remove_partials,
)
from medbench.builders.vgmed.case import Skip
from medbench.builders.vgmed.dedup import duplicate_skip, find_duplicates
from medbench.builders.vgmed.extract import (
    Candidate,
    CaseResult,
    ExtractConfig,
    stable_hash,
)
from medbench.builders.vgmed.questions import (
    AttributeQuestionSource,
    pair_question,
    template_attribute_source,
)
from medbench.builders.vgmed.sampling import PAPER_TARGET, stratified_sample
from medbench.builders.vgmed.sources import select_sources
from medbench.builders.vgmed.spec import SourceSpec
from medbench.builders.vgmed.unpack import (
    UnpackError,
    check_archives,
    find_archives,
    unpack_archives,
)
from medbench.builders.vgmed.worker import process_case
from medbench.schemas import VGMED_ARROW_SCHEMA, VGMEDRow
from medbench.schemas.fields import to_arrow_row

ROW_OVERHEAD_BYTES = 600  # non-image columns of a row, for shard planning


class BuildError(Exception):
    """The build cannot produce anything (e.g. no dataset found); message is one line."""


class BuildConfig(BuildConfigModel):
    source_root: Path
    out: Path
    datasets: list[str] = []
    extract: ExtractConfig = ExtractConfig()
    target: int = Field(PAPER_TARGET, ge=1)
    cap_per_label: int | None = Field(None, ge=1)
    seed: int = 0
    workers: int = Field(1, ge=1)
    split: str = "test"
    max_shard_bytes: int = MAX_SHARD_BYTES


@dataclass
class SourceStatus:
    spec: SourceSpec
    dataset_dir: Path | None
    cases: int = 0
    failed: int = 0
    duplicates: int = 0  # cases whose scan another dataset's case already supplies
    candidates: int = 0
    problem: str | None = None
    # the spec's archives found in <root>/<id> (relative names) when it is read from them
    archives: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    out: Path
    sources: list[SourceStatus]
    selected: list[Candidate]
    rows: int
    shards: list[ShardInfo]
    skipped: list[Skip]
    errors: list[tuple[str, str, str]]  # (dataset, case_id, message)
    cases_total: int = 0
    cases_from_cache: int = 0
    question_counts: dict[str, int] = field(default_factory=dict)


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def unpack_dir(out: Path) -> Path:
    """Where zipped datasets are unpacked: ``<out>/.work/unpacked/<id>``."""
    return out / ".work" / "unpacked"


def _locate_zipped(
    spec: SourceSpec, status: SourceStatus, source_root: Path, unpack_root: Path | None, progress
) -> Path | None:
    """The dataset folder unpacked from the spec's archives, or None (status says why).

    Without ``unpack_root`` (``medbench sources check``) the archives are only checked."""
    base = source_root / spec.id
    archives = find_archives(base, spec.archives)
    if not archives:
        return None
    status.dataset_dir = base  # found, even if it turns out broken
    names = [a.relative_to(base).as_posix() for a in archives]
    try:
        if unpack_root is None:
            check_archives(archives)
            status.archives = names
            status.problem = f"zipped ({', '.join(names)}): unpacked and counted by the build"
            return None
        unpack_archives(
            archives,
            base,
            unpack_root / spec.id,
            lambda done, total: progress(f"unpack {spec.id}", done, total),
        )
    except UnpackError as exc:
        status.problem = f"broken archive: {exc}"
        return None
    status.archives = names
    dataset_dir = spec.locate(unpack_root)
    status.dataset_dir = dataset_dir
    if dataset_dir is None:
        status.dataset_dir = base
        status.problem = (
            f"not found after unpacking {', '.join(names)}: expected "
            f"{unpack_root / spec.id}/{spec.anchor}"
        )
    return dataset_dir


def discover_sources(
    specs: list[SourceSpec],
    source_root: Path,
    unpack_root: Path | None = None,
    progress: Progress | None = None,
) -> tuple[list[SourceStatus], list[tuple[SourceSpec, Path, list]], list[Skip]]:
    """Locate and discover each spec's dataset. A dataset shipped as ``archives`` (anchor
    absent from ``<root>/<id>``) is unpacked under ``unpack_root``, or only checked when
    that is None; a broken archive is that dataset's problem, not the build's."""
    progress = progress or (lambda stage, done, total: None)
    statuses, discovered, skipped = [], [], []
    for spec in specs:
        dataset_dir = spec.locate(source_root)
        status = SourceStatus(spec, dataset_dir)
        statuses.append(status)
        if dataset_dir is None and spec.archives:
            dataset_dir = _locate_zipped(spec, status, source_root, unpack_root, progress)
            if status.problem:
                continue
        if dataset_dir is None:
            status.problem = f"not found: expected {source_root / spec.id}/{spec.anchor}"
            if spec.archives:
                status.problem += f" or archives {', '.join(spec.archives)}"
            continue
        try:
            cases, skips = spec.discover(dataset_dir)
        except Exception as exc:  # a broken index file must not stop other datasets
            status.problem = f"discovery failed: {exc}"
            continue
        status.cases = len(cases)
        skipped += skips
        if not cases:
            status.problem = "no cases found"
        discovered.append((spec, dataset_dir, cases))
    return statuses, discovered, skipped


def build_vgmed(
    config: BuildConfig,
    attribute_source: AttributeQuestionSource | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    progress = progress or (lambda stage, done, total: None)
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    extract_config = config.extract.model_copy(update={"seed": config.seed})
    specs = select_sources(config.datasets)
    statuses, discovered, skipped = discover_sources(
        specs, config.source_root, unpack_dir(out), progress
    )
    if not discovered:
        lines = "; ".join(f"{s.spec.id}: {s.problem}" for s in statuses)
        raise BuildError(f"no dataset found under {config.source_root} ({lines})")

    tasks: list[CaseTask] = []
    for spec, dataset_dir, cases in discovered:
        for case in cases:
            key = case_cache_key(spec, dataset_dir, case, extract_config)
            tasks.append(
                CaseTask(spec, dataset_dir, case, extract_config, meta_path_for(out, spec, key))
            )
    pending = [t for t in tasks if not t.meta_path.exists()]
    progress("extract", len(tasks) - len(pending), len(tasks))
    done = len(tasks) - len(pending)
    for _ in run_tasks(process_case, pending, config.workers):
        done += 1
        progress("extract", done, len(tasks))

    candidates: list[Candidate] = []
    errors: list[tuple[str, str, str]] = []
    by_status = {s.spec.id: s for s in statuses}
    metas: list[CaseResult] = [load_meta(task.meta_path) for task in tasks]
    labels_per_dataset: dict[str, set[str]] = {}
    for meta in metas:
        labels_per_dataset.setdefault(meta.dataset, set()).update(c.label for c in meta.candidates)
    duplicates = find_duplicates(metas, lambda d: len(labels_per_dataset.get(d, ())))
    for meta in metas:
        skipped += meta.skipped
        status = by_status[meta.dataset]
        if meta.error:
            errors.append((meta.dataset, meta.case_id, meta.error))
            status.failed += 1
        kept = duplicates.get((meta.dataset, meta.case_id))
        if kept is not None:
            skipped.append(duplicate_skip(meta.dataset, meta.case_id, kept))
            status.duplicates += 1
            continue
        candidates += meta.candidates
        status.candidates += len(meta.candidates)
    if not candidates:
        raise BuildError(
            f"no image–box pairs could be extracted from {len(tasks)} cases under "
            f"{config.source_root}; see the errors above"
            if errors
            else f"no image–box pairs found in {len(tasks)} cases under {config.source_root}"
        )

    selected = stratified_sample(candidates, config.target, config.cap_per_label, config.seed)
    source = attribute_source or template_attribute_source(config.seed)
    meta_for_case = {(t.spec.id, t.case.case_id): t.meta_path for t in tasks}
    shards, rows_total, question_counts = write_rows(
        out, config, selected, source, meta_for_case, progress
    )
    result = BuildResult(
        out=out,
        sources=statuses,
        selected=selected,
        rows=rows_total,
        shards=shards,
        skipped=skipped,
        errors=errors,
        cases_total=len(tasks),
        cases_from_cache=len(tasks) - len(pending),
        question_counts=question_counts,
    )
    # deferred imports: the card and report pull in matplotlib and huggingface_hub
    from medbench.builders.vgmed.report import write_manifest, write_report
    from medbench.cards.vgmed import write_card

    manifest = write_manifest(result, config, source.tag, source.summary())
    write_report(result)
    write_card(out, manifest)
    return result


def write_rows(
    out: Path,
    config: BuildConfig,
    selected: list[Candidate],
    source: AttributeQuestionSource,
    meta_for_case: dict[tuple[str, str], Path],
    progress: Progress,
) -> tuple[list[ShardInfo], int, dict[str, int]]:
    attribute_options = source.questions({(c.modality, c.label) for c in selected})
    row_sizes = []
    for candidate in selected:
        row_sizes += [candidate.image_bytes + ROW_OVERHEAD_BYTES] * 2
    counts: Counter[str] = Counter()
    images_cache: dict[tuple[str, str], dict[str, bytes]] = {}
    written = 0

    def images_of(candidate: Candidate) -> dict[str, bytes]:
        key = (candidate.dataset, candidate.case_id)
        if key not in images_cache:
            images_cache.clear()  # selected rows are grouped by case: keep one case loaded
            images_cache[key] = load_images(meta_for_case[key])
        return images_cache[key]

    def rows_for(indices: range):
        nonlocal written
        for index in indices:
            candidate = selected[index // 2]
            options = attribute_options[(candidate.modality, candidate.label)]
            kind, question, question_source = pair_question(
                index, candidate.label, candidate.pair_id, options, config.seed
            )
            counts[kind] += 1
            written += 1
            progress("write", written, len(row_sizes))
            yield to_arrow_row(
                make_row(candidate, images_of(candidate), kind, question, question_source)
            )

    shards = write_split(
        out, config.split, VGMED_ARROW_SCHEMA, row_sizes, rows_for, max_bytes=config.max_shard_bytes
    )
    return shards, len(row_sizes), dict(counts)


def make_row(
    candidate: Candidate, images: dict[str, bytes], kind: str, question: str, question_source: str
) -> VGMEDRow:
    return VGMEDRow(
        sample_id=stable_hash(candidate.pair_id, kind),
        pair_id=candidate.pair_id,
        image=images[candidate.image_key],
        image_width=candidate.image_width,
        image_height=candidate.image_height,
        bbox=list(candidate.box),
        label=candidate.label,
        question=question,
        question_type=kind,
        question_source=question_source,
        modality=candidate.modality,
        body_part=candidate.body_part,
        dataset=candidate.dataset,
        case_id=candidate.case_id,
        source_path=candidate.source_path,
        source_label=candidate.source_label,
        channel=candidate.channel,
        slice_axis=candidate.slice_axis,
        slice_index=candidate.slice_index,
        num_slices=candidate.num_slices,
        intensity=candidate.intensity,
        spacing_mm=list(candidate.spacing),
        source_size=list(candidate.source_size),
        box_mode=candidate.box_mode,
        structure_area_px=candidate.area,
        review=None,
    )
