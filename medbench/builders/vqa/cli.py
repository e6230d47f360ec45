"""``medbench build vqa``: the command (registered in ``medbench.builders.cli``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from medbench.builders.cli_common import (
    AsJson,
    demo_replica,
    exit_2_on,
    print_json_summary,
    print_skips,
    print_table,
    require_root_or_demo,
    usage_error,
)
from medbench.builders.vqa.build import (
    BuildError,
    VQABuildConfig,
    build_vqa,
    expand_benchmarks,
    expand_languages,
)
from medbench.console import err_console, stage_progress
from medbench.schemas.vqa import BENCHMARKS


def demo_vqa_root(out: Path) -> Path:
    """Write the Med-VQA layout replicas once under ``<out>/.work/demo-vqa``."""
    from medbench.demo.vqa import write_all

    return demo_replica(out / ".work" / "demo-vqa", write_all)


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
    as_json: AsJson = False,
) -> None:
    """Build the Med-VQA benchmarks of paper 001 sec. 4 (VQA-RAD, SLAKE, PathVQA, PMC-VQA,
    OmniMedVQA, MMMU Health & Medicine) as one dataset each: <out>/<benchmark>/data/*.parquet.

    Yes/no questions become closed with the options "yes", "no"; multiple-choice options keep
    the prompt order, with answer_index; open answers are normalised for whitespace only.
    Unreadable records and missing images are listed in <out>/<benchmark>/report/skipped.csv;
    the rest builds. Exit code 1 if a benchmark named with --benchmark was not found or had
    no usable record; 2 if nothing was built."""
    require_root_or_demo(source_root, demo)
    if input_kind not in ("auto", "native", "huatuo"):
        usage_error(f"--input must be auto, native or huatuo, not {input_kind!r}")
    with exit_2_on(BuildError, ValueError):
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

    rows = []
    for build in result.built:
        kinds = Counter(r.answer_type for r in build.rows)
        rows.append(
            (
                build.benchmark,
                build.input_kind,
                build.split,
                str(len(build.rows)),
                str(kinds["closed"]),
                str(kinds["open"]),
                str(len(build.skipped)),
            )
        )
    print_table(
        f"Med-VQA → {out}",
        ("benchmark", "input", "split", "rows", "closed", "open", "skipped"),
        rows,
    )
    print_skips(
        [skip.line(b.benchmark, b.split) for b in result.built for skip in b.skipped],
        more_in="<benchmark>/report/skipped.csv",
    )
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
    print_json_summary(
        as_json,
        out,
        built={
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
        missing=result.missing,
        unattributed=[vars(s) for s in result.unattributed],
    )
    named = {b.strip().lower() for b in (benchmarks or [])} - {"all"}
    empty = {b.benchmark for b in result.built if not b.rows}
    if not result.built or len(empty) == len(result.built):
        raise typer.Exit(2)
    if named & (set(result.missing) | empty):
        raise typer.Exit(1)
