"""``medbench build coco-ref``: the command (registered in ``medbench.builders.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medbench.builders.cli_common import (
    AsJson,
    LLMOptions,
    OutDir,
    attribute_questions_line,
    count_kinds,
    demo_replica,
    exit_2_on,
    print_json_summary,
    print_skips,
    progress_and_llm,
    require_root_or_demo,
    with_llm_options,
)
from medbench.builders.coco_ref.build import BuildError, CocoBuildConfig, build_coco_ref
from medbench.builders.coco_ref.layout import DEFAULT_MIN_PIXELS, KNOWN_SPLITS
from medbench.builders.coco_ref.questions import CocoAttributeSource
from medbench.builders.vgmed.sampling import PAPER_TARGET
from medbench.console import err_console


def demo_coco_root(out: Path) -> Path:
    """Write the COCO replica once under ``<out>/.work/demo-coco``."""
    from medbench.demo import coco

    return demo_replica(out / ".work" / "demo-coco", coco.write)


def llm_summary(source: CocoAttributeSource) -> str:
    stats = source.summary()
    asked = f"{stats['unique_labels']} categories × {stats['requests_per_label']}"
    fallback = f"{len(stats['labels_on_templates'])} categories on templates"
    return attribute_questions_line(stats, asked, f"{asked} requests", fallback)


@with_llm_options
def coco_ref_command(
    out: OutDir,
    coco_root: Annotated[
        Path | None,
        typer.Option(
            "--coco-root",
            help="COCO folder as downloaded: annotations/instances_<split>.json and "
            "<split>/<file_name>.jpg, for splits train/val 2014/2017.",
            envvar="MEDBENCH_COCO_ROOT",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Build from the embedded COCO layout replica.")
    ] = False,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help=f"COCO split to read. Default: the first present of {', '.join(KNOWN_SPLITS)}.",
        ),
    ] = None,
    target: Annotated[
        int,
        typer.Option(help="Image–box pairs to sample (two questions each); VGMED's count.", min=1),
    ] = PAPER_TARGET,
    seed: Annotated[int, typer.Option(help="Seed for sampling and question choice.")] = 0,
    min_pixels: Annotated[
        float,
        typer.Option(help="Minimum box area (w × h, px²); smaller boxes are skipped.", min=0),
    ] = DEFAULT_MIN_PIXELS,
    questions_per_label: Annotated[
        int,
        typer.Option(
            help="Attribute-question requests per category (sampling seeds 0..K-1 at "
            "temperature 0.7 when K > 1; pairs pick among the distinct answers).",
            min=1,
        ),
    ] = 1,
    workers: Annotated[int, typer.Option(help="Threads decoding the sampled images.", min=1)] = 4,
    as_json: AsJson = False,
    *,
    llm_options: LLMOptions,
) -> None:
    """Build the COCO reference set: VGMED's question pipeline on COCO image–box pairs.

    Samples as many pairs as VGMED has (stratified by supercategory, then category), each
    with a localization and an attribute question. Attribute questions come from an LLM asked
    once per unique category (see the LLM options); without one, medbench's offline templates
    write them (rows say so). Skipped annotations and images are in report/skipped.csv."""
    require_root_or_demo(coco_root, demo, "--coco-root")
    with exit_2_on(BuildError, KeyError, ValueError, RuntimeError):
        root = demo_coco_root(out) if demo else coco_root
        config = CocoBuildConfig(
            coco_root=root,
            out=out,
            coco_split=split,
            target=target,
            seed=seed,
            min_pixels=min_pixels,
            questions_per_label=questions_per_label,
            workers=workers,
        )
        with progress_and_llm(llm_options, seed) as (progress, client):
            source = CocoAttributeSource(client, per_label=questions_per_label)
            result = build_coco_ref(config, attribute_source=source, progress=progress)

    # crowd regions and tiny boxes are expected by the thousand: counted, not printed
    problems = [s for s in result.skipped if s.kind not in ("iscrowd", "tiny_box")]
    print_skips([skip.line() for skip in problems], more_in="report/skipped.csv")
    err_console.print(
        f"COCO {result.split.name} → {out}: {len(result.selected)} pairs "
        f"({len({c.label for c in result.selected})} categories), {result.rows} rows in "
        f"{len(result.shards)} shard(s); skipped: {count_kinds(result.skipped)} "
        "(report/skipped.csv)",
        soft_wrap=True,
        highlight=False,
    )
    err_console.print(llm_summary(source), soft_wrap=True, highlight=False)
    print_json_summary(
        as_json,
        out,
        coco_split=result.split.name,
        splits_found=result.splits_found,
        pairs=len(result.selected),
        rows=result.rows,
        shards=[vars(s) for s in result.shards],
        skipped=[vars(s) for s in result.skipped],
        llm=source.summary(),
    )
