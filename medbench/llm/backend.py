"""What every backend takes and gives back: jobs in, completions out as they finish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Job:
    """One chat request. ``output`` and ``variables`` let the offline template backend
    answer without a model; HTTP backends send ``messages`` and ``response_format``."""

    messages: list[dict[str, str]]
    sampling: dict[str, Any]
    response_format: dict[str, Any] | None
    output: str
    variables: dict[str, Any]


@dataclass
class Completion:
    content: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # set when every transport attempt failed
    attempts: int = 1  # transport attempts spent (retries on 429 / 5xx / drops)


class Backend(Protocol):
    name: str  # "openai", "vllm", "template"
    model: str

    def stream(self, jobs: list[Job]) -> AsyncIterator[tuple[int, Completion]]:
        """(index into ``jobs``, completion) pairs, in the order they finish."""
        ...

    async def aclose(self) -> None: ...
