"""``medbench build dap-prompts``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medbench.builders.dap_prompts.build import (
    DEFAULT_MAX_ROUNDS,
    PAPER_PER_DISEASE,
    DAPPromptsConfig,
    build_dap_prompts,
    shortfall_line,
)
from medbench.builders.dap_prompts.diseases import DEFAULT_DISEASES, parse_disease_list
from medbench.console import err_console, print_json, stage_progress
from medbench.llm import options
from medbench.llm.runner import LLMClient


def dap_prompts_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output dataset folder.")],
    diseases: Annotated[
        str,
        typer.Option(
            help="Comma-separated disease labels. Default: MS-CXR's eight findings and "
            "COVID-19 (paper 000's evaluation labels).",
        ),
    ] = ",".join(DEFAULT_DISEASES),
    per_disease: Annotated[
        int, typer.Option(help="Descriptions to keep per disease (paper 000: 50).", min=1)
    ] = PAPER_PER_DISEASE,
    seed: Annotated[
        int, typer.Option(help="Sampling seed of the first request; round k uses seed + k.")
    ] = 0,
    max_rounds: Annotated[
        int,
        typer.Option(
            help="Requests per disease at most: a disease still short after a round is asked "
            "again with the next seed.",
            min=1,
        ),
    ] = DEFAULT_MAX_ROUNDS,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any disease falls short.")
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
    """Build the DAP disease-description table: PER_DISEASE location-free chest X-ray
    descriptions per disease label, asked of an LLM with paper 000's app. D prompt.

    Sentences that are too short or long, name an anatomical location, do not name the
    disease, or repeat one already kept are dropped and listed in report/rejected.csv.
    Without an LLM, medbench's offline sentence patterns answer (rows say 'template'),
    and the shortfall is reported, never padded."""
    try:
        config = DAPPromptsConfig(
            out=out,
            diseases=parse_disease_list(diseases),
            per_disease=per_disease,
            seed=seed,
            max_rounds=max_rounds,
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
            result = build_dap_prompts(config, client)
    except (KeyError, ValueError, RuntimeError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        err_console.print(f"[red]error:[/] {message}", soft_wrap=True)
        raise typer.Exit(2) from None

    manifest = result.manifest
    table = Table(title=f"DAP descriptions → {out}")
    for column in ("disease", "kept", "candidates", "rejected", "rounds", "stopped"):
        table.add_column(column)
    for disease, c in manifest["counts"]["by_disease"].items():
        rejected = ", ".join(f"{k} {v}" for k, v in c["rejected"].items())
        table.add_row(
            disease,
            f"{c['kept']}/{c['wanted']}",
            str(c["candidates"]),
            rejected,
            str(c["rounds"]),
            c["stopped"],
        )
    err_console.print(table)
    stats = manifest["llm"]
    err_console.print(
        f"{manifest['counts']['rows']} descriptions from {manifest['description_source']}; "
        f"{stats['requests']} requests, {stats['cache_hits']} from cache, {stats['calls']} "
        f"calls, {stats['prompt_tokens'] + stats['completion_tokens']} tokens; "
        f"{manifest['counts']['rejected']} rejected (report/rejected.csv)",
        soft_wrap=True,
        highlight=False,
    )
    if result.shortfalls:
        err_console.print(
            f"[yellow]warning:[/] {shortfall_line(result.shortfalls)}",
            soft_wrap=True,
            highlight=False,
        )
    if as_json:
        print_json(
            {
                "out": str(out),
                "rows": manifest["counts"]["rows"],
                "by_disease": manifest["counts"]["by_disease"],
                "shortfalls": result.shortfalls,
                "llm": stats,
                "shards": manifest["shards"],
            }
        )
    if strict and result.shortfalls:
        raise typer.Exit(1)
