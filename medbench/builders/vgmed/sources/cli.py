"""``medbench sources``: the dataset registry and a check of a local source root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medbench.builders.vgmed.build import discover_sources
from medbench.builders.vgmed.sources import SOURCES, select_sources
from medbench.console import err_console, print_json

app = typer.Typer(no_args_is_help=True, help="The source datasets medbench can convert.")


def _labels(spec) -> list[str]:
    names = list(dict.fromkeys(spec.labels.values()))
    for attr in ("label",):
        if isinstance(getattr(spec, attr, None), str):
            names.append(getattr(spec, attr))
    if hasattr(spec, "mask_ranges"):
        names += list(spec.mask_ranges)
    return names


@app.command("list")
def list_sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List registered datasets: id, layout family, modality, body part, labels."""
    specs = [SOURCES[k] for k in sorted(SOURCES)]
    if as_json:
        print_json(
            [
                {
                    "id": s.id,
                    "family": s.family,
                    "layout": s.family_name,
                    "modality": ", ".join(s.all_modalities),
                    "body_part": s.body_part,
                    "labels": _labels(s),
                    "license": s.license,
                    "homepage": s.homepage,
                    "notes": s.notes,
                }
                for s in specs
            ]
        )
        return
    table = Table(title=f"{len(specs)} source datasets")
    for column in ("id", "family", "modality", "body part", "labels", "licence"):
        table.add_column(column, overflow="fold")
    for s in specs:
        labels = _labels(s)
        shown = ", ".join(labels) if labels else "(from file names)"
        table.add_row(
            s.id,
            f"{s.family} {s.family_name}",
            ", ".join(s.all_modalities),
            s.body_part,
            shown,
            s.license,
        )
    err_console.print(table)


@app.command("check")
def check_sources(
    source_root: Annotated[
        Path,
        typer.Option(
            "--source-root",
            help="Folder with one sub-folder per dataset id.",
            envvar="MEDBENCH_SOURCE_ROOT",
        ),
    ],
    datasets: Annotated[
        list[str] | None, typer.Option("--dataset", "-d", help="Dataset id (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Per dataset: found or missing, cases discovered, and problems found on the way."""
    try:
        specs = select_sources(datasets or [])
    except KeyError as exc:
        err_console.print(f"[red]error:[/] {exc.args[0]}")
        raise typer.Exit(2) from None
    statuses, _, skipped = discover_sources(specs, source_root)
    problems: dict[str, list[str]] = {}
    for s in skipped:
        problems.setdefault(s.dataset, []).append(f"{s.item}: {s.reason}")
    report = [
        {
            "id": st.spec.id,
            "status": "found"
            if st.dataset_dir is not None and (st.cases or st.archives)
            else "missing"
            if st.dataset_dir is None
            else "empty",
            "path": str(st.dataset_dir) if st.dataset_dir else None,
            "cases": st.cases,
            "problem": st.problem,
            "issues": problems.get(st.spec.id, []),
        }
        for st in statuses
    ]
    if as_json:
        print_json(report)
        return
    table = Table(title=f"Sources under {source_root}")
    for column in ("id", "status", "cases", "issues"):
        table.add_column(column, overflow="fold")
    for r in report:
        issues = r["issues"]
        detail = r["problem"] or ""
        if issues:
            detail += ("; " if detail else "") + f"{len(issues)} file(s) skipped, e.g. {issues[0]}"
        colour = {"found": "green", "missing": "red", "empty": "yellow"}[r["status"]]
        table.add_row(r["id"], f"[{colour}]{r['status']}[/]", str(r["cases"]), detail)
    err_console.print(table)
