"""``medbench build gmpg-imagenome``.

Bad input ends the command with a one-line ``error: ...`` and exit code 2: option values
(``--llm`` and the other LLM settings included), missing inputs, and an LLM that cannot be used
(the vllm package absent, the response cache unusable, a server that answers nothing)."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from medbench.builders.cli_common import (
    MAX_PRINTED_SKIPS,
    AsJson,
    LLMOptions,
    OutDir,
    demo_replica,
    exit_2_on,
    print_json_summary,
    with_llm_options,
)
from medbench.builders.gmpg_imagenome.build import (
    CHUNK_GRAPHS,
    BuildError,
    GmpgConfig,
    build_gmpg_imagenome,
)
from medbench.builders.gmpg_imagenome.regions import HierarchyError
from medbench.builders.gmpg_imagenome.reports import SENTENCE_SECTIONS
from medbench.builders.gmpg_imagenome.specificity import MODES
from medbench.console import err_console, stage_progress
from medbench.llm.options import LLMOptionError
from medbench.llm.runner import LLMClient
from medbench.llm.settings import LLMSettings


# LLMSettings field -> the option that sets it
def fail(message: str) -> NoReturn:
    """``error: <message>`` on one line (never wrapped), exit code 2."""
    err_console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)


def llm_settings(llm: LLMOptions) -> LLMSettings:
    """The LLM settings, or one line naming the bad option and what it accepts."""
    try:
        return llm.settings()
    except LLMOptionError as exc:
        fail(str(exc))


def demo_inputs(out: Path, seed: int) -> dict[str, Path]:
    """Write the layout replica once under ``<out>/.work/imagenome-demo-seed<N>``."""
    from medbench.demo import imagenome

    root = demo_replica(
        out / ".work" / f"imagenome-demo-seed{seed}", lambda root: imagenome.write(root, seed=seed)
    )
    return {
        "imagenome_root": root / imagenome.IMAGENOME,
        "mimic_reports": root / imagenome.REPORTS,
        "mimic_jpg": root / imagenome.JPG,
        "ms_cxr": root / imagenome.MS_CXR_CSV,
    }


@with_llm_options
def gmpg_imagenome_command(
    out: OutDir,
    imagenome_root: Annotated[
        Path | None,
        typer.Option(
            "--imagenome-root",
            help="Chest ImaGenome folder (holds silver_dataset/scene_graph/ or "
            "silver_dataset/scene_graph.zip, and silver_dataset/splits/).",
        ),
    ] = None,
    mimic_reports: Annotated[
        Path | None,
        typer.Option(
            "--mimic-reports",
            help="MIMIC-CXR reports folder (files/pXX/pXXXXXXXX/sXXXXXXXX.txt).",
        ),
    ] = None,
    mimic_jpg: Annotated[
        Path | None,
        typer.Option(
            "--mimic-jpg",
            help="MIMIC-CXR-JPG folder: image sizes from the JPEG headers, else from "
            "mimic-cxr-2.0.0-metadata.csv.gz. Without it sizes are 0 (unknown). "
            "--embed-images reads the JPEGs from here.",
        ),
    ] = None,
    ms_cxr: Annotated[
        Path | None,
        typer.Option(
            "--ms-cxr",
            help="MS-CXR CSV (MS_CXR_Local_Alignment_v1.*.csv): its studies are excluded.",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Build from the embedded layout replica.")
    ] = False,
    specificity: Annotated[
        str,
        typer.Option(
            help=f"Stage-1 decider: {' | '.join(MODES)}. 'llm' and 'both' need an LLM "
            "(--llm-base-url or --llm vllm); with 'both' rows follow the LLM and the report "
            "gives the agreement.",
        ),
    ] = "hierarchy",
    hierarchy: Annotated[
        Path | None,
        typer.Option(help="Region hierarchy YAML (default: the packaged regions.yaml)."),
    ] = None,
    report_sections: Annotated[
        str,
        typer.Option(help="Report sections whose sentences stage 3 considers, comma-separated."),
    ] = ",".join(SENTENCE_SECTIONS),
    limit: Annotated[
        int | None, typer.Option(help="Only the first N scene graphs (dicom-id order).", min=1)
    ] = None,
    chunk_graphs: Annotated[
        int, typer.Option(help="Images per LLM batch (memory holds one chunk).", min=1)
    ] = CHUNK_GRAPHS,
    seed: Annotated[int, typer.Option(help="Seed of the --demo replica.")] = 0,
    embed_images: Annotated[
        bool,
        typer.Option(
            "--embed-images",
            help="Store each image's JPEG from --mimic-jpg in its rows (local use only; the "
            "manifest and card say so and `medbench publish` refuses a public push). Missing "
            "or unreadable images are listed in report/missing_images.csv and their rows are "
            "written without bytes.",
        ),
    ] = False,
    as_json: AsJson = False,
    *,
    llm_options: LLMOptions,
) -> None:
    """Build GMPG-ImaGenome: Chest ImaGenome sentences with zero, one or many anatomy boxes.

    Paper 002's cleanup: (1) keep each sentence's most specific regions, (2) zero boxes for
    sentences with only negative findings, (3) add report sentences linked to no region;
    MS-CXR studies excluded. Credentialed data: rows point into MIMIC-CXR-JPG and hold no image
    bytes (unless --embed-images, for local use only); `medbench publish` refuses to push them
    publicly."""
    if demo == (imagenome_root is not None or mimic_reports is not None):
        fail("give --imagenome-root and --mimic-reports, or --demo")
    if not demo and (imagenome_root is None or mimic_reports is None):
        fail("--imagenome-root and --mimic-reports go together")
    if specificity not in MODES:
        fail(f"--specificity must be one of {', '.join(MODES)}")
    if embed_images and not demo and mimic_jpg is None:
        fail("--embed-images needs --mimic-jpg (the MIMIC-CXR-JPG folder the bytes come from)")
    settings = llm_settings(llm_options)
    if specificity != "hierarchy":
        if settings.backend == "template":
            fail(
                f"--specificity {specificity} needs an LLM: give --llm-base-url "
                "(an OpenAI-compatible server, e.g. `vllm serve`) or --llm vllm"
            )
        if settings.backend == "vllm" and importlib.util.find_spec("vllm") is None:
            fail(
                "--llm vllm needs the vllm package and a CUDA GPU: pip install "
                "'medbench[vllm]' (or use --llm openai with a `vllm serve` URL)"
            )
    if demo:
        paths = demo_inputs(out, seed)
    else:
        assert imagenome_root is not None and mimic_reports is not None
        paths = {
            "imagenome_root": imagenome_root,
            "mimic_reports": mimic_reports,
            "mimic_jpg": mimic_jpg,
            "ms_cxr": ms_cxr,
        }
    sections = tuple(s.strip().lower() for s in report_sections.split(",") if s.strip())
    config = GmpgConfig(
        out=out,
        specificity=specificity,
        hierarchy_file=hierarchy,
        sections=sections or SENTENCE_SECTIONS,
        limit=limit,
        chunk_graphs=chunk_graphs,
        embed_images=embed_images,
        **paths,
    )
    # RuntimeError: BuildError, LLMUnavailable, the response cache's CacheError, a vllm backend
    # that cannot start; sqlite3.Error: a cache file that cannot be opened
    with (
        exit_2_on(
            BuildError,
            HierarchyError,
            OSError,
            ValueError,
            RuntimeError,
            sqlite3.Error,
            highlight=False,
        ),
        stage_progress() as progress,
    ):
        client = (
            LLMClient(settings, seed=seed, progress=progress)
            if specificity != "hierarchy"
            else None
        )
        try:
            result = build_gmpg_imagenome(config, client=client, progress=progress)
        finally:
            if client is not None:
                client.close()

    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    spec = manifest["specificity"]
    leak = manifest["leakage"]
    err_console.print(
        f"{result.rows} rows from {result.graphs_read} scene graphs "
        f"({len(result.errors)} unreadable, {sum(result.excluded_by_reason.values())} images "
        f"excluded: {dict(result.excluded_by_reason)}) in {len(result.shards)} shard(s); "
        f"sentence-box pairs reduced by {manifest['reduction']['sentence_box_pairs']}",
        soft_wrap=True,
        highlight=False,
    )
    if spec["mode"] != "hierarchy":
        err_console.print(
            f"specificity LLM: {spec['requests_before_dedup']} decisions, "
            f"{spec['unique_requests']} unique requests, "
            f"{spec['llm_failures_fell_back_to_hierarchy']} fell back to the hierarchy",
            highlight=False,
        )
    if not leak["applied"]:
        err_console.print("[yellow]warning:[/] no --ms-cxr: MS-CXR studies were not excluded")
    images = result.images
    if images is not None:
        for path, problem, outcome in images.first_issues[:MAX_PRINTED_SKIPS]:
            err_console.print(
                f"[yellow]image {escape(problem)}[/] {escape(path)}: {escape(outcome)}",
                soft_wrap=True,
                highlight=False,
            )
        err_console.print(
            f"images embedded (local use only): {images.images} images in {images.rows} rows; "
            f"{sum(images.issues.values())} missing or unreadable (report/missing_images.csv)",
            soft_wrap=True,
            highlight=False,
        )
    print_json_summary(
        as_json,
        out,
        rows=result.rows,
        graphs_read=result.graphs_read,
        errors=len(result.errors),
        excluded_images=dict(result.excluded_by_reason),
        funnel=manifest["funnel"],
        reduction=manifest["reduction"],
        table2=manifest["table2"],
        specificity=spec,
        leakage=leak,
        shards=manifest["shards"],
        images_embedded=manifest["images_embedded"],
        **({"images": images.summary()} if images is not None else {}),
    )
