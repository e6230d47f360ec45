"""Which LLM backend to use and how hard to push it: flags first, then the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Backend = Literal["openai", "vllm", "template"]

ENV_BACKEND = "MEDBENCH_LLM"
ENV_BASE_URL = "MEDBENCH_LLM_BASE_URL"
ENV_MODEL = "MEDBENCH_LLM_MODEL"
ENV_API_KEY = "OPENAI_API_KEY"
ENV_CACHE_DIR = "MEDBENCH_CACHE_DIR"

# The papers' models: GPT-4 wrote VGMED's questions; Llama-3-70B cleaned Chest ImaGenome.
DEFAULT_MODEL = "meta-llama/Meta-Llama-3-70B-Instruct"
TEMPLATE_MODEL = "medbench-templates"


def default_cache_path() -> Path:
    base = os.environ.get(ENV_CACHE_DIR) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "medbench"
    )
    return Path(base) / "llm-responses.sqlite"


class LLMSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Backend = "template"
    base_url: str | None = None  # e.g. http://127.0.0.1:8000/v1 for `vllm serve`
    model: str = DEFAULT_MODEL
    api_key: SecretStr | None = None
    concurrency: int = Field(32, ge=1)
    timeout_s: float = Field(120.0, gt=0)  # per request
    max_attempts: int = Field(6, ge=1)  # per request, for 429 / 5xx / timeouts / drops
    backoff_s: float = Field(1.0, ge=0)  # first wait; doubles, capped at backoff_max_s
    backoff_max_s: float = Field(30.0, ge=0)
    repairs: int = Field(2, ge=0)  # answers that fail validation are re-asked this often
    cache_path: Path | None = None  # None: default_cache_path(); caching off with no_cache
    no_cache: bool = False
    # vLLM offline engine only
    tensor_parallel_size: int = Field(1, ge=1)

    @property
    def model_name(self) -> str:
        return TEMPLATE_MODEL if self.backend == "template" else self.model

    @property
    def cache_file(self) -> Path | None:
        if self.no_cache or self.backend == "template":  # templates cost nothing
            return None
        return self.cache_path or default_cache_path()

    @classmethod
    def resolve(
        cls,
        backend: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        **overrides: object,
    ) -> LLMSettings:
        """Flags win over ``MEDBENCH_LLM`` / ``MEDBENCH_LLM_BASE_URL`` /
        ``MEDBENCH_LLM_MODEL``; the key always comes from ``OPENAI_API_KEY``. A base URL
        with no backend named means the openai backend."""
        env = os.environ
        base_url = base_url or env.get(ENV_BASE_URL) or None
        chosen = backend or env.get(ENV_BACKEND) or ("openai" if base_url else "template")
        key = env.get(ENV_API_KEY)
        values = {k: v for k, v in overrides.items() if v is not None}
        return cls(
            backend=chosen,
            base_url=base_url,
            model=model or env.get(ENV_MODEL) or DEFAULT_MODEL,
            api_key=SecretStr(key) if key else None,
            **values,
        )
