"""A task: one benchmark, declared as data (where its rows live, the prompt, the metrics, the
subset keys); its kind (``VQATask``, ``GroundingTask``) supplies the parser and the scoring.

A task turns one row into an ``EvalRequest`` (``request``), a model's raw answer into a parsed
answer (``parse``), and that into per-sample metric values (``score``); ``oracle_answer``
gives the answer in exactly the format ``parse`` expects, so the oracle model reaches every
metric's maximum.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import jinja2
from pydantic import BaseModel, ConfigDict, Field

from medbench.evaluators.models.base import AnswerFormat, EvalRequest, RequestOutput

# Same settings as medbench.prompts.templates: block tags leave no blank line; a missing
# variable is an error, never an empty string.
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


class HubData(BaseModel):
    """A dataset on the Hugging Face Hub (or any ``load_dataset`` path)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repo_id: str
    config: str | None = None
    split: str = "test"


class TaskData(BaseModel):
    """Where a task's rows are by default.

    ``subpath``: a folder under the data root (``--data-root``, else ``$MEDBENCH_DATA_ROOT``,
    else ``./medbench-data``) holding Hub-layout shards ``data/<split>-*.parquet``.
    ``splits``: the split names tried in order; the first one present is read.
    ``hub``: an optional Hub default used when the local folder is absent.
    ``filters``: column = value conditions a row must meet (others are skipped, counted).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subpath: str
    splits: tuple[str, ...] = ("test",)
    hub: HubData | None = None
    filters: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    """A parsed answer: ``ok`` false when nothing usable was found (scored 0, counted)."""

    ok: bool
    value: Any = None
    note: str = ""


def parse_cached_values(raw: str, what: str) -> Parsed:
    """The metric values an attention or heat-map task cached for a sample (JSON): not ok
    when absent, not JSON, or holding the ``error`` that kept the sample from being scored."""
    if not raw:
        return Parsed(False, None, f"no {what}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return Parsed(False, None, f"the cached {what} values are not JSON")
    if "error" in value:
        return Parsed(False, value, str(value["error"]))
    return Parsed(True, value)


class TaskSpec(BaseModel):
    """The declarative part every task has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str] = ""
    row_model: ClassVar[type[BaseModel]]
    # what the model gives back: "text" (generate), "attention" (attend), "heatmap" (heatmap)
    output: ClassVar[RequestOutput] = "text"

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    source: str = Field(description="where the protocol (prompt, metrics) comes from")
    data: TaskData
    prompt_template: str = Field(description="jinja2 text; its sha256 identifies the prompt")
    generation: dict[str, Any] = Field(default_factory=lambda: {"temperature": 0.0})
    metrics: tuple[str, ...]
    subset_keys: tuple[str, ...] = ()

    # ---------------------------------------------------------------- prompt

    @property
    def prompt_hash(self) -> str:
        """sha256 of the prompt template text, first 16 hex digits."""
        return hashlib.sha256(self.prompt_template.encode("utf-8")).hexdigest()[:16]

    @cached_property
    def _template(self) -> jinja2.Template:
        return _ENV.from_string(self.prompt_template)

    def render(self, variables: Mapping[str, Any]) -> str:
        # a template's last line ends in a newline; the prompt does not
        return self._template.render(**variables).rstrip("\n")

    # ---------------------------------------------------------------- per kind

    def check(self, row: Any) -> str | None:
        """Why ``row`` cannot be evaluated (it is skipped and listed), or None."""
        return None

    def prompt_variables(self, row: Any) -> dict[str, Any]:
        raise NotImplementedError

    def prompt(self, row: Any) -> str:
        return self.render(self.prompt_variables(row))

    def answer_format(self, row: Any) -> tuple[AnswerFormat, tuple[str, ...]]:
        """(format, closed set of answers or ()) for baselines; see ``EvalRequest``."""
        raise NotImplementedError

    def images(self, row: Any) -> tuple[bytes, ...]:
        return (row.image,)

    def request_extras(self, row: Any) -> dict[str, Any]:
        """More ``EvalRequest`` fields for this task's kind (the attention tasks' contrast
        prompt, ...)."""
        return {}

    def request(
        self, row: Any, generation: Mapping[str, Any], *, with_reference: bool = False
    ) -> EvalRequest:
        fmt, choices = self.answer_format(row)
        return EvalRequest(
            sample_id=row.sample_id,
            prompt=self.prompt(row),
            images=self.images(row),
            generation=generation,
            task=self.name,
            answer_format=fmt,
            choices=choices,
            reference=self.oracle_answer(row) if with_reference else None,
            output=self.output,
            **self.request_extras(row),
        )

    def parse(self, raw: str, row: Any) -> Parsed:
        raise NotImplementedError

    def score(self, parsed: Parsed, row: Any) -> dict[str, float | None]:
        """Per-sample values of the metrics that apply to ``row`` (absent: not applicable);
        a failed parse scores 0 on each of them."""
        raise NotImplementedError

    def oracle_answer(self, row: Any) -> str:
        raise NotImplementedError

    def target(self, row: Any) -> Any:
        """The ground truth as written to the samples file."""
        raise NotImplementedError

    def subsets(self, row: Any) -> dict[str, str | None]:
        """Subset key -> value of ``row`` (None when the row has none)."""
        return {key: (str(getattr(row, key, "") or "") or None) for key in self.subset_keys}

    def counters(self, parsed: Parsed) -> dict[str, int]:
        """Task-specific counts a sample adds to the results (e.g. fallback matches)."""
        return {}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "output": self.output,  # what the model must give back
            "description": self.description,
            "source": self.source,
            "row_schema": self.row_model.__name__,
            "data": self.data.model_dump(),
            "prompt_hash": self.prompt_hash,
            "generation": dict(self.generation),
            "metrics": list(self.metrics),
            "subset_keys": list(self.subset_keys),
        }
