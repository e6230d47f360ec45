"""What an evaluated model takes and gives back: requests in, one text answer per request out.

A model is any object with ``name``, ``model_id``, ``fingerprint_args()`` and
``generate(batch)``. ``generate`` answers a batch of ``EvalRequest`` in order, one string per
request; an item may instead be an ``EvalFailure`` when that request got no answer (a server
that gave up after its retries): the harness then records the failure, does not cache it, and
a rerun asks again.

Attention tasks (paper 001's AR / KL / JS) ask for more than text: a model that can give its
attention maps also has ``attend(batch)``, which returns, in order, one ``AttentionMaps`` (or
an ``EvalFailure``) per request whose ``output`` is ``"attention"``: for each layer, the
attention of the last prompt token to the image's patch tokens, averaged over heads, on the
token grid, for the request's prompt and for its ``contrast_prompt``. Heat-map tasks (paper
000's CNR / pointing game / Dice / IoU) call ``heatmap(batch)`` instead: one 2-D float map over
the whole original image (or an ``EvalFailure``) per request whose ``output`` is ``"heatmap"``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

AnswerFormat = Literal["letter", "text", "box"]
RequestOutput = Literal["text", "attention", "heatmap"]
ImagePreprocess = Literal["pad", "resize", "crop"]


@dataclass(frozen=True)
class EvalRequest:
    """One question to a model.

    ``answer_format`` and ``choices`` describe the answer the task's parser expects (``letter``:
    one of ``choices``, the option letters; ``text``: a word or phrase, ``choices`` set when it
    is a closed set such as yes/no; ``box``: ``[x1, y1, x2, y2]``). Real models ignore them (the
    prompt says the same in words); baselines use them. ``reference`` is the ground-truth answer
    in the format the parser expects; the harness fills it only for a model whose
    ``uses_reference`` is true (the oracle).

    ``output`` is ``"attention"`` for a request to ``attend`` (attention maps, not text); its
    ``contrast_prompt`` (paper 001's generic prompt) is run on the same image, and the maps of
    both come back. For such a request ``reference`` is the JSON ``{"boxes": [[x1, y1, x2,
    y2], ...], "image_size": [w, h]}`` of the ground truth.
    """

    sample_id: str
    prompt: str
    images: tuple[bytes, ...]
    generation: Mapping[str, Any]
    task: str = ""
    answer_format: AnswerFormat = "text"
    choices: tuple[str, ...] = ()
    reference: str | None = None
    output: RequestOutput = "text"
    contrast_prompt: str | None = None
    attention_heads: bool = False  # attention requests: also each head's map (``head_maps``)


@dataclass(frozen=True)
class AttentionMaps:
    """A model's attention for one request: ``maps`` (layers, rows, cols) for the prompt and
    ``contrast`` (the same shape) for the contrast prompt, or None when none was asked for.

    ``layers`` names the model layer of each map (0 = first decoder layer). ``preprocess``
    and ``input_size`` (width, height in pixels of the model's input) say how the image became
    the token grid, so that a box in original-image pixels can be put on it
    (``metrics.attention.box_to_token_mask``): ``pad`` (pasted on a square, LLaVA's
    expand2square), ``resize`` (each axis scaled, Qwen2-VL) or ``crop`` (shortest edge to the
    input, centre square: CLIP's processor).
    """

    maps: np.ndarray
    contrast: np.ndarray | None
    layers: tuple[int, ...]
    preprocess: ImagePreprocess
    input_size: tuple[int, int]
    head_maps: np.ndarray | None = None  # (layers, heads, rows, cols) of the prompt, if asked

    def __post_init__(self) -> None:
        if self.maps.ndim != 3 or self.maps.shape[0] != len(self.layers):
            raise ValueError(
                f"attention maps must be (layers, rows, cols) with {len(self.layers)} layers, "
                f"got shape {self.maps.shape}"
            )
        if self.contrast is not None and self.contrast.shape != self.maps.shape:
            raise ValueError(
                f"contrast maps {self.contrast.shape} differ from maps {self.maps.shape}"
            )
        if self.head_maps is not None and (
            self.head_maps.ndim != 4
            or self.head_maps.shape[0] != self.maps.shape[0]
            or self.head_maps.shape[2:] != self.maps.shape[1:]
        ):
            raise ValueError(
                f"head maps must be (layers, heads, rows, cols) on the maps' grid, got "
                f"{self.head_maps.shape}"
            )

    @property
    def grid(self) -> tuple[int, int]:
        return int(self.maps.shape[1]), int(self.maps.shape[2])


# the model method that answers each kind of request
OUTPUT_METHODS: dict[str, str] = {"text": "generate", "attention": "attend", "heatmap": "heatmap"}


def supports_output(model: Any, output: str) -> bool:
    """Whether ``model`` can answer requests of this ``output`` (has the callable method)."""
    return callable(getattr(model, OUTPUT_METHODS[output], None))


def supports_attention(model: Any) -> bool:
    """Whether ``model`` can answer attention requests (has a callable ``attend``)."""
    return supports_output(model, "attention")


@dataclass(frozen=True)
class EvalFailure:
    """No answer for one request, and why (kept out of the cache, counted in the results)."""

    reason: str


@runtime_checkable
class EvalModel(Protocol):
    name: str  # registry name ("openai", "oracle", ...)
    model_id: str  # what is evaluated, e.g. "openai:Qwen/Qwen2-VL-7B-Instruct"

    def fingerprint_args(self) -> Mapping[str, Any]:
        """The arguments that change answers (not transport settings, never secrets)."""
        ...

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]: ...


class BaseEvalModel:
    """Defaults for built-in models: no reference, no seed, nothing to close."""

    name: ClassVar[str] = ""
    uses_reference: ClassVar[bool] = False  # the harness puts the answer into each request
    uses_seed: ClassVar[bool] = False  # the harness passes the run's --seed unless given
    description: ClassVar[str] = ""

    model_id: str = ""

    def fingerprint_args(self) -> Mapping[str, Any]:
        return {}

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]:
        raise NotImplementedError

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry, listed without importing the model's code."""

    name: str
    source: str  # "builtin" or "entry point <dist>"
    target: str  # "module:attr"
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def model_fingerprint(model: Any) -> str:
    """sha256 of the model id and its answer-changing arguments (canonical JSON)."""
    args = dict(model.fingerprint_args()) if hasattr(model, "fingerprint_args") else {}
    payload = {"model_id": str(model.model_id), "args": args}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_kv(text: str | None) -> dict[str, str]:
    """``"k=v,k2=v2"`` (lm-eval's ``--model_args``) as a dict of strings.

    A value may hold commas when quoted (``prompt="a, b"``); surrounding quotes are removed.
    An empty text gives ``{}``; an item without ``=`` raises ValueError.
    """
    out: dict[str, str] = {}
    if not text or not text.strip():
        return out
    items, current, quote = [], [], ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quote:
        raise ValueError(f"unterminated quote in {text!r}")
    items.append("".join(current))
    for item in items:
        if not item.strip():
            continue
        if "=" not in item:
            raise ValueError(f"expected key=value, got {item.strip()!r} in {text!r}")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ValueError(f"empty key in {text!r}")
        out[key] = value.strip()
    return out
