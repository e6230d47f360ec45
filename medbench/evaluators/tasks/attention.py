"""Attention grounding (paper 001 sec. 2.2-2.4): does the model look at the region the question
is about? Scored on VGMED and on the COCO reference set with AR, KL and JS per layer.

Protocol (paper 001 sec. 2.3; the reference ``measure_attention.py``, research notes §6.2):

1. The model reads the image with the question prompt ``"{question} Answer the question using a
   single word or phrase."`` and, as the contrast, with the generic prompt ``"Write a general
   description of the image. Answer the question using a single word or phrase."``. From each
   forward pass it gives, per decoder layer, the attention of the last prompt token to the image
   patch tokens averaged over heads (``AttentionMaps``; models that can do this implement
   ``attend``).
2. The question map is divided by the generic one elementwise (Â = A / A_generic: "normalise
   the attention map using a reference attention map obtained from the generic prompt", after
   Zhang et al. 2025), unless the task argument ``normalise=none``.
3. The row's box becomes a token mask on the model's grid with the model's own preprocessing
   (``box_to_token_mask``: pad-to-square offset included; ``box_mapping=vgrefine`` reproduces
   the reference's plain scaling, which ignores the padding).
4. ``attention_ratio``, ``kl_divergence`` and ``js_divergence`` (``metrics.attention``) per layer.

What is cached per sample (the "raw output" of the samples file) is the per-layer values of the
three metrics as JSON, not the maps (a 32-layer model's two maps are ~150 KB a sample). So the
settings that change those values (the prompts, ``normalise``, ``box_mapping``, ``token_rule``)
are part of the task's ``prompt_hash`` and so of the cache key; ``layer`` only changes scoring.

Scores: the paper plots every layer (fig. 3) and shows the layer with the lowest KL (fig. 1).
``results.json`` gives the per-layer means under ``metric_settings.per_layer`` (plotted as
``plot_<task>_layers.png``) and the three metrics with bootstrap CIs at one layer: the task
argument ``layer`` (a model layer index), or by default the layer with the lowest mean KL over
the run's samples (chosen on the same samples it is reported on, as the paper does; say so when
quoting it). With ``heads=true`` the model also gives each head's map (divided by the generic
prompt's layer-mean map, as VGRefine's triage does), every (layer, head) is scored, and
``metric_settings.top_heads`` lists the ``top_k`` heads (default 20, paper 001 app. L) with the
lowest mean KL: VGRefine's head selection (app. D; the paper ranks them on COCO). A sample
whose maps could not be scored (its box covers no token, e.g. cropped
away) is a parse failure with the reason, never a score of 0 (a KL of 0 would be perfect).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from medbench.evaluators.metrics.aggregate import aggregate
from medbench.evaluators.metrics.attention import (
    attention_ratio,
    box_to_token_mask,
    js_divergence,
    kl_divergence,
    relative_attention,
)
from medbench.evaluators.models.base import AnswerFormat, AttentionMaps, RequestOutput
from medbench.evaluators.tasks.spec import Parsed, TaskData, TaskSpec, parse_cached_values
from medbench.schemas.coco_ref import CocoRefRow
from medbench.schemas.vgmed import VGMEDRow

ATTENTION_METRICS = ("attention_ratio", "kl_divergence", "js_divergence")
_FUNCTIONS = {
    "attention_ratio": attention_ratio,
    "kl_divergence": kl_divergence,
    "js_divergence": js_divergence,
}
SELECTION_METRIC = "kl_divergence"  # paper 001 fig. 1: the layer with the lowest KL
DEFAULT_TOP_K = 20  # paper 001 app. L: VGRefine aggregates the top K = 20 heads

# The reference's prompts (measure_attention.py): the suffix follows both of them.
ATTENTION_PROMPT = """\
{{ question }} Answer the question using a single word or phrase.
"""
GENERIC_PROMPT = (
    "Write a general description of the image. Answer the question using a single word or phrase."
)


class AttentionTask(TaskSpec):
    """A VGMED-style row (image, one ``bbox``, question) scored on the model's attention."""

    kind: ClassVar[str] = "attention"
    output: ClassVar[RequestOutput] = "attention"
    row_model: ClassVar[type] = VGMEDRow
    task_args: ClassVar[tuple[str, ...]] = (
        "layer",
        "normalise",
        "box_mapping",
        "token_rule",
        "heads",
        "top_k",
    )
    # plain numbers in results.md, not percentages
    value_metrics: ClassVar[frozenset[str]] = frozenset(ATTENTION_METRICS)

    contrast_prompt: str | None = Field(
        GENERIC_PROMPT, description="the generic prompt whose map normalises the question's"
    )
    layer: int | None = Field(None, description="model layer scored; None: lowest mean KL")
    normalise: Literal["generic", "none"] = "generic"
    box_mapping: Literal["model", "vgrefine"] = "model"
    token_rule: Literal["any", "centre"] = "any"
    heads: bool = Field(False, description="also score every (layer, head) and rank the heads")
    top_k: int = Field(DEFAULT_TOP_K, ge=1, description="heads listed in top_heads")

    @property
    def prompt_hash(self) -> str:
        """The prompts and every setting that changes the cached per-layer values."""
        text = "\n\0".join(
            [
                self.prompt_template,
                self.contrast_prompt if self.normalise == "generic" else "",
                self.normalise,
                self.box_mapping,
                self.token_rule,
                *(["heads"] if self.heads else []),  # so the default keeps its hash
            ]
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def check(self, row: VGMEDRow) -> str | None:
        x1, y1, x2, y2 = row.bbox
        if not (x2 > x1 and y2 > y1):
            return f"empty ground-truth box {row.bbox}"
        return None

    def prompt_variables(self, row: VGMEDRow) -> dict[str, Any]:
        return {"question": row.question, "label": row.label}

    def answer_format(self, row: VGMEDRow) -> tuple[AnswerFormat, tuple[str, ...]]:
        return "text", ()

    def request_extras(self, row: VGMEDRow) -> dict[str, Any]:
        return {
            "contrast_prompt": self.contrast_prompt if self.normalise == "generic" else None,
            "attention_heads": self.heads,
        }

    # ---------------------------------------------------------------- maps → per-layer values

    def reduce(self, maps: AttentionMaps, row: VGMEDRow) -> str:
        """The per-layer metric values of one sample as JSON (what the cache keeps)."""
        out: dict[str, Any] = {
            "layers": list(maps.layers),
            "grid": list(maps.grid),
            "preprocess": maps.preprocess,
            "input_size": list(maps.input_size),
        }
        try:
            attn = np.asarray(maps.maps, dtype=np.float64)
            if self.normalise == "generic":
                if maps.contrast is None:
                    raise ValueError("the model gave no map for the generic prompt")
                attn = relative_attention(attn, maps.contrast)
                if not np.all(np.isfinite(attn)):
                    raise ValueError("the generic prompt's map has zeros: A / A_generic is inf")
            mask = box_to_token_mask(
                row.bbox,
                (row.image_width, row.image_height),
                maps.grid,
                preprocess="vgrefine" if self.box_mapping == "vgrefine" else maps.preprocess,
                rule=self.token_rule,
                input_size=maps.input_size,
            )
            out["tokens_in_box"] = int(mask.sum())
            for name, fn in _FUNCTIONS.items():
                out[name] = [float(v) for v in np.atleast_1d(fn(attn, mask))]
            if self.heads:
                out["heads"] = self._head_values(maps, mask)
        except ValueError as exc:
            out["error"] = str(exc)
        return json.dumps(out, separators=(",", ":"), allow_nan=True)

    def _head_values(self, maps: AttentionMaps, mask: np.ndarray) -> dict[str, list]:
        """Each metric per (layer, head): a list per layer of one value per head."""
        if maps.head_maps is None:
            raise ValueError("the model gave no per-head maps")
        heads = np.asarray(maps.head_maps, dtype=np.float64)
        if self.normalise == "generic":
            assert maps.contrast is not None  # checked with the layer maps
            heads = relative_attention(heads, np.asarray(maps.contrast)[:, None])
            if not np.all(np.isfinite(heads)):
                raise ValueError("the generic prompt's map has zeros: A / A_generic is inf")
        return {
            name: np.asarray(fn(heads, mask), dtype=float).tolist()
            for name, fn in _FUNCTIONS.items()
        }

    def _top_heads(self, scored: Sequence[Mapping[str, Any]], layers: list[int]) -> list[dict]:
        """The ``top_k`` (layer, head) pairs with the lowest mean KL over the samples."""
        means = {
            name: np.mean([s["parsed"]["heads"][name] for s in scored], axis=0)
            for name in ATTENTION_METRICS
        }
        order = np.argsort(means[SELECTION_METRIC], axis=None, kind="stable")[: self.top_k]
        top = []
        for flat in order:
            li, hi = np.unravel_index(flat, means[SELECTION_METRIC].shape)
            top.append(
                {
                    "layer": layers[int(li)],
                    "head": int(hi),
                    **{n: float(means[n][li, hi]) for n in ATTENTION_METRICS},
                }
            )
        return top

    def parse(self, raw: str, row: VGMEDRow) -> Parsed:
        parsed = parse_cached_values(raw, "attention maps")
        if not parsed.ok:
            return parsed
        value = parsed.value
        values = [v for name in ATTENTION_METRICS for v in value.get(name, [])]
        if not values or not all(math.isfinite(v) for v in values):
            return Parsed(False, value, "attention values are missing or not finite")
        return Parsed(True, value)

    def _layer_position(self, layers: Sequence[int]) -> int | None:
        if self.layer is None:
            return None
        wanted = self.layer if self.layer >= 0 else layers[-1] + 1 + self.layer
        return list(layers).index(wanted) if wanted in layers else None

    def score(self, parsed: Parsed, row: VGMEDRow) -> dict[str, float | None]:
        """Values at the ``layer`` argument; none with the default (the layer is chosen over
        all samples in ``summary_metrics``) or when the maps could not be scored."""
        if not parsed.ok:
            return {}
        position = self._layer_position(parsed.value["layers"])
        if position is None:
            return {}
        return {name: parsed.value[name][position] for name in ATTENTION_METRICS}

    def summary_metrics(
        self, samples: Sequence[Mapping[str, Any]], *, n_resamples: int = 1000, seed: int = 0
    ) -> dict[str, Any]:
        """Per-layer means of every metric and, with the default ``layer``, the three metrics
        (bootstrap CIs, per subset) at the layer with the lowest mean KL."""
        scored = [s for s in samples if s.get("parse_ok")]
        if not scored:
            return {}
        layers = scored[0]["parsed"]["layers"]
        if any(s["parsed"]["layers"] != layers for s in scored):
            return {"not_computed": {m: "samples have different layers" for m in self.metrics}}
        values = {
            name: np.array([s["parsed"][name] for s in scored], dtype=float)
            for name in ATTENTION_METRICS
        }
        per_layer = {name: [float(v) for v in arr.mean(axis=0)] for name, arr in values.items()}
        if self.layer is not None:
            position = self._layer_position(layers)
            if position is None:
                return {
                    "not_computed": {
                        m: f"layer {self.layer} not among the model's layers" for m in self.metrics
                    },
                    "settings": {"per_layer": {"layers": layers, **per_layer}},
                }
            selection = f"fixed (task argument layer={self.layer})"
        else:
            position = int(np.argmin(values[SELECTION_METRIC].mean(axis=0)))
            selection = f"lowest mean {SELECTION_METRIC} over the {len(scored)} scored samples"
        settings = {
            "layer": layers[position],
            "layer_selection": selection,
            "normalise": self.normalise,
            "box_mapping": self.box_mapping,
            "token_rule": self.token_rule,
            "grid": scored[0]["parsed"]["grid"],
            "preprocess": scored[0]["parsed"]["preprocess"],
            "per_layer": {"layers": layers, **per_layer},
        }
        if self.heads:
            settings["top_heads"] = self._top_heads(scored, layers)
            settings["top_heads_selection"] = (
                f"lowest mean {SELECTION_METRIC} over {len(scored)} samples; top {self.top_k}"
            )
        if self.layer is not None:  # per-sample scores exist; the harness aggregated them
            return {"settings": settings}
        flat = [
            {**{n: values[n][i, position] for n in ATTENTION_METRICS}, **s.get("subsets", {})}
            for i, s in enumerate(scored)
        ]
        agg = aggregate(
            flat, list(ATTENTION_METRICS), by=self.subset_keys, n_resamples=n_resamples, seed=seed
        )
        return {
            "metrics": agg["overall"]["metrics"],
            "subsets": {
                key: {value: block["metrics"] for value, block in groups.items()}
                for key, groups in agg["groups"].items()
            },
            "settings": settings,
        }

    def oracle_answer(self, row: VGMEDRow) -> str:
        return json.dumps(
            {
                "boxes": [[float(v) for v in row.bbox]],
                "image_size": [row.image_width, row.image_height],
            }
        )

    def target(self, row: VGMEDRow) -> Any:
        return {"bbox": [float(v) for v in row.bbox], "label": row.label}


class CocoAttentionTask(AttentionTask):
    row_model: ClassVar[type] = CocoRefRow


ATTENTION_TASKS: tuple[AttentionTask, ...] = (
    AttentionTask(
        name="vgmed-attention",
        description=(
            "VGMED questions: the model's attention to the question's region per layer "
            "(attention ratio, KL and JS divergence)"
        ),
        source=(
            "paper 001 sec. 2.2-2.4 (AR, KL, JS; generic-prompt normalisation) and the "
            "reference measure_attention.py"
        ),
        data=TaskData(subpath="vgmed", splits=("test",)),
        prompt_template=ATTENTION_PROMPT,
        metrics=ATTENTION_METRICS,
        subset_keys=("question_type", "modality", "body_part", "dataset"),
    ),
    CocoAttentionTask(
        name="coco-attention",
        description=(
            "COCO reference questions (natural images): the model's attention to the "
            "question's region per layer (attention ratio, KL and JS divergence)"
        ),
        source="paper 001 sec. 2.4 (LLaVA-v1.5 on natural images as the reference point)",
        data=TaskData(subpath="coco-ref", splits=("test",)),
        prompt_template=ATTENTION_PROMPT,
        metrics=ATTENTION_METRICS,
        subset_keys=("question_type", "supercategory"),
    ),
)
