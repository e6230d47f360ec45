"""One build path for the four benchmarks: read (per-benchmark module) → rows → shards,
manifest, report, card."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from medbench.builders.cxr_grounding import covid_rural, mscxr, padchest_gr, rsna_pneumonia
from medbench.builders.cxr_grounding.output import (
    BenchmarkText,
    build_manifest,
    write_card,
    write_manifest,
    write_report,
    write_rows,
)
from medbench.builders.cxr_grounding.records import BuildError, ReadResult, Skip, SourceInfo
from medbench.builders.shards import ShardInfo

_SPLIT_NAME = re.compile(r"^\w+$")


@dataclass(frozen=True)
class Benchmark:
    name: str
    reader: ModuleType  # read(source_root, image_root) -> ReadResult; SOURCE
    demo: str  # medbench.demo.cxr module name
    text: BenchmarkText

    @property
    def source(self) -> SourceInfo:
        return self.reader.SOURCE

    @property
    def read(self) -> Callable[[Path, Path | None], ReadResult]:
        return self.reader.read


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            mscxr.NAME,
            mscxr,
            "ms_cxr",
            BenchmarkText(
                pretty_name="MS-CXR phrase grounding (medbench)",
                query="the MS-CXR phrase (`label_text`); label = `category_name`.",
                boxes="the CSV's xywh pixel boxes as [x, y, x + w, y + h]; rows with the same "
                "dicom_id and label_text are one multi-box phrase; scaled when the stored "
                "JPEG's size differs from the CSV's image_width/image_height.",
                splits="the v1.1.0 `split` column; v1.0.0 (no split column) is all `test`.",
            ),
        ),
        Benchmark(
            padchest_gr.NAME,
            padchest_gr,
            "padchest_gr",
            BenchmarkText(
                pretty_name="PadChest-GR sentence grounding (medbench)",
                query="the finding sentence in English (`sentence_en`; Spanish only where the "
                "English is empty); label = the finding's `labels`; `original_regions` = its "
                "`locations`.",
                boxes="`boxes` (normalised 0..1, read as [x1, y1, x2, y2]) × the PNG's size; "
                "non-abnormal sentences are zero-box rows (groundable false); `extra_boxes` "
                "are not used.",
                splits="`master_table.csv` (`split` per StudyID).",
            ),
        ),
        Benchmark(
            rsna_pneumonia.NAME,
            rsna_pneumonia,
            "rsna_pneumonia",
            BenchmarkText(
                pretty_name="RSNA Pneumonia grounding (medbench)",
                query='"pneumonia" for every image (the disease name, as DAP prompts); label = '
                "the `stage_2_detailed_class_info.csv` class when present.",
                boxes="`stage_2_train_labels.csv` xywh pixel boxes as [x, y, x + w, y + h], all "
                "boxes of a patient on one row; Target 0 images are zero-box rows. No mask "
                "column: the challenge's masks are these boxes filled in (rasterise `boxes` "
                "for pointing game / Dice).",
                splits="`train` (the stage 2 training labels are the only published labels).",
            ),
        ),
        Benchmark(
            covid_rural.NAME,
            covid_rural,
            "covid_rural",
            BenchmarkText(
                pretty_name="COVID Rural opacity grounding (medbench)",
                query='"COVID-19" for every image (the disease name, as DAP prompts).',
                boxes="one box per 8-connected component of `pngs_masks/<stem>.png` (opacity "
                "= 1); an empty mask is a zero-box row.",
                splits="no official split: every row is `test`.",
            ),
        ),
    )
}


@dataclass
class BuildResult:
    benchmark: Benchmark
    out: Path
    read: ReadResult
    shards: list[ShardInfo]
    manifest: dict


def build(
    name: str,
    out: Path,
    source_root: Path,
    image_root: Path | None = None,
    *,
    embed_images: bool = False,
    demo: bool = False,
) -> BuildResult:
    if name not in BENCHMARKS:
        raise BuildError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    bench = BENCHMARKS[name]
    if not source_root.is_dir():
        raise BuildError(f"{source_root}: not a directory")
    if image_root is not None and not image_root.is_dir():
        raise BuildError(f"{image_root}: --image-root is not a directory")
    result = bench.read(source_root, image_root)
    kept = []
    for sample in result.samples:
        if _SPLIT_NAME.match(sample.row.split):
            kept.append(sample)
        else:
            reason = f"split {sample.row.split!r} is not a usable split name"
            result.skipped.append(Skip(sample.row.image_id, "bad_split", reason))
    result.samples = kept
    out.mkdir(parents=True, exist_ok=True)
    write_report(out, result)
    if not result.samples:
        raise BuildError(
            f"{source_root}: no rows built ({len(result.skipped)} items skipped, see "
            f"{out / 'report' / 'skipped.csv'})"
        )
    shards = write_rows(out, result.samples, embed_images)
    config = {
        "benchmark": name,
        "source_root": str(source_root),
        "image_root": str(image_root) if image_root else None,
        "embed_images": embed_images,
        "demo": demo,
    }
    manifest = build_manifest(name, bench.source, result, shards, config, embed_images)
    write_manifest(out, manifest)
    write_card(out, manifest, bench.source, bench.text)
    return BuildResult(bench, out, result, shards, manifest)
