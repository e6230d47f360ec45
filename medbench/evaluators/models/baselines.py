"""Baselines that need no model: the oracle (upper bound) and a seeded random guesser."""

from __future__ import annotations

import io
import random
from collections.abc import Mapping
from typing import Any

from PIL import Image

from medbench.evaluators.models.base import BaseEvalModel, EvalFailure, EvalRequest
from medbench.hashing import stable_hash


def _no_args(name: str, args: Mapping[str, Any]) -> None:
    if args:
        raise ValueError(f"model {name!r} takes no arguments, got {', '.join(sorted(args))}")


BASELINE_BATCH = 64


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
