"""Generalised phrase grounding (paper 002, GMPG) on ``GroundingRow`` shards: the model is asked
to locate a sentence / phrase in a chest X-ray and answers a list of boxes, possibly empty.

Tasks (data sub-path = the build command's output name; rows filtered on ``dataset``):
``gmpg-imagenome-grounding``, ``ms-cxr-grounding``, ``padchest-gr-grounding``,
``rsna-pneumonia-grounding`` (split ``train``: the only labelled one) and
``covid-rural-grounding``.

Prompt (ours: paper 002's MedGrounder is a detector and publishes no MLLM prompt): the sentence,
then an instruction to answer every region it describes as ``[[x1, y1, x2, y2], ...]`` in
pixels of the image (its width and height are stated), or ``[]`` when it describes nothing
locatable.

Parsing (``parse_boxes``), ``vgmed-grounding``'s ``parse_box`` generalised to lists: every
group of four numbers in brackets or parentheses, else every pair of points
``(x1, y1), (x2, y2)``, read inside box tags (``<|box_start|>...<|box_end|>``,
``<box>...</box>``) where the answer has any. The numbers are read in the task's box
convention, the task arguments ``box_format`` / ``box_frame`` (and ``resize_*``) exactly as
``vgmed-grounding``'s (see ``medbench.evaluators.tasks.grounding``): they change parsing and
the oracle's answer only, never the prompt or the cache key. In the default (``pixel`` of the
``image``) the scale is decided once per answer, by ``parse_box``'s rule: the coordinates are
normalised (0-1, scaled by the image width and height) when all of them lie in [0, 1] and one
has a fractional part, else pixels. Corners are reordered. An answer with no box but ``[]`` or
the word ``none`` is the empty prediction (no target); anything else without a box is a parse
failure, scored 0 on every metric (a failure on a no-target sample is not an abstention).
The convention is recorded in results.json (``metric_settings.box_answers``).

Metrics, per sample with P predicted and G ground-truth boxes (``metrics.sets``; paper 002
sec. 3.5, research notes sec. 1); the results are their means over samples:

* ``precision_at_f1``: 1 when the sample's GREC F1 is 1 (greedy one-to-one matching on plain
  IoU >= 0.5, every target matched and no extra box; no-target: 1 iff P = 0). Its mean is
  Pr@(F1=1, IoU>=0.5) over all samples, targeted and no-target.
* ``n_acc``: no-target samples only (G = 0): 1 iff P = 0 (N-Acc).
* ``t_acc``: targeted samples only (G >= 1): 1 iff P >= 1 (GREC's T-acc).
* ``center_hit_f1``: per-sample F1 where a prediction hits a GT box when its centre lies in it
  (one-to-one, maximum matching); no-target: 1 iff P = 0 (CH-F1, working definition).
* ``mask_iou``: IoU of the union of the predicted boxes and the union of the GT boxes
  rasterised on the image (pixel centres); no-target: 1 iff P = 0 (ReLA). Mean = mIoU.
* ``mask_iou_acc@0.5``: mask IoU >= 0.5 (paper 002's "Mask IoU accuracy").
* ``mask_iou_cum``: cumulative mask IoU, sum of intersections / sum of unions over the samples
  (ReLA's cIoU, "across images"). Not a mean of per-sample values: each sample record carries
  ``mask_intersection_px`` and ``mask_union_px`` and ``summary_metrics`` computes the ratio,
  with a percentile bootstrap over samples, overall and per subset.

Subsets: ``label`` (the finding label, where the source has one), ``box_count`` (``0``, ``1``,
``2+``) and ``split``.

Images: a row's embedded bytes (``--embed-images`` builds), else ``<image root>/<image_path>``
read from the licensed store (DICOM rendered to PNG exactly as ``--embed-images`` does). The
image root is the task argument ``image_root`` (``configure_task``), else
``$MEDBENCH_IMAGE_ROOT_<SUBPATH>`` (e.g. ``MEDBENCH_IMAGE_ROOT_MS_CXR``), else
``$MEDBENCH_IMAGE_ROOT``. A sample whose image cannot be had raises ``RequestUnavailable`` from
``request``: a per-sample request error for the harness (scored 0, listed), not a crash.

The rows are read through ``GroundingEvalRow``: ``GroundingRow`` with the image column taken
as the raw ``{bytes, path}`` cell, so a row without embedded bytes is still a row (the
harness otherwise requires bytes in every image column); its digest covers the image's sha256
when embedded, its ``image_path`` otherwise.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from medbench.evaluators.metrics.sets import (
    boxes_to_mask,
    center_hit_f1_per_sample,
    grec_sample_f1,
    mask_iou_per_sample,
)
from medbench.evaluators.models.base import AnswerFormat
from medbench.evaluators.tasks.data import DataError
from medbench.evaluators.tasks.grounding import (
    BOX_TASK_ARGS,
    DEFAULT_CONVENTION,
    BoxAnswerArgs,
    BoxConvention,
    find_boxes,
    format_box,
    read_boxes,
)
from medbench.evaluators.tasks.spec import Parsed, TaskData, TaskSpec
from medbench.schemas.fields import Dtype
from medbench.schemas.gmpg import GroundingRow

IMAGE_ROOT_ENV = "MEDBENCH_IMAGE_ROOT"
IOU_THRESHOLD = 0.5
MASK_IOU_THRESHOLD = 0.5
_NO_TARGET = re.compile(r"\[\s*\]|\bnone\b", re.IGNORECASE)
_CHUNK_ENTRIES = 1 << 22  # bootstrap index matrices in chunks of at most this many entries


class RequestUnavailable(DataError):
    """A sample's request cannot be built (its image is missing or unreadable).

    The harness records it as that sample's request error (scored 0, listed) and goes on; a
    harness that does not know it sees a ``DataError`` (a one-line error, no traceback)."""


# ------------------------------------------------------------------------------ row


class ImageCell(BaseModel):
    """An HF ``Image`` cell as stored: ``{bytes, path}`` (the Arrow struct of the column)."""

    model_config = ConfigDict(frozen=True)

    bytes: Annotated[builtins.bytes, Dtype("binary")] | None = None
    path: str | None = None


class GroundingEvalRow(GroundingRow):
    """``GroundingRow`` as the eval harness reads it: the image column is the raw cell (bytes
    optional), so rows of a build without ``--embed-images`` validate too."""

    image: ImageCell | None = None

    @field_validator("image", mode="before")
    @classmethod
    def _cell(cls, value: Any) -> Any:
        if value is None or isinstance(value, ImageCell | dict):
            return value
        if isinstance(value, builtins.bytes | bytearray):
            return {"bytes": builtins.bytes(value), "path": None}
        if hasattr(value, "save"):  # a decoded PIL image (a Hub dataset read with decoding)
            buf = io.BytesIO()
            value.save(buf, format="PNG")
            return {"bytes": buf.getvalue(), "path": None}
        return value

    @field_serializer("image")
    def _image_digest(self, cell: ImageCell | None) -> dict[str, str | None] | None:
        # what the row digest (and any dump) sees: the image's sha256, never the bytes
        if cell is None:
            return None
        digest = hashlib.sha256(cell.bytes).hexdigest() if cell.bytes is not None else None
        return {"sha256": digest, "path": cell.path}

    @property
    def image_bytes(self) -> builtins.bytes | None:
        return self.image.bytes if self.image is not None and self.image.bytes else None


# ------------------------------------------------------------------------------ parsing


def parse_boxes(
    text: str, width: float, height: float, convention: BoxConvention = DEFAULT_CONVENTION
) -> Parsed:
    """The boxes in ``text`` as image-pixel ``[[x1, y1, x2, y2], ...]`` (see the module
    docstring); ``{"boxes": [], "scale": None}`` for ``[]`` / ``none``."""
    groups = find_boxes(text)
    if not groups:
        if _NO_TARGET.search(text):
            return Parsed(True, {"boxes": [], "scale": None})
        return Parsed(False, None, "no boxes [[x1, y1, x2, y2], ...], [] or none in the output")
    read = read_boxes(groups, width, height, convention)
    if isinstance(read, str):
        return Parsed(False, None, read)
    boxes, scale = read
    value: dict[str, Any] = {"boxes": boxes, "scale": scale}
    if convention.frame != "image":
        value["frame"] = convention.frame
    return Parsed(True, value)


def format_boxes(
    boxes: Sequence[Sequence[float]],
    width: float = 0,
    height: float = 0,
    convention: BoxConvention = DEFAULT_CONVENTION,
) -> str:
    """``[[x1, y1, x2, y2], ...]`` (``[]`` for none) of image-pixel boxes, written in
    ``convention`` (the image size is needed by every convention but the default)."""
    return "[" + ", ".join(format_box(b, width, height, convention) for b in boxes) + "]"


# ------------------------------------------------------------------------------ images


def load_image_bytes(path: Path) -> bytes:
    """Encoded image bytes of a store file, as ``--embed-images`` would embed them (JPEG / PNG
    as shipped, DICOM rendered to an 8-bit PNG)."""
    from medbench.builders.cxr_grounding.embed import image_bytes

    return image_bytes(path)


def image_root_env(subpath: str) -> str:
    return f"{IMAGE_ROOT_ENV}_{re.sub(r'[^A-Za-z0-9]+', '_', subpath).upper()}"


# ------------------------------------------------------------------------------ summary


def ratio_summary(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any] | None:
    """``{"mean", "ci_low", "ci_high", "n"}`` of sum(num) / sum(den), its CI the percentile
    bootstrap over samples (as ``aggregate.bootstrap_ci``: ``default_rng(seed)``, index
    matrices of n draws with replacement; resamples whose denominator sums to 0 are dropped).
    None when the denominator sums to 0 (the ratio is undefined)."""
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    n = num.size
    if n == 0 or den.sum() <= 0:
        return None
    value = float(num.sum() / den.sum())
    rng = np.random.default_rng(seed)
    ratios = np.empty(n_resamples)
    rows = max(1, _CHUNK_ENTRIES // n)
    for start in range(0, n_resamples, rows):
        stop = min(start + rows, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        top, bottom = num[idx].sum(axis=1), den[idx].sum(axis=1)
        ratios[start:stop] = np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)
    ratios = ratios[~np.isnan(ratios)]
    if ratios.size == 0:
        low = high = value
    else:
        alpha = (1.0 - confidence) / 2.0
        low, high = (float(q) for q in np.quantile(ratios, [alpha, 1.0 - alpha]))
    return {"mean": value, "ci_low": low, "ci_high": high, "n": int(n)}


# ------------------------------------------------------------------------------ task


def _box_count(n: int) -> str:
    return "2+" if n >= 2 else str(n)


SET_GROUNDING_PROMPT = """\
Locate the following text in this chest X-ray: "{{ sentence }}"
Answer with the bounding boxes of every region it describes, as a list \
[[x1, y1, x2, y2], ...] of pixel coordinates in this {{ image_width }}x{{ image_height }} \
image, x to the right and y down, (x1, y1) the top-left and (x2, y2) the bottom-right corner \
of a box. Answer [] if the text describes nothing that can be located in the image.
"""

SET_GROUNDING_METRICS = (
    "precision_at_f1",
    "n_acc",
    "t_acc",
    "center_hit_f1",
    "mask_iou",
    "mask_iou_cum",
    "mask_iou_acc@0.5",
)
# per-sample values behind mask_iou_cum (in each sample's metrics, not means themselves)
MASK_PIXELS = ("mask_intersection_px", "mask_union_px")


class SetGroundingTask(BoxAnswerArgs, TaskSpec):
    kind: ClassVar[str] = "set-grounding"
    row_model: ClassVar[type] = GroundingEvalRow
    task_args: ClassVar[tuple[str, ...]] = ("image_root", *BOX_TASK_ARGS)

    image_root: str | None = Field(
        None, description="the licensed image store that image_path is relative to"
    )

    # ---------------------------------------------------------------- rows and images

    def check(self, row: GroundingEvalRow) -> str | None:
        if row.image_width <= 0 or row.image_height <= 0:
            return f"image size {row.image_width}x{row.image_height}"
        for box in row.boxes:
            x1, y1, x2, y2 = box
            if not (x2 > x1 and y2 > y1):
                return f"empty ground-truth box {list(box)}"
        if row.groundable != bool(row.boxes):
            return f"groundable is {row.groundable} but the row has {len(row.boxes)} boxes"
        return None

    def resolved_image_root(self) -> Path | None:
        for value in (
            self.image_root,
            os.environ.get(image_root_env(self.data.subpath)),
            os.environ.get(IMAGE_ROOT_ENV),
        ):
            if value:
                return Path(value).expanduser()
        return None

    def images(self, row: GroundingEvalRow) -> tuple[bytes, ...]:
        embedded = row.image_bytes
        if embedded is not None:
            return (embedded,)
        root = self.resolved_image_root()
        if root is None:
            raise RequestUnavailable(
                f"{self.name}: no embedded image and no image root for {row.image_path} (give "
                f"image_root=..., ${image_root_env(self.data.subpath)} or ${IMAGE_ROOT_ENV})"
            )
        path = root / row.image_path
        if not path.is_file():
            raise RequestUnavailable(f"image not found: {path}")
        try:
            return (load_image_bytes(path),)
        except Exception as exc:  # unreadable file, bad DICOM: this sample only
            raise RequestUnavailable(f"cannot read image {path}: {exc}") from None

    # ---------------------------------------------------------------- prompt and answers

    def prompt_variables(self, row: GroundingEvalRow) -> dict[str, Any]:
        return {
            "sentence": row.sentence,
            "image_width": row.image_width,
            "image_height": row.image_height,
            "label": row.label,
            "dataset": row.dataset,
        }

    def answer_format(self, row: GroundingEvalRow) -> tuple[AnswerFormat, tuple[str, ...]]:
        return "box", ()

    def parse(self, raw: str, row: GroundingEvalRow) -> Parsed:
        return parse_boxes(raw, row.image_width, row.image_height, self.box_convention)

    def score(self, parsed: Parsed, row: GroundingEvalRow) -> dict[str, float | None]:
        gt = np.asarray(row.boxes, dtype=float).reshape(-1, 4)
        size = (row.image_height, row.image_width)
        if parsed.ok:
            pred = np.asarray(parsed.value["boxes"], dtype=float).reshape(-1, 4)
            correct = grec_sample_f1(pred, gt, iou_threshold=IOU_THRESHOLD) >= 1.0
            center_hit = float(center_hit_f1_per_sample([pred], [gt])[0])
            ious, inters, unions = mask_iou_per_sample([pred], [gt], image_sizes=[size])
            iou, inter, union = float(ious[0]), int(inters[0]), int(unions[0])
            n_pred = len(pred)
        else:  # nothing usable: 0 everywhere; the target's area still enters cIoU's union
            correct, center_hit, iou, inter, n_pred = False, 0.0, 0.0, 0, None
            union = int(boxes_to_mask(gt, size).sum())
        out: dict[str, float | None] = {"precision_at_f1": float(correct)}
        if len(gt):
            out["t_acc"] = float(n_pred is not None and n_pred > 0)
        else:
            out["n_acc"] = float(n_pred == 0)
        out.update(
            {
                "center_hit_f1": center_hit,
                "mask_iou": iou,
                "mask_iou_acc@0.5": float(iou >= MASK_IOU_THRESHOLD),
                "mask_intersection_px": inter,
                "mask_union_px": union,
            }
        )
        return out

    def oracle_answer(self, row: GroundingEvalRow) -> str:
        # in the convention parse reads, so the oracle scores 1 in every one
        return format_boxes(row.boxes, row.image_width, row.image_height, self.box_convention)

    def target(self, row: GroundingEvalRow) -> Any:
        return {
            "boxes": [[float(v) for v in box] for box in row.boxes],
            "box_names": list(row.box_names),
            "groundable": row.groundable,
            "label": row.label,
            "image_size": [row.image_width, row.image_height],
        }

    def subsets(self, row: GroundingEvalRow) -> dict[str, str | None]:
        values = {"label": row.label or None, "box_count": _box_count(len(row.boxes))}
        values["split"] = row.split or None
        return {key: values.get(key) for key in self.subset_keys}

    def counters(self, parsed: Parsed) -> dict[str, int]:
        empty = parsed.ok and not parsed.value["boxes"]
        normalised = parsed.ok and parsed.value["scale"] == "normalised"
        return {"empty_answers": int(empty), "normalised_answers": int(normalised)}

    # ---------------------------------------------------------------- corpus-level metrics

    def summary_metrics(
        self, samples: Sequence[Mapping[str, Any]], *, n_resamples: int = 1000, seed: int = 0
    ) -> dict[str, Any]:
        """``mask_iou_cum`` (sum of intersections / sum of unions), overall and per subset, and
        the box convention: ``{"metrics": {name: block}, "subsets": {key: {value: {name:
        block}}}, "settings": {"box_answers": {...}}}``, blocks as
        the harness's ``{mean, ci_low, ci_high, n}``; left out where undefined (no pixel in
        any union, e.g. a subset of correctly answered no-target samples)."""
        kw = {"n_resamples": n_resamples, "seed": seed}

        def block(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
            inter = [float(s["metrics"].get(MASK_PIXELS[0]) or 0) for s in items]
            union = [float(s["metrics"].get(MASK_PIXELS[1]) or 0) for s in items]
            summary = ratio_summary(inter, union, **kw)
            return {} if summary is None else {"mask_iou_cum": summary}

        groups: dict[str, dict[str, dict[str, Any]]] = {}
        for key in self.subset_keys:
            members: dict[str, list[Mapping[str, Any]]] = {}
            for s in samples:
                value = s.get("subsets", {}).get(key)
                if value is not None:
                    members.setdefault(str(value), []).append(s)
            groups[key] = {v: b for v, items in sorted(members.items()) if (b := block(items))}
        return {"metrics": block(samples), "subsets": groups, "settings": self.box_settings()}


def _task(name: str, title: str, source: str, *, splits: tuple[str, ...] = ("test",)):
    return SetGroundingTask(
        name=f"{name}-grounding",
        description=(
            f"{title}: a sentence answered with zero, one or many boxes; Pr@F1=1, N-Acc, "
            "T-Acc, CH-F1, mask IoU (mean, cumulative, accuracy@0.5)"
        ),
        source=(
            f"{source}; metrics paper 002 sec. 3.5 (GREC Pr@F1 / N-acc / T-acc as gRefCOCO "
            "refexp.py on IoU, CH-F1 and mask IoU as research notes sec. 1.3); prompt ours"
        ),
        data=TaskData(subpath=name, splits=splits, filters={"dataset": name}),
        prompt_template=SET_GROUNDING_PROMPT,
        generation={"temperature": 0.0, "max_tokens": 256},
        metrics=SET_GROUNDING_METRICS,
        subset_keys=("label", "box_count", "split"),
    )


SET_GROUNDING_TASKS: tuple[SetGroundingTask, ...] = (
    _task(
        "gmpg-imagenome",
        "GMPG-ImaGenome (test)",
        "paper 002 sec. 3.3, 3.4.1 (cleaned Chest ImaGenome sentences, zero / one / many regions)",
    ),
    _task(
        "ms-cxr",
        "MS-CXR (test)",
        "paper 002 sec. 3.3, 5.1 (MS-CXR phrases); paper 000 WSVG benchmark",
    ),
    _task(
        "padchest-gr",
        "PadChest-GR (test)",
        "paper 002 sec. 3.3, 5.1 (PadChest-GR sentences, non-groundable ones with no box)",
    ),
    # the stage 2 training labels are the only published ones: every row is in "train"
    _task(
        "rsna-pneumonia",
        "RSNA Pneumonia (train: the only labelled split)",
        "paper 000 WSVG benchmark (pneumonia boxes, Target 0 images with none)",
        splits=("train",),
    ),
    _task(
        "covid-rural",
        "COVID Rural (test)",
        "paper 000 WSVG benchmark (opacity components, empty masks with none)",
    ),
)
