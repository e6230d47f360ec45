"""The ``medbench`` command. Each sub-app lives next to the code it drives."""

from __future__ import annotations

from typing import Annotated

import typer

from medbench import __version__
from medbench.builders.cli import app as build_app
from medbench.builders.vgmed.sources.cli import app as sources_app
from medbench.evaluators.cli import app as eval_app
from medbench.publish.cli import publish_command
from medbench.review.cli import app as review_app

app = typer.Typer(
    name="medbench",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print tokens held in local variables
    help="Build medical visual-grounding datasets and benchmarks, publish them, score models.",
)
app.add_typer(build_app, name="build")
app.add_typer(sources_app, name="sources")
app.add_typer(review_app, name="review")
app.add_typer(eval_app, name="eval")
# a plain command, not a group: a group stops reading options after the OUT argument
app.command("publish")(publish_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"medbench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    """medbench: medical visual-grounding datasets and benchmarks."""
