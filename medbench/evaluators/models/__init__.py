"""The model registry: built-ins plus the ``medbench.models`` entry-point group.

An outside package adds a model by declaring, in its ``pyproject.toml``::

    [project.entry-points."medbench.models"]
    my-model = "my_pkg.eval:MyModel"

``MyModel(**model_args)`` is then built by ``medbench eval run --model my-model --model-args
k=v``; the arguments arrive as strings. The object must have ``model_id``,
``fingerprint_args()`` and ``generate(batch)`` (``medbench.evaluators.models.base``); a
class attribute ``uses_seed = True`` makes the harness pass the run's ``--seed`` as ``seed``.
Entry points are loaded only when their model is asked for, so a broken plug-in breaks only
the runs that use it; built-in names win over entry points of the same name (as in
lm-evaluation-harness).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
from collections.abc import Mapping
from typing import Any

from medbench.evaluators.models.base import (
    OUTPUT_METHODS,
    AttentionMaps,
    BaseEvalModel,
    EvalFailure,
    EvalModel,
    EvalRequest,
    ModelInfo,
    model_fingerprint,
    parse_kv,
    supports_attention,
    supports_output,
)

__all__ = [
    "BUILTIN_MODELS",
    "AttentionMaps",
    "ENTRY_POINT_GROUP",
    "BaseEvalModel",
    "EvalFailure",
    "EvalModel",
    "EvalRequest",
    "ModelInfo",
    "OUTPUT_METHODS",
    "UnknownModelError",
    "available_models",
    "builtin_outputs",
    "load_model",
    "model_fingerprint",
    "parse_kv",
    "supports_attention",
    "supports_output",
]

ENTRY_POINT_GROUP = "medbench.models"

BUILTIN_MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo(
            "oracle",
            "builtin",
            "medbench.evaluators.models.baselines:OracleModel",
            "answers the ground truth (every metric at its maximum)",
        ),
        ModelInfo(
            "random",
            "builtin",
            "medbench.evaluators.models.baselines:RandomModel",
            "seeded random option / box / word (chance level); args: seed",
        ),
        ModelInfo(
            "openai",
            "builtin",
            "medbench.evaluators.models.openai_model:OpenAIModel",
            "any OpenAI-compatible multimodal endpoint; args: model, base_url, concurrency, ...",
        ),
        ModelInfo(
            "hf-mllm",
            "builtin",
            "medbench.evaluators.models.hf_mllm:HFMLLMModel",
            "any transformers image-text-to-text model (LLaVA, LLaVA-Next, ...) from a Hub "
            "id or a local path; needs the models extra",
        ),
    )
}


class UnknownModelError(LookupError):
    pass


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def available_models() -> dict[str, ModelInfo]:
    """Every model name, built-ins first; entry points are listed, not imported."""
    models = dict(BUILTIN_MODELS)
    for ep in _entry_points():
        if ep.name in models:
            continue  # built-ins win
        dist = getattr(getattr(ep, "dist", None), "name", None)
        source = f"entry point ({dist})" if dist else "entry point"
        models[ep.name] = ModelInfo(ep.name, source, ep.value)
    return models


def _resolve(name: str) -> Any:
    info = BUILTIN_MODELS.get(name)
    if info is not None:
        module, _, attr = info.target.partition(":")
        return getattr(importlib.import_module(module), attr)
    for ep in _entry_points():
        if ep.name == name:
            return ep.load()
    known = ", ".join(sorted(available_models()))
    raise UnknownModelError(f"unknown model {name!r}; known: {known}")


def builtin_outputs(name: str) -> list[str] | None:
    """What a built-in model can answer (``text``, ``attention``, ``heatmap``), read from its
    class; None for an entry-point model (listing never imports plug-ins)."""
    if name not in BUILTIN_MODELS:
        return None
    cls = _resolve(name)
    return [output for output in OUTPUT_METHODS if supports_output(cls, output)]


def load_model(name: str, args: Mapping[str, Any] | None = None, *, seed: int | None = None):
    """Build model ``name`` from its arguments; ``seed`` is passed to models that take one."""
    factory = _resolve(name)
    kwargs = dict(args or {})
    if seed is not None and getattr(factory, "uses_seed", False):
        kwargs.setdefault("seed", seed)
    model = factory(**kwargs)
    missing = [a for a in ("model_id", "generate") if not hasattr(model, a)]
    if missing:
        raise TypeError(f"model {name!r} ({factory!r}) lacks {', '.join(missing)}")
    if not getattr(model, "name", None):
        with contextlib.suppress(AttributeError):  # a slotted or frozen model object
            model.name = name
    return model
