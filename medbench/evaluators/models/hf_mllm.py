"""``hf-mllm``: a transformers image-text-to-text model (LLaVA-1.5, LLaVA-Next, Qwen2-VL, ...).

Placeholder: the adapter is not written yet. It needs torch and transformers (the ``models``
extra); without them, asking for this model fails with that instruction rather than an
ImportError from deep inside.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from medbench.evaluators.models.base import BaseEvalModel, EvalFailure, EvalRequest


class ModelUnavailable(RuntimeError):
    """The model cannot run in this environment (a missing extra, no adapter yet)."""


def missing_packages() -> list[str]:
    return [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]


class HFMLLMModel(BaseEvalModel):
    name = "hf-mllm"
    description = "transformers image-text-to-text model (needs the models extra; not yet wired)"

    def __init__(self, **args: Any) -> None:
        missing = missing_packages()
        if missing:
            raise ModelUnavailable(
                f"the hf-mllm model needs the models extra ({', '.join(missing)} not installed): "
                "pip install 'medbench[models]'"
            )
        raise ModelUnavailable(
            "the hf-mllm adapter is not implemented yet; serve the model with "
            "`vllm serve <model>` and use --model openai --model-args model=<model>,base_url=..."
        )

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]:  # pragma: no cover
        raise NotImplementedError
