"""The settings of one ``medbench eval run``: a YAML file (``--config``) whose keys mirror the
command's options, with the options given on the command line winning (lm-eval's
convention).

Example ``run.yaml``::

    model: openai
    model_args: {model: Qwen/Qwen2-VL-7B-Instruct, base_url: "http://127.0.0.1:8000/v1"}
    tasks: [vqa-rad, slake, vgmed-grounding]
    data_root: /data/medbench
    data: {vgmed-grounding: /data/vgmed-v1}
    gen_kwargs: {max_tokens: 64}
    batch_size: 16
    seed: 0
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from medbench.evaluators.models.base import parse_kv

ENV_CACHE_FILE = "eval-responses.sqlite"
DEFAULT_RESULTS_DIR = "eval-results"
# Sampling settings that are real numbers: "temperature=0" and 0.0 must give one cache key.
_FLOAT_SETTINGS = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})


class ConfigError(ValueError):
    pass


def _scalar(text: str) -> Any:
    """A ``k=v`` value as YAML reads it (numbers, booleans, null), else the string."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, int | float | bool | type(None)) else text


def normalize_generation(settings: dict[str, Any]) -> dict[str, Any]:
    out = dict(settings)
    for key in _FLOAT_SETTINGS & out.keys():
        if isinstance(out[key], int | float) and not isinstance(out[key], bool):
            out[key] = float(out[key])
    return out


def data_pairs(value: Any) -> dict[str, str]:
    """Task data locations from a mapping or from repeated ``TASK=LOCATION`` items."""
    if isinstance(value, list | tuple):
        out = {}
        for item in value:
            task, sep, location = str(item).partition("=")
            if not sep or not task.strip() or not location.strip():
                raise ValueError(f"--data takes TASK=LOCATION, got {item!r}")
            out[task.strip()] = location.strip()
        return out
    return {str(k): str(v) for k, v in (value or {}).items()}


def task_arg_pairs(value: Any) -> dict[str, dict[str, Any]]:
    """Per-task arguments from a mapping or from repeated ``TASK:k=v,...`` items."""
    if isinstance(value, list | tuple):
        out: dict[str, dict[str, Any]] = {}
        for item in value:
            task, sep, args = str(item).partition(":")
            if not sep or not task.strip() or not args.strip():
                raise ValueError(f"--task-args takes TASK:k=v,..., got {item!r}")
            out.setdefault(task.strip(), {}).update(parse_kv(args))
        return out
    return {str(k): dict(v) for k, v in (value or {}).items()}


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    model_args: dict[str, Any] = Field(default_factory=dict)
    tasks: list[str] = Field(min_length=1)
    limit: int | None = Field(None, ge=1)
    output_dir: Path | None = None
    batch_size: int | None = Field(None, ge=1)  # None: the model's default_batch_size, else 1
    seed: int = 0
    data_root: Path | None = None
    data: dict[str, str] = Field(default_factory=dict)  # task -> location
    image_root: Path | None = None  # licensed image store of the CXR grounding tasks
    task_args: dict[str, dict[str, Any]] = Field(default_factory=dict)  # task -> args
    gen_kwargs: dict[str, Any] = Field(default_factory=dict)
    cache: Path | None = None  # None: $MEDBENCH_CACHE_DIR (or ~/.cache/medbench)/eval-...
    no_cache: bool = False
    bootstrap_resamples: int = Field(1000, ge=1)
    plots: bool = True  # plot_<task>.png per task

    @field_validator("tasks", mode="before")
    @classmethod
    def _tasks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        return value

    @field_validator("model_args", mode="before")
    @classmethod
    def _model_args(cls, value: Any) -> Any:
        return parse_kv(value) if isinstance(value, str) else (value or {})

    @field_validator("gen_kwargs", mode="before")
    @classmethod
    def _gen_kwargs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {k: _scalar(v) for k, v in parse_kv(value).items()}
        return value or {}

    @field_validator("data", mode="before")
    @classmethod
    def _data(cls, value: Any) -> Any:
        return data_pairs(value)

    @field_validator("task_args", mode="before")
    @classmethod
    def _task_args(cls, value: Any) -> Any:
        return task_arg_pairs(value)

    def cache_file(self) -> Path | None:
        if self.no_cache:
            return None
        if self.cache is not None:
            return self.cache
        from medbench.llm.settings import default_cache_path

        return default_cache_path().parent / ENV_CACHE_FILE

    def results_dir(self, model_id: str) -> Path:
        if self.output_dir is not None:
            return self.output_dir
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("_") or "model"
        return Path(DEFAULT_RESULTS_DIR) / safe / time.strftime("%Y%m%d-%H%M%S")


def load_config(path: Path | None, overrides: dict[str, Any]) -> RunConfig:
    """The YAML file's settings (if any) updated by the non-None ``overrides``."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config {path}: expected a mapping of settings")
        values.update({k.replace("-", "_"): v for k, v in (loaded or {}).items()})
    for key, value in overrides.items():
        if value is None or (isinstance(value, list | tuple | dict) and not value):
            continue
        if key == "data" and isinstance(values.get("data"), dict):
            merged = dict(values["data"])
            merged.update(data_pairs(value))
            values["data"] = merged
            continue
        values[key] = value
    if "model" not in values:
        raise ConfigError("no model: pass --model NAME (or model: in --config)")
    if "tasks" not in values:
        raise ConfigError("no tasks: pass --tasks t1,t2 (or tasks: in --config)")
    try:
        return RunConfig(**values)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
