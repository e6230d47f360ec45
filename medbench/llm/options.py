"""The ``--llm*`` options every LLM-using command shares (Typer annotations), and the
settings they resolve to."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from medbench.llm.settings import ENV_BACKEND, ENV_BASE_URL, ENV_MODEL, LLMSettings

_PANEL = "LLM"

Backend = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help=f"'openai' (any OpenAI-compatible server, e.g. `vllm serve`), 'vllm' (offline "
        f"engine on a local GPU) or 'template' (offline, no model). Default: ${ENV_BACKEND}, "
        f"else openai when a base URL is set, else template.",
        rich_help_panel=_PANEL,
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--llm-base-url",
        help=f"OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (${ENV_BASE_URL}). "
        "The key comes from $OPENAI_API_KEY.",
        rich_help_panel=_PANEL,
    ),
]
Model = Annotated[
    str | None,
    typer.Option(
        "--llm-model",
        help=f"Model name as the server knows it (${ENV_MODEL}; default Llama-3-70B-Instruct).",
        rich_help_panel=_PANEL,
    ),
]
Concurrency = Annotated[
    int,
    typer.Option("--llm-concurrency", help="Requests in flight.", min=1, rich_help_panel=_PANEL),
]
Timeout = Annotated[
    float,
    typer.Option("--llm-timeout", help="Seconds per request.", min=0.1, rich_help_panel=_PANEL),
]
Attempts = Annotated[
    int,
    typer.Option(
        "--llm-attempts",
        help="Tries per request on 429s, 5xx answers, timeouts and dropped connections "
        "(backoff doubles from 1 s, at most 30 s).",
        min=1,
        rich_help_panel=_PANEL,
    ),
]
CachePath = Annotated[
    Path | None,
    typer.Option(
        "--llm-cache",
        help="Response cache file (default $MEDBENCH_CACHE_DIR/llm-responses.sqlite, "
        "else ~/.cache/medbench/).",
        rich_help_panel=_PANEL,
    ),
]
NoCache = Annotated[
    bool,
    typer.Option(
        "--no-llm-cache", help="Neither read nor write the cache.", rich_help_panel=_PANEL
    ),
]


_FLAGS = {
    "backend": "--llm",
    "base_url": "--llm-base-url",
    "model": "--llm-model",
    "concurrency": "--llm-concurrency",
    "timeout_s": "--llm-timeout",
    "max_attempts": "--llm-attempts",
    "cache_path": "--llm-cache",
}


class LLMOptionError(ValueError):
    """A bad ``--llm*`` value, said in one line naming the option."""


def resolve_settings(
    backend: str | None,
    base_url: str | None,
    model: str | None,
    concurrency: int,
    timeout: float,
    attempts: int,
    cache: Path | None,
    no_cache: bool,
) -> LLMSettings:
    try:
        return _resolve(backend, base_url, model, concurrency, timeout, attempts, cache, no_cache)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            flag = _FLAGS.get(field, field)
            if field == "backend" and backend is None:
                flag = f"${ENV_BACKEND}"
            problems.append(f"{flag} {error.get('input')!r}: {error['msg']}")
        raise LLMOptionError("; ".join(problems)) from None


def _resolve(
    backend: str | None,
    base_url: str | None,
    model: str | None,
    concurrency: int,
    timeout: float,
    attempts: int,
    cache: Path | None,
    no_cache: bool,
) -> LLMSettings:
    return LLMSettings.resolve(
        backend,
        base_url,
        model,
        concurrency=concurrency,
        timeout_s=timeout,
        max_attempts=attempts,
        cache_path=cache,
        no_cache=no_cache,
    )
