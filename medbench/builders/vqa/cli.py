"""``medbench build vqa``: the command (registered in ``medbench.builders.cli``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medbench.builders.vqa.build import (
    BuildError,
    VQABuildConfig,
    build_vqa,
    expand_benchmarks,
    expand_languages,
)
from medbench.console import err_console, print_json, stage_progress
from medbench.schemas.vqa import BENCHMARKS

MAX_PRINTED_SKIPS = 20


def demo_vqa_root(out: Path) -> Path:
    """Write the Med-VQA layout replicas once under ``<out>/.work/demo-vqa``."""
    from medbench.demo.vqa import write_all

    root = out / ".work" / "demo-vqa"
    marker = root / ".complete"
    if not marker.exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        write_all(root)
        marker.write_text("ok\n")
    return root


def vqa_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder: one dataset per benchmark.")
    ],
    benchmarks: Annotated[
        list[str] | None,
        typer.Option(
            "--benchmark",
            "-b",
            help=f"Benchmark to build (repeatable): {', '.join(BENCHMARKS)}, or 'all' "
            "(the default).",
        ),
    ] = None,
    source_root: Annotated[
        Path | None,
        typer.Option(
            "--source-root",
            help="Folder holding the benchmarks as downloaded, each in its published layout "
            "(best in a sub-folder named after the benchmark), and/or HuatuoGPT-Vision's "
            "medical_multimodel_evaluation_data.json with its images/.",
            envvar="MEDBENCH_VQA_ROOT",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Build from the embedded layout replicas.")
    ] = False,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="Split to build. Default: each benchmark's evaluation split (test; MMMU: "
            "validation, its test answers are hidden).",
        ),
    ] = None,
    input_kind: Annotated[
        str,
        typer.Option(
            "--input",
            help="'native' (the published files), 'huatuo' (HuatuoGPT-Vision's combined "
            "evaluation JSON) or 'auto' (native where present, else huatuo).",
        ),
    ] = "auto",
    languages: Annotated[
        list[str] | None,
        typer.Option(
            "--language",
            help="SLAKE question language (repeatable): en (the default), zh, or all.",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Threads checking images.", min=1)] = 4,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
) -> None:
    """Build the Med-VQA benchmarks of paper 001 sec. 4 (VQA-RAD, SLAKE, PathVQA, PMC-VQA,
    OmniMedVQA, MMMU Health & Medicine) as one dataset each: <out>/<benchmark>/data/*.parquet.

    Yes/no questions become closed with the options "yes", "no"; multiple-choice options keep
    the prompt order, with answer_index; open answers are normalised for whitespace only.
    Unreadable records and missing images are listed in <out>/<benchmark>/report/skipped.csv;
    the rest builds. Exit code 1 if a benchmark named with --benchmark was not found or had
    no usable record; 2 if nothing was built."""
    if demo == (source_root is not None):
        err_console.print("[red]error:[/] give exactly one of --source-root or --demo")
        raise typer.Exit(2)
    if input_kind not in ("auto", "native", "huatuo"):
        err_console.print(
            f"[red]error:[/] --input must be auto, native or huatuo, not {input_kind!r}"
        )
        raise typer.Exit(2)
    try:
        chosen = expand_benchmarks(benchmarks or ["all"])
        config = VQABuildConfig(
            source_root=demo_vqa_root(out) if demo else source_root,
            out=out,
            benchmarks=chosen,
            split=split,
            input=input_kind,  # type: ignore[arg-type]
            languages=expand_languages(languages or ["en"]),
            workers=workers,
        )
        with stage_progress() as progress:
            result = build_vqa(config, progress=progress)
    except (BuildError, ValueError) as exc:
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None

    table = Table(title=f"Med-VQA → {out}")
    for column in ("benchmark", "input", "split", "rows", "closed", "open", "skipped"):
        table.add_column(column)
    for build in result.built:
        kinds = Counter(r.answer_type for r in build.rows)
        table.add_row(
            build.benchmark,
            build.input_kind,
            build.split,
            str(len(build.rows)),
            str(kinds["closed"]),
            str(kinds["open"]),
            str(len(build.skipped)),
        )
    err_console.print(table)
    printed = 0
    for build in result.built:
        for skip in build.skipped:
            if printed < MAX_PRINTED_SKIPS:
                line = skip.line(build.benchmark, build.split)
                err_console.print(f"[yellow]skipped[/] {line}", highlight=False, soft_wrap=True)
            printed += 1
    if printed > MAX_PRINTED_SKIPS:
        err_console.print(f"… {printed - MAX_PRINTED_SKIPS} more in <benchmark>/report/skipped.csv")
    for skip in result.unattributed:
        err_console.print(
            f"[yellow]ignored[/] HuatuoGPT-Vision record {skip.source_id}: {skip.reason}",
            highlight=False,
            soft_wrap=True,
        )
    for build in result.built:
        if not build.rows:
            err_console.print(
                f"[red]no rows[/] {build.benchmark}: every record was skipped; no shard written",
                highlight=False,
            )
    for benchmark, why in result.missing.items():
        err_console.print(f"[red]not built[/] {benchmark}: {why}", highlight=False, soft_wrap=True)
    if as_json:
        print_json(
            {
                "out": str(out),
                "built": {
                    b.benchmark: {
                        "folder": str(b.out),
                        "input": b.input_kind,
                        "split": b.split,
                        "rows": len(b.rows),
                        "by_answer_type": dict(Counter(r.answer_type for r in b.rows)),
                        "skipped": [vars(s) for s in b.skipped],
                        "shards": [vars(s) for s in b.shards],
                    }
                    for b in result.built
                },
                "missing": result.missing,
                "unattributed": [vars(s) for s in result.unattributed],
            }
        )
    named = {b.strip().lower() for b in (benchmarks or [])} - {"all"}
    empty = {b.benchmark for b in result.built if not b.rows}
    if not result.built or len(empty) == len(result.built):
        raise typer.Exit(2)
    if named & (set(result.missing) | empty):
        raise typer.Exit(1)
