"""What the ``medbench build`` commands share: the ``--llm*`` options and the client they
open, the "--source-root or --demo" check, errors that end a command with exit code 2,
demo replicas written once, and the summary printing (table, skips, ``--json``)."""

from __future__ import annotations

import functools
import inspect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from medbench.console import err_console, print_json, stage_progress
from medbench.llm import options
from medbench.llm.runner import LLMClient, Progress
from medbench.llm.settings import LLMSettings

MAX_PRINTED_SKIPS = 20

# options most commands declare alike
OutDir = Annotated[Path, typer.Option("--out", "-o", help="Output dataset folder.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")]


@dataclass(frozen=True)
class LLMOptions:
    """The values of the ``--llm*`` options, resolved to settings only when asked, so each
    command keeps its own order of checks."""

    backend: str | None = None
    base_url: str | None = None
    model: str | None = None
    concurrency: int = 32
    timeout: float = 120.0
    attempts: int = 6
    cache: Path | None = None
    no_cache: bool = False

    def settings(self) -> LLMSettings:
        return options.resolve_settings(
            self.backend,
            self.base_url,
            self.model,
            self.concurrency,
            self.timeout,
            self.attempts,
            self.cache,
            self.no_cache,
        )


# (parameter name, Typer annotation, LLMOptions field), in the order the options are listed
_LLM_PARAMETERS = (
    ("llm", options.Backend, "backend"),
    ("llm_base_url", options.BaseUrl, "base_url"),
    ("llm_model", options.Model, "model"),
    ("llm_concurrency", options.Concurrency, "concurrency"),
    ("llm_timeout", options.Timeout, "timeout"),
    ("llm_attempts", options.Attempts, "attempts"),
    ("llm_cache", options.CachePath, "cache"),
    ("no_llm_cache", options.NoCache, "no_cache"),
)


def with_llm_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared ``--llm*`` options (after its own, in the LLM help panel)
    and call it with their values as the keyword-only ``llm_options: LLMOptions``."""
    own = inspect.signature(command, eval_str=True)
    defaults = LLMOptions()
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=getattr(defaults, field),
            annotation=annotation,
        )
        for name, annotation, field in _LLM_PARAMETERS
    ]
    parameters = [p for p in own.parameters.values() if p.name != "llm_options"] + added

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        values = {field: kwargs.pop(name) for name, _, field in _LLM_PARAMETERS}
        command(*args, llm_options=LLMOptions(**values), **kwargs)

    wrapper.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


@contextmanager
def progress_and_llm(llm: LLMOptions, seed: int) -> Iterator[tuple[Progress, LLMClient]]:
    """The stage progress bars and an LLM client that reports into them."""
    settings = llm.settings()
    with (
        stage_progress() as progress,
        LLMClient(settings, seed=seed, progress=progress) as client,
    ):
        yield progress, client


def attribute_questions_line(stats: dict, asked: str, llm_asked: str, fallback: str) -> str:
    """The summary line of an attribute-question source's ``stats``: ``asked``, what it was
    asked for (``llm_asked`` when an LLM answered); ``fallback``, what failures fell back to."""
    if stats["backend"] == "template":
        return f"attribute questions: offline templates, {asked}"
    return (
        f"attribute questions: {stats['backend']}:{stats['model']}, {llm_asked}, "
        f"{stats['cache_hits']} from cache, {stats['calls']} calls, "
        f"{stats['failures']} failed ({fallback}), "
        f"{stats['prompt_tokens'] + stats['completion_tokens']} tokens"
    )


def usage_error(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/] {message}")
    raise typer.Exit(2)


def require_root_or_demo(root: Path | None, demo: bool, flag: str = "--source-root") -> None:
    if demo == (root is not None):
        usage_error(f"give exactly one of {flag} or --demo")


@contextmanager
def exit_2_on(*errors: type[Exception], highlight: bool | None = None) -> Iterator[None]:
    """Print one of ``errors`` as ``error: <message>`` and exit with code 2."""
    try:
        yield
    except errors as exc:
        # str() of a KeyError is the repr of its key: print the message it was raised with
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        err_console.print(f"[red]error:[/] {message}", soft_wrap=True, highlight=highlight)
        raise typer.Exit(2) from None


def demo_replica(root: Path, write: Callable[[Path], object]) -> Path:
    """``write(root)`` once: a later call finds ``root/.complete`` and reuses the folder."""
    marker = root / ".complete"
    if not marker.exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        write(root)
        marker.write_text("ok\n")
    return root


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    err_console.print(table)


def print_skips(lines: Sequence[str], more_in: str | None = None) -> None:
    """The first MAX_PRINTED_SKIPS lines; with ``more_in``, where the rest are listed."""
    for line in lines[:MAX_PRINTED_SKIPS]:
        err_console.print(f"[yellow]skipped[/] {line}", highlight=False, soft_wrap=True)
    if more_in is not None and len(lines) > MAX_PRINTED_SKIPS:
        err_console.print(f"… {len(lines) - MAX_PRINTED_SKIPS} more in {more_in}")


def count_kinds(skips: Iterable[Any]) -> str:
    """``"3 iscrowd, 1 tiny_box"``: how many of each ``.kind``, or ``"none"``."""
    kinds = Counter(s.kind for s in skips)
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"


def print_json_summary(as_json: bool, out: Path, **fields: Any) -> None:
    """With ``--json``: ``{"out": ..., **fields}`` on stdout."""
    if as_json:
        print_json({"out": str(out), **fields})
