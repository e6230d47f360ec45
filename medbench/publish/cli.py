"""``medbench publish OUT --repo-id ORG/NAME``: validate a build and push it to the Hub.

``app`` holds the single command ``publish``. Mount it on the root app with
``app.command("publish")(publish_command)`` (not ``add_typer``: a Typer group would stop parsing
options after the OUT argument and expect a sub-command).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medbench.console import err_console, print_json
from medbench.publish.checks import PublishError
from medbench.publish.hub import PublishResult, publish

app = typer.Typer(
    help="Validate a built dataset folder and upload it to the Hugging Face Hub.",
    pretty_exceptions_show_locals=False,  # never print the token held in local variables
)


def _report(result: PublishResult) -> None:
    verb = "would upload" if result.dry_run else "uploaded"
    total = sum(f.size for f in result.files)
    err_console.print(
        f"{verb} {len(result.files)} file(s), {total} bytes → dataset {result.repo_id}"
        f" ({'private' if result.private else 'public'})",
        highlight=False,
        soft_wrap=True,
    )
    for f in result.files:
        err_console.print(f"  {f.path}  {f.size}  {f.sha256}", highlight=False, soft_wrap=True)
    if result.restricted:
        err_console.print(
            f"restricted sources (private repo only): {', '.join(result.restricted)}",
            highlight=False,
        )
    if result.dry_run_path:
        err_console.print(f"wrote the upload set to {result.dry_run_path}", highlight=False)
    if result.commit_url:
        err_console.print(f"commit: {result.commit_url}", highlight=False, soft_wrap=True)


@app.command("publish")
def publish_command(
    out: Annotated[
        Path,
        typer.Argument(help="Dataset folder written by `medbench build` (README.md, data/, ...)."),
    ],
    repo_id: Annotated[
        str, typer.Option("--repo-id", help="Target dataset repository, as ORG/NAME.")
    ],
    private: Annotated[
        bool,
        typer.Option(
            "--private",
            help="Create the repo as private (required when a source may not be redistributed).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Upload nothing: list the files that would be uploaded."),
    ] = False,
    dry_run_dir: Annotated[
        Path | None,
        typer.Option(
            "--dry-run-dir",
            metavar="PATH",
            help="Implies --dry-run; also copy exactly the files that would be uploaded into "
            "PATH (new or empty), loadable with datasets.load_dataset(PATH).",
        ),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option("--revision", help="Branch to commit to (created if missing; default main)."),
    ] = None,
    commit_message: Annotated[
        str | None, typer.Option("--commit-message", help="Commit message for the upload.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
) -> None:
    """Validate OUT, check source licences, then upload it (token from HF_TOKEN, endpoint
    from HF_ENDPOINT). Exit 2: invalid folder, licence refusal or missing token; 1: Hub error.

    (The dry-run folder is a separate option because Typer has no optional-value options.)"""
    try:
        result = publish(
            out,
            repo_id,
            private=private,
            dry_run=dry_run,
            dry_run_path=dry_run_dir,
            revision=revision,
            commit_message=commit_message,
        )
    except PublishError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True, markup=True)
        raise typer.Exit(exc.exit_code) from None
    _report(result)
    if as_json:
        print_json(result.as_dict())
