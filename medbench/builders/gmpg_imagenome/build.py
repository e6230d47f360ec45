"""Build GMPG-ImaGenome: Chest ImaGenome scene graphs + MIMIC-CXR reports → grounding rows
(sentence → zero, one or many anatomy boxes) with paper 002's three-stage cleanup.

Streaming: graphs are read one at a time (folder or zip) and processed in chunks of
``chunk_graphs`` images (the unit an LLM batch is asked for); each finished image's rows go
straight to the shard sink. What stays in memory for the whole build is bounded by the tables
around the graphs (the splits index, MS-CXR, the MIMIC-CXR-JPG metadata if used), the LLM
answers (one short entry per unique sentence–region set) and fixed-size counters. With
``embed_images`` each image's JPEG is read when its rows are written, and the sink flushes by
image bytes, so image data in memory stays bounded too.
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from medbench.builders.gmpg_imagenome import negatives
from medbench.builders.gmpg_imagenome.images import ImageEmbedder
from medbench.builders.gmpg_imagenome.inputs import (
    AVOID_SPLITS,
    ImageEntry,
    ImageSizes,
    InputError,
    SplitIndex,
)
from medbench.builders.gmpg_imagenome.leakage import MsCxrOverlap
from medbench.builders.gmpg_imagenome.pairs import (
    DEGENERATE,
    NO_OBJECT,
    Group,
    Sentence,
    ValidBoxes,
    group_mentions,
    invert,
)
from medbench.builders.gmpg_imagenome.regions import ContainmentCheck, Hierarchy
from medbench.builders.gmpg_imagenome.reports import (
    SENTENCE_SECTIONS,
    normalise,
    read_report,
    report_sentences,
    reports_files_root,
)
from medbench.builders.gmpg_imagenome.scene_graph import (
    GraphSource,
    SceneGraph,
    SceneGraphError,
    dicom_id_of,
    parse_graph,
)
from medbench.builders.gmpg_imagenome.sink import ShardSink
from medbench.builders.gmpg_imagenome.specificity import SpecificityStage
from medbench.builders.gmpg_imagenome.stats import Funnel, SplitStats
from medbench.builders.shards import MAX_SHARD_BYTES, ShardInfo
from medbench.llm.runner import LLMClient
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA

DATASET = "gmpg-imagenome"
CHUNK_GRAPHS = 2000
Progress = Callable[[str, int, int], None]

# exclusion reasons (report/excluded_images.csv)
NO_SPLIT = "no-split"
GOLD = "gold-image"
MS_CXR = "ms-cxr-overlap"


class BuildError(RuntimeError):
    pass


@dataclass
class GmpgConfig:
    imagenome_root: Path
    mimic_reports: Path
    out: Path
    mimic_jpg: Path | None = None
    ms_cxr: Path | None = None
    specificity: str = "hierarchy"
    hierarchy_file: Path | None = None
    sections: tuple[str, ...] = SENTENCE_SECTIONS
    limit: int | None = None  # first N graphs (in dicom-id order) only
    chunk_graphs: int = CHUNK_GRAPHS
    max_shard_bytes: int = MAX_SHARD_BYTES
    embed_images: bool = False  # JPEG bytes from mimic_jpg in the rows (local use only)

    def public_dict(self) -> dict:
        return {
            "specificity": self.specificity,
            "hierarchy_file": str(self.hierarchy_file) if self.hierarchy_file else None,
            "sections": list(self.sections),
            "limit": self.limit,
            "chunk_graphs": self.chunk_graphs,
            "mimic_jpg": self.mimic_jpg is not None,
            "embed_images": self.embed_images,
            "ms_cxr": self.ms_cxr.name if self.ms_cxr else None,
        }


@dataclass
class BuildResult:
    out: Path
    config: GmpgConfig
    source: GraphSource
    splits: SplitIndex
    hierarchy: Hierarchy
    specificity: SpecificityStage
    containment: ContainmentCheck
    leakage: MsCxrOverlap
    funnel: Funnel = field(default_factory=Funnel)
    split_stats: dict[str, SplitStats] = field(default_factory=dict)
    shards: list[ShardInfo] = field(default_factory=list)
    graphs_read: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (graph file, error)
    excluded: list[dict] = field(default_factory=list)
    excluded_by_reason: Counter = field(default_factory=Counter)
    size_sources: Counter = field(default_factory=Counter)
    degenerate_by_region: Counter = field(default_factory=Counter)
    no_object_by_region: Counter = field(default_factory=Counter)
    negative_rules: Counter = field(default_factory=Counter)  # rule -> sentences
    flag_categories: Counter = field(default_factory=Counter)
    report_counts: Counter = field(default_factory=Counter)
    size_metadata_file: str | None = None  # MIMIC-CXR-JPG metadata CSV, if it was read
    skipped_graph_entries: int = 0  # objects / attribute entries with unusable fields
    images: ImageEmbedder | None = None  # with embed_images

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.split_stats.values())


@dataclass
class _Image:
    """One eligible image between the chunk's LLM batch and its rows."""

    graph: SceneGraph
    entry: ImageEntry
    size: tuple[int, int] | None
    size_from: str  # where the size came from (jpg-header, jpg-metadata, ...)
    sentences: list[Sentence]
    added: list[str]  # report sentences linked to no region (stage 3)


def _row_base(image: _Image) -> dict:
    g, e = image.graph, image.entry
    width, height = image.size or (0, 0)
    return {
        "dataset": DATASET,
        "image_id": g.image_id,
        "study_id": e.study_id or g.study_id,
        "subject_id": e.subject_id or g.subject_id,
        "split": e.split,
        "image_path": e.jpg_path,
        "image": None,
        "image_width": width,
        "image_height": height,
        "label": "",
    }


def _step(stage: str, removed: list[str], decided_by: str, reason: str = "") -> dict:
    return {"stage": stage, "removed": removed, "decided_by": decided_by, "reason": reason}


_NON_GROUNDING_STEP = _step(
    "non-grounding", [], "report-sentence", "report sentence linked to no region in the scene graph"
)


def _tally(counts: list[int], boxes: int, links: int) -> None:
    counts[0] += 1
    counts[1] += boxes
    counts[2] += links
    counts[3] += boxes == 0


def _sample_id(dicom: str, key: str) -> str:
    """``stable_hash(DATASET, dicom, key)``, inlined: it runs once per row."""
    text = f"{DATASET}\x1f{dicom}\x1f{key}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=1 << 16)
def _categories(flags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f.split("|", 1)[0] for f in flags)


class _Builder:
    def __init__(
        self,
        config: GmpgConfig,
        client: LLMClient | None,
        progress: Progress | None,
    ):
        self.config = config
        self.progress = progress
        root = Path(config.imagenome_root)
        try:
            source = GraphSource.find(root)
            splits = SplitIndex.load(root)
        except (FileNotFoundError, InputError) as exc:
            raise BuildError(str(exc)) from None
        if not Path(config.mimic_reports).is_dir():
            raise BuildError(f"{config.mimic_reports}: MIMIC-CXR reports folder not found")
        if config.ms_cxr is not None and not Path(config.ms_cxr).is_file():
            raise BuildError(f"{config.ms_cxr}: MS-CXR CSV not found")
        hierarchy = Hierarchy.load(config.hierarchy_file)
        try:
            leakage = MsCxrOverlap.load(config.ms_cxr, splits)
        except ValueError as exc:
            raise BuildError(str(exc)) from None
        self.reports_root = reports_files_root(Path(config.mimic_reports))
        self.sizes = ImageSizes(config.mimic_jpg)
        if config.embed_images and (
            config.mimic_jpg is None or not Path(config.mimic_jpg).is_dir()
        ):
            raise BuildError(
                f"{config.mimic_jpg}: --embed-images needs the MIMIC-CXR-JPG folder (--mimic-jpg)"
            )
        self.result = BuildResult(
            out=config.out,
            config=config,
            source=source,
            splits=splits,
            hierarchy=hierarchy,
            specificity=SpecificityStage(config.specificity, hierarchy, client),
            containment=ContainmentCheck(hierarchy),
            leakage=leakage,
            split_stats={name: SplitStats() for name in splits.split_names},
        )
        self.sink = ShardSink(config.out, GROUNDING_ARROW_SCHEMA, max_bytes=config.max_shard_bytes)
        for name in splits.split_names:
            self.sink.open_split(name)
        if config.embed_images:  # opened last: its file is closed when run() ends
            assert config.mimic_jpg is not None
            self.result.images = ImageEmbedder(Path(config.mimic_jpg), self.sink.staging)

    # -- per graph -------------------------------------------------------------------------

    def _exclusion(self, graph: SceneGraph, entry: ImageEntry | None) -> str | None:
        r = self.result
        dicom = graph.image_id
        if entry is None:
            return NO_SPLIT
        study = entry.study_id or graph.study_id
        via = r.leakage.overlaps(dicom, study)
        if via is not None:
            r.leakage.record(dicom, entry.subject_id, study, entry.split, via)
            return f"{MS_CXR} ({via})"
        if dicom in r.splits.avoid and entry.split in AVOID_SPLITS:
            return GOLD
        return None

    def _prepare(self, graph: SceneGraph) -> _Image | None:
        r = self.result
        groups = group_mentions(graph)
        r.skipped_graph_entries += graph.skipped
        entry = r.splits.entries.get(graph.image_id)
        why = self._exclusion(graph, entry)
        if why is not None:
            self._count_source(("scene_graphs",), graph, groups)
            split = entry.split if entry else ""
            study = (entry.study_id if entry else "") or graph.study_id
            r.excluded.append(
                {"dicom_id": graph.image_id, "study_id": study, "split": split, "reason": why}
            )
            r.excluded_by_reason[why.split(" ")[0]] += 1
            return None
        assert entry is not None
        self._count_source(("scene_graphs", "image_exclusions"), graph, groups)
        size, where = self.sizes.size(graph.image_id, entry.jpg_path, graph.image_size)
        r.size_sources[where] += 1
        valid = ValidBoxes.of(graph, size)
        r.degenerate_by_region.update(valid.degenerate)
        r.containment.add(valid.boxes)
        sentences = invert(groups, valid)
        added = self._report_sentences(graph, entry, groups)
        return _Image(graph, entry, size, where, sentences, added)

    def _count_source(
        self, stages: tuple[str, ...], graph: SceneGraph, groups: dict[str, Group]
    ) -> None:
        links = boxed = zero = 0
        for group in groups.values():
            regions = group.regions
            n = sum(1 for region in regions if region in graph.boxes)
            links += len(regions)
            boxed += n
            zero += n == 0
        for stage in stages:
            count = self.result.funnel.stages[stage]
            count.images += bool(groups)
            count.rows += len(groups)
            count.boxes += boxed
            count.links += links
            count.zero_box_rows += zero

    def _report_sentences(
        self, graph: SceneGraph, entry: ImageEntry, groups: dict[str, Group]
    ) -> list[str]:
        counts = self.result.report_counts
        study = entry.study_id or graph.study_id
        subject = entry.subject_id or graph.subject_id
        text = read_report(self.reports_root, subject, study)
        if text is None:
            counts["reports_missing"] += 1
            return []
        counts["reports_read"] += 1
        keys = list(groups)
        added = []
        for sentence in report_sentences(text, self.config.sections):
            counts["report_sentences"] += 1
            key = normalise(sentence)
            if key in groups:
                counts["matched_exactly"] += 1
            elif any(key in k or k in key for k in keys):
                counts["matched_by_containment"] += 1
            else:
                counts["added_non_grounding"] += 1
                added.append(sentence)
        return added

    # -- per chunk -------------------------------------------------------------------------

    def _finish_chunk(self, chunk: list[_Image]) -> None:
        stage = self.result.specificity
        stage.prepare(
            (s.key, s.text, tuple(s.boxes)) for image in chunk for s in image.sentences if s.boxes
        )
        for image in chunk:
            self._emit(image)

    def _emit(self, image: _Image) -> None:
        r = self.result
        split = image.entry.split
        stats = r.split_stats.setdefault(split, SplitStats())
        add_row, sink_add = stats.add_row, self.sink.add
        base = _row_base(image)
        dicom = base["image_id"]
        nbytes = 0
        if r.images is not None and (image.sentences or image.added):
            data = r.images.read(base["image_path"], image.size_from)
            if data is not None:
                base["image"] = {"bytes": data, "path": None}
                nbytes = len(data)
                r.images.rows += len(image.sentences) + len(image.added)
        size = image.size
        # funnel tallies for this image: [rows, boxes, links, zero-box rows] after each stage
        valid, specific, final = [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]
        for s in image.sentences:
            trail: list[dict] = []
            if s.no_box:
                no_object = [g for g, why in s.no_box.items() if why == NO_OBJECT]
                degenerate = [g for g, why in s.no_box.items() if why == DEGENERATE]
                if no_object:
                    r.no_object_by_region.update(no_object)
                    reason = "no box for this region in objects"
                    trail.append(_step("boxes", no_object, NO_OBJECT, reason))
                if degenerate:
                    where = f"{size[0]}x{size[1]} image" if size else "x, y >= 0"
                    reason = f"no area once clipped to the {where}"
                    trail.append(_step("boxes", degenerate, DEGENERATE, reason))
            _tally(valid, len(s.boxes), len(s.regions))
            kept: list[str] = []
            if s.boxes:
                decision = r.specificity.decide(s.key, tuple(s.boxes))
                kept = list(decision.keep)
                if decision.dropped or decision.note:
                    reason = "; ".join(f"{g}: {why}" for g, why in decision.dropped.items())
                    if decision.note:
                        reason = f"{reason} ({decision.note})" if reason else decision.note
                    removed = list(decision.dropped)
                    trail.append(_step("specificity", removed, decision.decided_by, reason))
            _tally(specific, len(kept), len(kept))
            r.flag_categories.update(_categories(s.flags))
            verdict = negatives.decide(s.flags, s.key)
            r.negative_rules[verdict.rule] += 1
            if verdict.zero:
                trail.append(_step("negative", kept, f"rule:{verdict.rule}", verdict.evidence))
                kept = []
            _tally(final, len(kept), len(kept))
            boxes = s.boxes
            row = {
                **base,
                "sample_id": _sample_id(dicom, s.key),
                "sentence": s.text,
                "boxes": [list(boxes[g]) for g in kept],
                "box_names": kept,
                "groundable": bool(kept),
                "label": negatives.positive_findings(s.flags) if kept else "",
                "original_regions": s.regions,
                "cleanup": trail,
            }
            add_row(len(kept), len(s.text.split()))
            sink_add(split, row, nbytes)
        for sentence in image.added:
            row = {
                **base,
                "sample_id": _sample_id(dicom, normalise(sentence)),
                "sentence": sentence,
                "boxes": [],
                "box_names": [],
                "groundable": False,
                "original_regions": [],
                "cleanup": [_NON_GROUNDING_STEP],
            }
            add_row(0, len(sentence.split()))
            sink_add(split, row, nbytes)
        stages = r.funnel.stages
        ngrounding = [final[0] + len(image.added), final[1], final[2], final[3] + len(image.added)]
        for name, tally in (
            ("valid_boxes", valid),
            ("specificity", specific),
            ("negatives", final),
            ("non_grounding", ngrounding),
        ):
            count = stages[name]
            count.images += tally[0] > 0
            count.rows += tally[0]
            count.boxes += tally[1]
            count.links += tally[2]
            count.zero_box_rows += tally[3]
        stats.images += ngrounding[0] > 0

    # -- the whole build -------------------------------------------------------------------

    def run(self) -> BuildResult:
        # Why: graphs and rows are acyclic and freed by reference counting, but the cyclic
        # collector's automatic passes re-walk every live container (the splits index, the
        # batches being buffered, the chunk) and cost more than the work itself. Everything
        # that lives through the build is frozen out of collection, automatic passes are off,
        # and one explicit pass per chunk keeps any cycle from accumulating.
        enabled = gc.isenabled()
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            return self._run()
        finally:
            if self.result.images is not None:
                self.result.images.close()
            gc.unfreeze()
            if enabled:
                gc.enable()

    def _run(self) -> BuildResult:
        r = self.result
        source = r.source
        total = len(source) if self.config.limit is None else min(len(source), self.config.limit)
        chunk: list[_Image] = []
        self._progress(0, total)
        for index, (name, data) in enumerate(source):
            if index >= total:
                break
            r.graphs_read += 1
            try:
                graph = parse_graph(data, name)
                if graph.image_id != dicom_id_of(name):
                    raise SceneGraphError(f"image_id {graph.image_id!r} differs from the file name")
                image = self._prepare(graph)
            except SceneGraphError as exc:
                r.errors.append((name, str(exc)))
                continue
            if image is not None:
                chunk.append(image)
            if len(chunk) >= self.config.chunk_graphs:
                self._finish_chunk(chunk)
                chunk = []
                gc.collect()
            if (index + 1) % 1000 == 0:
                self._progress(index + 1, total)
        self._finish_chunk(chunk)
        self._progress(total, total)
        source.close()
        r.size_metadata_file = self.sizes.metadata_file
        r.shards = self.sink.close()
        self.sink.remove_other_splits(set(r.split_stats))
        return r

    def _progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress("scene graphs", done, total)


def build_gmpg_imagenome(
    config: GmpgConfig,
    *,
    client: LLMClient | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build into ``config.out`` and write the manifest, report and card."""
    from medbench.builders.gmpg_imagenome.card import write_card
    from medbench.builders.gmpg_imagenome.report import write_manifest, write_report

    config.out.mkdir(parents=True, exist_ok=True)
    result = _Builder(config, client, progress).run()
    manifest = write_manifest(result, client)
    write_report(result)
    write_card(config.out, manifest)
    return result
