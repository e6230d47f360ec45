"""Build GMPG-ImaGenome: Chest ImaGenome scene graphs + MIMIC-CXR reports → grounding rows
(sentence → zero, one or many anatomy boxes) with paper 002's three-stage cleanup.

Streaming: graphs are read one at a time (folder or zip) and processed in chunks of
``chunk_graphs`` images (the unit an LLM batch is asked for); each finished image's rows go
straight to its split's ``ShardWriter``. What stays in memory for the whole build is bounded by
the tables around the graphs (the splits index, MS-CXR, the MIMIC-CXR-JPG metadata if used), the
LLM answers (one short entry per unique sentence–region set) and fixed-size counters. With
``embed_images`` each image's JPEG is read when its rows are written, and the writers flush by
bytes, so image data in memory stays bounded too. A split that gets no rows (``--limit``) has no
shards and is left out of the card's splits; a build with no rows at all is an error.
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
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
    report_sentence_keys,
    reports_files_root,
)
from medbench.builders.gmpg_imagenome.scene_graph import (
    GraphSource,
    SceneGraph,
    SceneGraphError,
    dicom_id_of,
    parse_graph,
)
from medbench.builders.gmpg_imagenome.specificity import SpecificityStage
from medbench.builders.gmpg_imagenome.stats import Funnel, SplitStats
from medbench.builders.shards import (
    IMAGE_ROW_GROUP_SIZE,
    MAX_SHARD_BYTES,
    TEXT_ROW_BYTES,
    TEXT_ROW_GROUP_SIZE,
    ShardInfo,
    ShardWriter,
    remove_other_splits,
)
from medbench.llm.runner import LLMClient
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA

DATASET = "gmpg-imagenome"
CHUNK_GRAPHS = 2000
GC_EVERY = 16_000  # graphs between two cyclic-garbage passes (see _Builder.run)
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
    # region -> sentences linking it (after image exclusions) / keeping its box at the end
    region_links: Counter = field(default_factory=Counter)
    region_kept: Counter = field(default_factory=Counter)
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


# GROUNDING_ARROW_SCHEMA's columns: rows go to the writers as tuples in this order
ROW_COLUMNS = (
    "sample_id",
    "dataset",
    "image_id",
    "study_id",
    "subject_id",
    "split",
    "image_path",
    "image",
    "image_width",
    "image_height",
    "image_size_source",
    "sentence",
    "boxes",
    "box_names",
    "groundable",
    "label",
    "attributes",
    "original_regions",
    "cleanup",
)
if tuple(GROUNDING_ARROW_SCHEMA.names) != ROW_COLUMNS:  # the schema changed: update _emit
    raise RuntimeError(f"GroundingRow columns {GROUNDING_ARROW_SCHEMA.names} != {ROW_COLUMNS}")


def _step(stage: str, removed: list[str], decided_by: str, reason: str = "") -> dict:
    return {"stage": stage, "removed": removed, "decided_by": decided_by, "reason": reason}


_NON_GROUNDING_TRAIL = [
    _step(
        "non-grounding",
        [],
        "report-sentence",
        "report sentence linked to no region in the scene graph",
    )
]
_NO_OBJECT_REASON = "no box for this region in objects"


def _sample_id(dicom: str, key: str) -> str:
    """``stable_hash(DATASET, dicom, key)``, inlined: it runs once per row."""
    text = f"{DATASET}\x1f{dicom}\x1f{key}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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
        self.writers: dict[str, ShardWriter] = {}  # opened at a split's first row
        self._flag_counts: dict[tuple[str, ...], int] = {}  # sentences per flag set
        # sentences per linked / finally kept region set (few distinct sets: expanded once)
        self._link_sets: dict[tuple[str, ...], int] = {}
        self._kept_sets: dict[tuple[str, ...], int] = {}
        # the Hub's 100-row groups for image tables; text rows in larger groups
        self.row_group_size = IMAGE_ROW_GROUP_SIZE if config.embed_images else TEXT_ROW_GROUP_SIZE
        if config.embed_images:  # opened last: its file is closed when run() ends
            assert config.mimic_jpg is not None
            staging = Path(config.out) / ".work" / "staging"
            self.result.images = ImageEmbedder(Path(config.mimic_jpg), staging)

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
        if valid.degenerate:
            r.degenerate_by_region.update(valid.degenerate)
        r.containment.add(valid.boxes)
        sentences = invert(groups, valid)
        added = self._report_sentences(graph, entry, groups)
        return _Image(graph, entry, size, where, sentences, added)

    def _count_source(
        self, stages: tuple[str, ...], graph: SceneGraph, groups: dict[str, Group]
    ) -> None:
        links = boxed = zero = 0
        boxes = graph.boxes
        for group in groups.values():
            n = 0
            for region in group.regions:
                n += region in boxes
            links += len(group.regions)
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
        exact = contained = 0
        sentences = report_sentence_keys(text, self.config.sections)
        for sentence, key in sentences.items():
            if key in groups:
                exact += 1
            elif any(key in k or k in key for k in keys):
                contained += 1
            else:
                added.append(sentence)
        # only counts that happened: += 0 would add a key the manifest then lists as 0
        if sentences:
            counts["report_sentences"] += len(sentences)
        if exact:
            counts["matched_exactly"] += exact
        if contained:
            counts["matched_by_containment"] += contained
        if added:
            counts["added_non_grounding"] += len(added)
        return added

    # -- per chunk -------------------------------------------------------------------------

    def _finish_chunk(self, chunk: list[_Image]) -> None:
        stage = self.result.specificity
        stage.prepare(
            (s.key, s.text, tuple(s.boxes)) for image in chunk for s in image.sentences if s.boxes
        )
        for image in chunk:
            self._emit(image)

    def _writer(self, split: str) -> ShardWriter:
        writer = self.writers.get(split)
        if writer is None:
            writer = self.writers[split] = ShardWriter(
                self.config.out,
                split,
                GROUNDING_ARROW_SCHEMA,
                max_bytes=self.config.max_shard_bytes,
                row_group_size=self.row_group_size,
            )
        return writer

    def _emit(self, image: _Image) -> None:
        """The image's rows, as tuples in ``ROW_COLUMNS`` order (it runs once per sentence of
        the build, so it is written for speed: locals, shared read-only trail entries)."""
        r = self.result
        split = image.entry.split
        stats = r.split_stats.setdefault(split, SplitStats())
        sentences, added = image.sentences, image.added
        if not sentences and not added:
            return  # no rows (every tally below would add 0): no writer opened for it
        write = self._writer(split).add
        g, e = image.graph, image.entry
        dicom, path, size, size_from = g.image_id, e.jpg_path, image.size, image.size_from
        study, subject = e.study_id or g.study_id, e.subject_id or g.subject_id
        width, height = size or (0, 0)
        cell = None
        nbytes = TEXT_ROW_BYTES
        if r.images is not None:
            data = r.images.read(path, size_from)
            if data is not None:
                cell = {"bytes": data, "path": None}
                nbytes += len(data)  # every row of the image carries its own copy
                r.images.rows += len(sentences) + len(added)
        decide = r.specificity.decide
        negative = negatives.decide
        positive_findings = negatives.positive_findings
        no_object_by_region = r.no_object_by_region
        negative_rules = r.negative_rules
        flag_counts = self._flag_counts
        link_sets, kept_sets = self._link_sets, self._kept_sets
        degenerate_reason = None
        # funnel tallies for this image after each stage: rows, boxes, links, zero-box rows
        valid_boxes = valid_links = valid_zero = 0
        words = words_sq = 0  # table 2's sentence lengths (SplitStats), summed here
        specific_boxes = specific_zero = 0
        final_boxes = final_zero = final_one = 0
        for s in sentences:
            boxes = s.boxes
            key = s.key
            flags = s.flags
            trail: list[dict] = []
            if s.no_box:
                no_object = [g for g, why in s.no_box.items() if why == NO_OBJECT]
                degenerate = [g for g, why in s.no_box.items() if why == DEGENERATE]
                if no_object:
                    for region in no_object:
                        no_object_by_region[region] += 1
                    trail.append(_step("boxes", no_object, NO_OBJECT, _NO_OBJECT_REASON))
                if degenerate:
                    if degenerate_reason is None:
                        where = f"{size[0]}x{size[1]} image" if size else "x, y >= 0"
                        degenerate_reason = f"no area once clipped to the {where}"
                    trail.append(_step("boxes", degenerate, DEGENERATE, degenerate_reason))
            n = len(boxes)
            link_sets[s.regions] = link_sets.get(s.regions, 0) + 1
            valid_boxes += n
            valid_links += len(s.regions)
            valid_zero += n == 0
            kept: tuple[str, ...] = ()
            if n:
                decision, step = decide(key, tuple(boxes))
                kept = decision.keep
                if step is not None:
                    trail.append(step)
            n = len(kept)
            specific_boxes += n
            specific_zero += n == 0
            flag_counts[flags] = flag_counts.get(flags, 0) + 1
            verdict = negative(flags, key)
            negative_rules[verdict.rule] += 1
            if verdict.zero:
                trail.append(
                    _step("negative", list(kept), f"rule:{verdict.rule}", verdict.evidence)
                )
                kept = ()
            n = len(kept)
            if n:
                kept_sets[kept] = kept_sets.get(kept, 0) + 1
            final_boxes += n
            final_zero += n == 0
            final_one += n == 1
            text = s.text
            write(
                (
                    _sample_id(dicom, key),
                    DATASET,
                    dicom,
                    study,
                    subject,
                    split,
                    path,
                    cell,
                    width,
                    height,
                    size_from,
                    text,
                    [boxes[g] for g in kept],
                    kept,
                    n > 0,
                    positive_findings(flags) if n else "",
                    flags,
                    s.regions,
                    trail,
                ),
                nbytes,
            )
            w = text.count(" ") + 1  # words: the text is single-spaced, not empty
            words += w
            words_sq += w * w
        for sentence in added:
            write(
                (
                    _sample_id(dicom, normalise(sentence)),
                    DATASET,
                    dicom,
                    study,
                    subject,
                    split,
                    path,
                    cell,
                    width,
                    height,
                    size_from,
                    sentence,
                    [],
                    [],
                    False,
                    "",
                    [],  # a report sentence: the scene graph gave it no flags
                    [],
                    _NON_GROUNDING_TRAIL,
                ),
                nbytes,
            )
            w = sentence.count(" ") + 1
            words += w
            words_sq += w * w
        rows, extra = len(sentences), len(added)
        stages = r.funnel.stages
        for name, tally in (
            ("valid_boxes", (rows, valid_boxes, valid_links, valid_zero)),
            ("specificity", (rows, specific_boxes, specific_boxes, specific_zero)),
            ("negatives", (rows, final_boxes, final_boxes, final_zero)),
            ("non_grounding", (rows + extra, final_boxes, final_boxes, final_zero + extra)),
        ):
            count = stages[name]
            count.images += tally[0] > 0
            count.rows += tally[0]
            count.boxes += tally[1]
            count.links += tally[2]
            count.zero_box_rows += tally[3]
        stats.images += rows + extra > 0
        stats.rows += rows + extra
        stats.boxes += final_boxes
        stats.by_count[0] += final_zero + extra
        stats.by_count[1] += final_one
        stats.by_count[2] += rows - final_zero - final_one
        stats.words += words
        stats.words_sq += words_sq

    # -- the whole build -------------------------------------------------------------------

    def run(self) -> BuildResult:
        # Why: graphs and rows are acyclic and freed by reference counting, but the cyclic
        # collector's automatic passes re-walk every live container (the splits index, the
        # batches being buffered, the chunk) and cost more than the work itself. Everything
        # that lives through the build is frozen out of collection, automatic passes are off,
        # and an explicit young-generation pass every GC_EVERY graphs keeps any cycle from
        # accumulating (none has been seen). Even that pass walks every row the writers hold
        # (~0.08 s), so it is not run per chunk.
        enabled = gc.isenabled()
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            return self._run()
        except BaseException:  # staged shards of an unfinished build go; data/ stays as it was
            for writer in self.writers.values():
                writer.abort()
            raise
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
            else:
                if image is not None:
                    chunk.append(image)
                if len(chunk) >= self.config.chunk_graphs:
                    self._finish_chunk(chunk)
                    chunk = []
            if (index + 1) % GC_EVERY == 0:
                gc.collect(0)
            if (index + 1) % 1000 == 0:
                self._progress(index + 1, total)
        self._finish_chunk(chunk)
        self._progress(total, total)
        source.close()
        r.size_metadata_file = self.sizes.metadata_file
        for flags, n in self._flag_counts.items():  # few distinct flag sets: counted once each
            for category in _categories(flags):
                r.flag_categories[category] += n
        for sets, counter in ((self._link_sets, r.region_links), (self._kept_sets, r.region_kept)):
            for regions, n in sets.items():
                for region in regions:
                    counter[region] += n
        for split in sorted(self.writers):
            r.shards += self.writers[split].close()
        # an earlier build's shards of splits this one has no rows for
        remove_other_splits(self.config.out, self.writers)
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
    if not result.shards:  # the report still lists why: errors, exclusions
        write_report(result)
        raise BuildError(
            f"{result.source.path}: no rows built ({result.graphs_read} scene graphs read, "
            f"{len(result.errors)} unreadable, {sum(result.excluded_by_reason.values())} images "
            f"excluded; see {config.out / 'report'}); nothing written under data/"
        )
    manifest = write_manifest(result, client)
    write_report(result)
    write_card(config.out, manifest)
    return result
