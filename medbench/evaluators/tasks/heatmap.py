"""Heat-map grounding (paper 000, DAP: weakly supervised visual grounding on MS-CXR, RSNA
Pneumonia and COVID Rural): the model turns the text query into a heat map over the image,
scored against the query's boxes with CNR, pointing game, Dice and IoU.

A model that can do this has ``heatmap(batch)``: for each request (one image, the query as
``prompt``) a 2-D float map covering the whole original image, at the image's size or any size
of the same aspect ratio (it is resized here, bilinearly, to the image's pixels); NaN marks
pixels the model made no prediction for (e.g. outside a centre crop, as BioViL's maps do).
The model undoes its own preprocessing; the harness does not guess it.

Protocol (``metrics.heatmap``, research notes §2): the ground truth is the union of the row's
boxes rasterised on the image; only rows with at least one box are scored (MedKLIP's and the
WSVG papers' protocol: negatives have no region; they are listed as skipped). CNR (signed, and
``cnr_abs``) and the pointing game on the raw map; Dice and IoU of the min-max normalised map
thresholded at ``threshold`` (task argument, default 0.5, the research notes' choice: paper 000
gives none). A sample whose CNR is undefined (a constant map) has no CNR; the other metrics
still count.

As for attention tasks, what is cached per sample is the metric values (JSON), not the map:
``threshold`` is therefore part of the task's ``prompt_hash``.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from medbench.evaluators.metrics.heatmap import DEFAULT_THRESHOLD, heatmap_scores
from medbench.evaluators.models.base import AnswerFormat, RequestOutput
from medbench.evaluators.tasks.set_grounding import GroundingEvalRow, SetGroundingTask
from medbench.evaluators.tasks.spec import Parsed, TaskData, parse_cached_values

HEATMAP_METRICS = ("cnr", "pointing_game", "dice", "iou", "cnr_abs")
HEATMAP_PROMPT = "{{ sentence }}\n"


def fit_to_image(heatmap: np.ndarray, width: int, height: int) -> np.ndarray:
    """``heatmap`` at (height, width): as is when it already is, else resized bilinearly
    (PIL's float mode); ValueError for a map that is not 2-D or not the image's aspect ratio
    (within one pixel)."""
    h = np.asarray(heatmap, dtype=np.float32)
    if h.ndim != 2 or min(h.shape) == 0:
        raise ValueError(f"the heat map must be a non-empty 2-D array, got shape {h.shape}")
    if h.shape == (height, width):
        return h
    rows, cols = h.shape
    if abs(rows * width / cols - height) > 1.0:
        raise ValueError(
            f"the heat map's {cols}x{rows} is not the image's aspect ratio ({width}x{height})"
        )
    from PIL import Image

    resized = Image.fromarray(h, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


class HeatmapTask(SetGroundingTask):
    """A query with boxes, answered with a heat map (rows without a box are skipped)."""

    kind: ClassVar[str] = "heatmap"
    output: ClassVar[RequestOutput] = "heatmap"
    task_args: ClassVar[tuple[str, ...]] = ("image_root", "threshold")
    value_metrics: ClassVar[frozenset[str]] = frozenset({"cnr", "cnr_abs"})

    threshold: float = Field(DEFAULT_THRESHOLD, gt=0.0, lt=1.0)

    @property
    def prompt_hash(self) -> str:
        text = f"{self.prompt_template}\n\0threshold={self.threshold!r}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def check(self, row: GroundingEvalRow) -> str | None:
        problem = super().check(row)
        if problem is None and not row.boxes:
            return "no box: heat-map grounding scores positive queries only"
        return problem

    def answer_format(self, row: GroundingEvalRow) -> tuple[AnswerFormat, tuple[str, ...]]:
        return "text", ()

    def reduce(self, heatmap: np.ndarray, row: GroundingEvalRow) -> str:
        """The metric values of one sample's map as JSON (what the cache keeps)."""
        try:
            fitted = fit_to_image(heatmap, row.image_width, row.image_height)
            if np.all(np.isnan(fitted)):
                raise ValueError("the heat map is all NaN")
            scores = heatmap_scores(fitted, [list(b) for b in row.boxes], self.threshold)
        except ValueError as exc:
            return json.dumps({"error": str(exc)})
        values = {
            "cnr": scores.cnr,
            "cnr_abs": scores.cnr_abs,
            "pointing_game": float(scores.pointing_game),
            "dice": scores.dice,
            "iou": scores.iou,
        }
        # an undefined CNR (constant map) is absent, not a number
        clean = {k: (v if math.isfinite(v) else None) for k, v in values.items()}
        return json.dumps({**clean, "map_shape": list(np.shape(heatmap))})

    def parse(self, raw: str, row: GroundingEvalRow) -> Parsed:
        return parse_cached_values(raw, "heat map")

    def score(self, parsed: Parsed, row: GroundingEvalRow) -> dict[str, float | None]:
        """The sample's values; a map that could not be scored counts 0 on pointing game,
        Dice and IoU (a missing prediction) and has no CNR."""
        if not parsed.ok:
            return {"pointing_game": 0.0, "dice": 0.0, "iou": 0.0}
        return {m: parsed.value.get(m) for m in HEATMAP_METRICS}

    def counters(self, parsed: Parsed) -> dict[str, int]:
        return {}  # the set-grounding counts (empty answers) do not apply to maps

    def oracle_answer(self, row: GroundingEvalRow) -> str:
        return json.dumps(
            {
                "boxes": [[float(v) for v in b] for b in row.boxes],
                "image_size": [row.image_width, row.image_height],
            }
        )

    def target(self, row: GroundingEvalRow) -> Any:
        return {"boxes": [[float(v) for v in b] for b in row.boxes], "label": row.label}

    def summary_metrics(self, samples: Any, **kwargs: Any) -> dict[str, Any]:
        return {"settings": {"threshold": self.threshold, "normalise": "minmax"}}


def _task(name: str, title: str, *, splits: tuple[str, ...] = ("test",)) -> HeatmapTask:
    return HeatmapTask(
        name=f"{name}-heatmap",
        description=(
            f"{title}: the query as a heat map over the image; CNR, pointing game, Dice, IoU "
            "(positive queries)"
        ),
        source=(
            "paper 000 sec. 4 (WSVG benchmark and metrics); definitions in research notes §2 "
            "(BioViL CNR, MedKLIP pointing game / Dice / IoU)"
        ),
        data=TaskData(subpath=name, splits=splits, filters={"dataset": name}),
        prompt_template=HEATMAP_PROMPT,
        generation={},
        metrics=HEATMAP_METRICS,
        subset_keys=("label",),
    )


HEATMAP_TASKS: tuple[HeatmapTask, ...] = (
    _task("ms-cxr", "MS-CXR (test)"),
    _task("rsna-pneumonia", "RSNA Pneumonia (train: the only labelled split)", splits=("train",)),
    _task("covid-rural", "COVID Rural (test)"),
)
