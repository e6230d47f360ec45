"""``medbench build``: build datasets from downloaded sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medbench.builders.coco_ref.cli import coco_ref_command
from medbench.builders.cxr_grounding.cli import register_commands as register_cxr_commands
from medbench.builders.dap_prompts.cli import dap_prompts_command
from medbench.builders.gmpg_imagenome.cli import gmpg_imagenome_command
from medbench.builders.vgmed.build import BuildConfig, BuildError, build_vgmed
from medbench.builders.vgmed.extract import ExtractConfig
from medbench.builders.vgmed.questions import AttributeQuestionSource
from medbench.builders.vgmed.sampling import PAPER_TARGET
from medbench.builders.vqa.cli import vqa_command
from medbench.console import err_console, print_json, stage_progress
from medbench.llm import options
from medbench.llm.runner import LLMClient

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

    root = out / ".work" / f"demo-sources-seed{seed}"
    marker = root / ".complete"
    if not marker.exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        write_demo_root(root, seed=seed)
        marker.write_text("ok\n")
    return root


def llm_summary(source: AttributeQuestionSource) -> str:
    stats = source.summary()
    pairs = f"{stats['unique_pairs']} (modality, label) pairs"
    if stats["backend"] == "template":
        return f"attribute questions: offline templates, {pairs}"
    return (
        f"attribute questions: {stats['backend']}:{stats['model']}, {pairs}, "
        f"{stats['cache_hits']} from cache, {stats['calls']} calls, "
        f"{stats['failures']} failed (templates used), "
        f"{stats['prompt_tokens'] + stats['completion_tokens']} tokens"
    )


@app.command("vgmed")
def vgmed(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output dataset folder.")],
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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
    llm: options.Backend = None,
    llm_base_url: options.BaseUrl = None,
    llm_model: options.Model = None,
    llm_concurrency: options.Concurrency = 32,
    llm_timeout: options.Timeout = 120.0,
    llm_attempts: options.Attempts = 6,
    llm_cache: options.CachePath = None,
    no_llm_cache: options.NoCache = False,
) -> None:
    """Build VGMED: image–box–question triplets from the VGMED source datasets.

    Attribute questions come from an LLM asked once per unique (modality, label): see the
    LLM options. Without one, medbench's offline templates write them (rows say so)."""
    if demo == (source_root is not None):
        err_console.print("[red]error:[/] give exactly one of --source-root or --demo")
        raise typer.Exit(2)
    try:
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
        settings = options.resolve_settings(
            llm,
            llm_base_url,
            llm_model,
            llm_concurrency,
            llm_timeout,
            llm_attempts,
            llm_cache,
            no_llm_cache,
        )
        with (
            stage_progress() as progress,
            LLMClient(settings, seed=seed, progress=progress) as client,
        ):
            source = AttributeQuestionSource(client)
            result = build_vgmed(config, attribute_source=source, progress=progress)
    except (BuildError, KeyError, ValueError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        err_console.print(f"[red]error:[/] {message}", soft_wrap=True)
        raise typer.Exit(2) from None

    for dataset, case_id, error in result.errors:
        err_console.print(
            f"[yellow]failed[/] {dataset}/{case_id}: {error}", highlight=False, soft_wrap=True
        )
    table = Table(title=f"VGMED → {out}", show_lines=False)
    for column in ("dataset", "cases", "failed", "candidates", "pairs", "note"):
        table.add_column(column)
    pairs = {}
    for c in result.selected:
        pairs[c.dataset] = pairs.get(c.dataset, 0) + 1
    for s in result.sources:
        table.add_row(
            s.spec.id,
            str(s.cases),
            str(s.failed),
            str(s.candidates),
            str(pairs.get(s.spec.id, 0)),
            s.problem or "",
        )
    err_console.print(table)
    err_console.print(
        f"{len(result.selected)} pairs, {result.rows} rows in {len(result.shards)} shard(s); "
        f"{result.cases_from_cache}/{result.cases_total} cases from cache; "
        f"{len(result.errors)} failed cases, {len(result.skipped)} skipped items "
        f"(report/skipped.csv)",
        soft_wrap=True,
    )
    err_console.print(llm_summary(source), soft_wrap=True, highlight=False)
    if as_json:
        print_json(
            {
                "out": str(out),
                "pairs": len(result.selected),
                "rows": result.rows,
                "shards": [vars(s) for s in result.shards],
                "cases": result.cases_total,
                "cases_from_cache": result.cases_from_cache,
                "failed_cases": [
                    {"dataset": d, "case_id": c, "error": e} for d, c, e in result.errors
                ],
                "skipped_items": len(result.skipped),
                "llm": source.summary(),
            }
        )
    if strict and result.errors:
        raise typer.Exit(1)
