"""``medbench build``: build datasets from downloaded sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medbench.builders.cli_common import (
    AsJson,
    LLMOptions,
    OutDir,
    attribute_questions_line,
    demo_replica,
    exit_2_on,
    print_json_summary,
    print_table,
    progress_and_llm,
    require_root_or_demo,
    with_llm_options,
)
from medbench.builders.coco_ref.cli import coco_ref_command
from medbench.builders.cxr_grounding.cli import register_commands as register_cxr_commands
from medbench.builders.dap_prompts.cli import dap_prompts_command
from medbench.builders.gmpg_imagenome.cli import gmpg_imagenome_command
from medbench.builders.vgmed.build import BuildConfig, BuildError, build_vgmed
from medbench.builders.vgmed.extract import ExtractConfig
from medbench.builders.vgmed.questions import AttributeQuestionSource
from medbench.builders.vgmed.sampling import PAPER_TARGET
from medbench.builders.vqa.cli import vqa_command
from medbench.console import err_console

app = typer.Typer(no_args_is_help=True, help="Build datasets from the sources you downloaded.")
app.command("dap-prompts")(dap_prompts_command)
app.command("coco-ref")(coco_ref_command)
app.command("vqa")(vqa_command)
app.command("gmpg-imagenome")(gmpg_imagenome_command)
# ms-cxr, padchest-gr, rsna-pneumonia, covid-rural: one command each, registered together
register_cxr_commands(app)


def demo_source_root(out: Path, seed: int) -> Path:
    """Write the embedded layout replicas once under ``<out>/.work/demo-sources``."""
    from medbench.demo import write_demo_root

    return demo_replica(
        out / ".work" / f"demo-sources-seed{seed}", lambda root: write_demo_root(root, seed=seed)
    )


def llm_summary(source: AttributeQuestionSource) -> str:
    stats = source.summary()
    pairs = f"{stats['unique_pairs']} (modality, label) pairs"
    return attribute_questions_line(stats, pairs, pairs, "templates used")


@app.command("vgmed")
@with_llm_options
def vgmed(
    out: OutDir,
    source_root: Annotated[
        Path | None,
        typer.Option(
            "--source-root",
            help="Folder with one sub-folder per dataset id, each holding what the "
            "official archive extracts to.",
            envvar="MEDBENCH_SOURCE_ROOT",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Build from the embedded layout replicas.")
    ] = False,
    datasets: Annotated[
        list[str] | None,
        typer.Option("--dataset", "-d", help="Dataset id to include (repeatable; default all)."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Processes for case extraction.", min=1)] = 1,
    target: Annotated[
        int, typer.Option(help="Image–box pairs to sample (two questions each).", min=1)
    ] = PAPER_TARGET,
    cap_per_label: Annotated[
        int | None, typer.Option(help="At most this many pairs per (dataset, label).", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling, channels and questions.")] = 0,
    slice_policy: Annotated[
        str, typer.Option(help="'largest' (slice of largest area) or 'spread'.")
    ] = "largest",
    slices_per_structure: Annotated[
        int, typer.Option(help="Slices per structure with --slice-policy spread.", min=1)
    ] = 1,
    box_mode: Annotated[
        str, typer.Option(help="'union' (one box per structure) or 'components'.")
    ] = "union",
    min_pixels: Annotated[int, typer.Option(help="Minimum mask pixels per box.", min=0)] = 10,
    all_sequences: Annotated[
        bool,
        typer.Option(
            "--all-sequences",
            help="Multi-sequence MR: emit every sequence, not just each dataset's default "
            "sequence per structure.",
        ),
    ] = False,
    min_fraction: Annotated[
        float, typer.Option(help="Minimum mask area as a fraction of the image.", min=0, max=1)
    ] = 0.0,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit non-zero if any case failed.")
    ] = False,
    as_json: AsJson = False,
    *,
    llm_options: LLMOptions,
) -> None:
    """Build VGMED: image–box–question triplets from the VGMED source datasets.

    Attribute questions come from an LLM asked once per unique (modality, label): see the
    LLM options. Without one, medbench's offline templates write them (rows say so)."""
    require_root_or_demo(source_root, demo)
    with exit_2_on(BuildError, KeyError, ValueError, RuntimeError):
        extract = ExtractConfig(
            slice_policy=slice_policy,
            slices_per_structure=slices_per_structure,
            box_mode=box_mode,
            min_pixels=min_pixels,
            min_fraction=min_fraction,
            channels="all" if all_sequences else "default",
        )
        root = demo_source_root(out, seed) if demo else source_root
        config = BuildConfig(
            source_root=root,
            out=out,
            datasets=datasets or [],
            extract=extract,
            target=target,
            cap_per_label=cap_per_label,
            seed=seed,
            workers=workers,
        )
        with progress_and_llm(llm_options, seed) as (progress, client):
            source = AttributeQuestionSource(client)
            result = build_vgmed(config, attribute_source=source, progress=progress)

    for dataset, case_id, error in result.errors:
        err_console.print(
            f"[yellow]failed[/] {dataset}/{case_id}: {error}", highlight=False, soft_wrap=True
        )
    pairs = {}
    for c in result.selected:
        pairs[c.dataset] = pairs.get(c.dataset, 0) + 1
    print_table(
        f"VGMED → {out}",
        ("dataset", "cases", "failed", "candidates", "pairs", "note"),
        [
            (
                s.spec.id,
                str(s.cases),
                str(s.failed),
                str(s.candidates),
                str(pairs.get(s.spec.id, 0)),
                s.problem or "",
            )
            for s in result.sources
        ],
    )
    err_console.print(
        f"{len(result.selected)} pairs, {result.rows} rows in {len(result.shards)} shard(s); "
        f"{result.cases_from_cache}/{result.cases_total} cases from cache; "
        f"{len(result.errors)} failed cases, {len(result.skipped)} skipped items "
        f"(report/skipped.csv)",
        soft_wrap=True,
    )
    err_console.print(llm_summary(source), soft_wrap=True, highlight=False)
    print_json_summary(
        as_json,
        out,
        pairs=len(result.selected),
        rows=result.rows,
        shards=[vars(s) for s in result.shards],
        cases=result.cases_total,
        cases_from_cache=result.cases_from_cache,
        failed_cases=[{"dataset": d, "case_id": c, "error": e} for d, c, e in result.errors],
        skipped_items=len(result.skipped),
        llm=source.summary(),
    )
    if strict and result.errors:
        raise typer.Exit(1)
