"""``medbench review``: clinician review round trip (paper 001, app. R)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medbench.console import err_console, print_json
from medbench.review.export import export_review
from medbench.review.ratings import RatingsError, import_ratings

app = typer.Typer(no_args_is_help=True, help="Export a clinician rating sheet; import ratings.")


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="A built dataset folder.")],
    dest: Annotated[
        Path | None, typer.Option(help="Where to write the sheet (default <out>/review).")
    ] = None,
) -> None:
    """Write review_sheet.csv and a self-contained review.html (image, box, questions, and
    the three 1-5 scales, with a button that downloads the ratings CSV)."""
    try:
        sheet, page, count = export_review(out, dest)
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    err_console.print(f"{count} rows → {sheet} and {page}", soft_wrap=True)


@app.command("import")
def import_(
    out: Annotated[Path, typer.Argument(help="The dataset folder the sheet was exported from.")],
    ratings: Annotated[Path, typer.Argument(help="CSV with sample_id and the three scores.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Record ratings on the rows and drop every row rated below 3 on any scale (listed in
    manifest.json and report/review_dropped.csv)."""
    try:
        result = import_ratings(out, ratings)
    except (RatingsError, FileNotFoundError) as exc:
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    err_console.print(
        f"{result.rated} rows rated; {len(result.dropped)} dropped below 3; {result.kept} kept",
        soft_wrap=True,
    )
    if as_json:
        print_json({"rated": result.rated, "dropped": result.dropped, "kept": result.kept})
