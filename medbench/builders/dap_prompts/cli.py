"""``medbench build dap-prompts``."""

from __future__ import annotations

from typing import Annotated

import typer

from medbench.builders.cli_common import (
    AsJson,
    LLMOptions,
    OutDir,
    exit_2_on,
    print_json_summary,
    print_table,
    progress_and_llm,
    with_llm_options,
)
from medbench.builders.dap_prompts.build import (
    DEFAULT_MAX_ROUNDS,
    PAPER_PER_DISEASE,
    DAPPromptsConfig,
    build_dap_prompts,
    shortfall_line,
)
from medbench.builders.dap_prompts.diseases import DEFAULT_DISEASES, parse_disease_list
from medbench.console import err_console


@with_llm_options
def dap_prompts_command(
    out: OutDir,
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
    as_json: AsJson = False,
    *,
    llm_options: LLMOptions,
) -> None:
    """Build the DAP disease-description table: PER_DISEASE location-free chest X-ray
    descriptions per disease label, asked of an LLM with paper 000's app. D prompt.

    Sentences that are too short or long, name an anatomical location, do not name the
    disease, or repeat one already kept are dropped and listed in report/rejected.csv.
    Without an LLM, medbench's offline sentence patterns answer (rows say 'template'),
    and the shortfall is reported, never padded."""
    with exit_2_on(KeyError, ValueError, RuntimeError, OSError):
        config = DAPPromptsConfig(
            out=out,
            diseases=parse_disease_list(diseases),
            per_disease=per_disease,
            seed=seed,
            max_rounds=max_rounds,
        )
        with progress_and_llm(llm_options, seed) as (_, client):
            result = build_dap_prompts(config, client)

    manifest = result.manifest
    print_table(
        f"DAP descriptions → {out}",
        ("disease", "kept", "candidates", "rejected", "rounds", "stopped"),
        [
            (
                disease,
                f"{c['kept']}/{c['wanted']}",
                str(c["candidates"]),
                ", ".join(f"{k} {v}" for k, v in c["rejected"].items()),
                str(c["rounds"]),
                c["stopped"],
            )
            for disease, c in manifest["counts"]["by_disease"].items()
        ],
    )
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
    print_json_summary(
        as_json,
        out,
        rows=manifest["counts"]["rows"],
        by_disease=manifest["counts"]["by_disease"],
        shortfalls=result.shortfalls,
        llm=stats,
        shards=manifest["shards"],
    )
    if strict and result.shortfalls:
        raise typer.Exit(1)
