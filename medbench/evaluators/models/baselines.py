"""Baselines that need no model: the oracle (upper bound) and a seeded random guesser."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from medbench.evaluators.metrics.attention import box_to_token_mask
from medbench.evaluators.metrics.sets import boxes_to_mask
from medbench.evaluators.models.base import AttentionMaps, BaseEvalModel, EvalFailure, EvalRequest
from medbench.hashing import stable_hash


def _no_args(name: str, args: Mapping[str, Any]) -> None:
    if args:
        raise ValueError(f"model {name!r} takes no arguments, got {', '.join(sorted(args))}")


BASELINE_BATCH = 64
# The attention geometry the baselines pretend to have: LLaVA-1.5's (CLIP ViT-L/14 at 336 px,
# a 24 x 24 token grid, the image padded to a square).
BASELINE_GRID = (24, 24)
BASELINE_INPUT = (336, 336)
RANDOM_LAYERS = 4
RANDOM_HEADS = 3


class OracleModel(BaseEvalModel):
    """Answers every request with its ground truth, in the format the task's parser expects,
    so every metric of every task reaches its maximum; a check of the harness itself."""

    name = "oracle"
    description = "answers the ground truth (every metric at its maximum)"
    uses_reference = True
    default_batch_size = BASELINE_BATCH

    def __init__(self, **args: Any) -> None:
        _no_args(self.name, args)
        self.model_id = "oracle"

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]:
        out: list[str | EvalFailure] = []
        for request in batch:
            if request.reference is None:
                out.append(EvalFailure(f"no reference answer for {request.sample_id}"))
            else:
                out.append(request.reference)
        return out

    def attend(self, batch: list[EvalRequest]) -> list[AttentionMaps | EvalFailure]:
        """One layer of attention spread evenly over the tokens the ground-truth boxes cover,
        and a uniform map for the contrast prompt: KL = JS = 0 and AR = N / |box tokens|,
        the largest each can be."""
        out: list[AttentionMaps | EvalFailure] = []
        for request in batch:
            if request.reference is None:
                out.append(EvalFailure(f"no reference boxes for {request.sample_id}"))
                continue
            truth = json.loads(request.reference)
            mask = box_to_token_mask(
                truth["boxes"], tuple(truth["image_size"]), BASELINE_GRID, preprocess="pad"
            ).astype(np.float32)
            contrast = None if request.contrast_prompt is None else np.ones((1, *BASELINE_GRID))
            maps = mask[None] / max(float(mask.sum()), 1.0)
            out.append(AttentionMaps(maps, contrast, (0,), "pad", BASELINE_INPUT))
        return out

    def heatmap(self, batch: list[EvalRequest]) -> list[np.ndarray | EvalFailure]:
        """The ground-truth boxes' mask plus a faint checkerboard (0.05): the pointing game,
        Dice and IoU are 1, and CNR is large but finite (a pure mask's would be infinite)."""
        out: list[np.ndarray | EvalFailure] = []
        for request in batch:
            if request.reference is None:
                out.append(EvalFailure(f"no reference boxes for {request.sample_id}"))
                continue
            truth = json.loads(request.reference)
            width, height = truth["image_size"]
            mask = boxes_to_mask(np.asarray(truth["boxes"], dtype=float), (height, width))
            rows, cols = np.indices((height, width))
            out.append(mask.astype(np.float32) + 0.05 * ((rows + cols) % 2))
        return out


class RandomModel(BaseEvalModel):
    """A seeded guesser: a random option letter (or one of the task's closed answers), a random
    box inside the image, or a random word of the prompt for open questions.

    Each answer depends only on (seed, task, sample id), never on batch composition or order.
    """

    name = "random"
    description = "seeded random option / box / word (chance level)"
    uses_seed = True
    default_batch_size = BASELINE_BATCH

    def __init__(self, seed: int | str = 0, **args: Any) -> None:
        _no_args(self.name, args)
        self.seed = int(seed)
        self.model_id = "random"

    def fingerprint_args(self) -> Mapping[str, Any]:
        return {"seed": self.seed}

    def _rng(self, request: EvalRequest) -> random.Random:
        return random.Random(
            stable_hash("random-model", self.seed, request.task, request.sample_id)
        )

    def _answer(self, request: EvalRequest) -> str:
        rng = self._rng(request)
        if request.answer_format == "box":
            if request.images:
                width, height = Image.open(io.BytesIO(request.images[0])).size
            else:
                width, height = 1, 1
            xs = sorted(rng.uniform(0, width) for _ in range(2))
            ys = sorted(rng.uniform(0, height) for _ in range(2))
            return f"[{xs[0]:.1f}, {ys[0]:.1f}, {xs[1]:.1f}, {ys[1]:.1f}]"
        if request.choices:
            return rng.choice(request.choices)
        words = request.prompt.split()
        return rng.choice(words) if words else ""

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]:
        return [self._answer(r) for r in batch]

    def heatmap(self, batch: list[EvalRequest]) -> list[np.ndarray | EvalFailure]:
        """A seeded uniform-noise map at the image's size (chance level)."""
        out: list[np.ndarray | EvalFailure] = []
        for request in batch:
            if not request.images:
                out.append(EvalFailure(f"no image for {request.sample_id}"))
                continue
            width, height = Image.open(io.BytesIO(request.images[0])).size
            rng = np.random.default_rng(
                int(stable_hash("random-heatmap", self.seed, request.task, request.sample_id), 16)
            )
            out.append(rng.random((height, width), dtype=np.float32))
        return out

    def attend(self, batch: list[EvalRequest]) -> list[AttentionMaps | EvalFailure]:
        """Seeded random attention (softmax of Gaussian logits per layer) for the prompt and
        the contrast prompt: chance level, AR about 1."""
        out: list[AttentionMaps | EvalFailure] = []
        for request in batch:
            rng = np.random.default_rng(
                int(stable_hash("random-attention", self.seed, request.task, request.sample_id), 16)
            )
            logits = rng.normal(size=(2, RANDOM_LAYERS, RANDOM_HEADS, *BASELINE_GRID))
            probs = np.exp(logits) / np.exp(logits).sum(axis=(-2, -1), keepdims=True)
            maps = probs.mean(axis=2)  # head mean, as a model's layer map
            contrast = None if request.contrast_prompt is None else maps[1]
            out.append(
                AttentionMaps(
                    maps[0],
                    contrast,
                    tuple(range(RANDOM_LAYERS)),
                    "pad",
                    BASELINE_INPUT,
                    head_maps=probs[0] if request.attention_heads else None,
                )
            )
        return out
