"""VGMED grounding: the model is asked a VGMED localization question and answers a box.

Prompt: the row's question, then an instruction to answer the bounding box of the row's label
as ``[x1, y1, x2, y2]`` in pixels of the image (its width and height are stated).

Parsing (``parse_box``): where the answer has box tags, Qwen2-VL's
``<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` or Qwen-VL / InternVL's ``<box>...</box>``, only
their contents are read; otherwise the whole answer. In it: the first four numbers in brackets
or parentheses (``[x1, y1, x2, y2]``, ``(x1, y1, x2, y2)``, Qwen2.5-VL's JSON
``"bbox_2d": [...]``), else the first two points ``(x1, y1), (x2, y2)``. Corners are reordered
so x1 <= x2 and y1 <= y2. An answer with no such box is a parse failure: IoU 0, counted in
``parse_failures``.

How the numbers are read is the task's box convention (``BoxConvention``), set with the task
arguments ``box_format`` and ``box_frame`` (``--task-args vgmed-grounding:box_format=norm1,
box_frame=square-pad``). Models answer in their own frame whatever the prompt says, so the
convention changes parsing (and the oracle's answer) only: never the prompt, its hash or the
cache key. A cached run is re-scored in another convention without asking the model again.

* ``box_format``: ``pixel`` (default) - pixels of the frame; ``norm1`` - fractions of the
  frame's width and height (lmms-eval's RefCOCO prompt, LLaVA-1.5's training boxes);
  ``norm1000`` - a 0-1000 grid over the frame (Qwen-VL, Qwen2-VL, InternVL).
* ``box_frame``: ``image`` (default) - the image as stored in the row; ``square-pad`` - the
  image centred on a square of side max(width, height), LLaVA's ``expand2square`` (offsets
  (side - width) // 2 and (side - height) // 2), so coordinates are un-padded back to the
  image; ``resized`` - the image as Qwen2-VL's processor resizes it (``smart_resize``: both
  sides rounded to multiples of ``resize_factor``, default 28, the pixel count brought within
  [``resize_min_pixels``, ``resize_max_pixels``], defaults 56*56 and 28*28*1280 as
  transformers' ``Qwen2VLImageProcessor``; a model's ``preprocessor_config.json`` or the run's
  processor arguments may differ, and the task must be given the values the run used):
  Qwen2.5-VL answers in pixels of that input.

The default (``pixel``, ``image``) keeps one heuristic of the first release: when all four
numbers lie in [0, 1] and one has a fractional part they are read as fractions of the frame
(``"scale": "normalised"`` in the parsed value). So ``[0, 0, 1, 1]`` is a one-pixel box,
``[0.1, 0.2, 0.5, 0.6]`` a normalised one. The explicit formats read every answer the same way.
Conversions are exact (the decimals as written, rational arithmetic, one rounding to float at
the end), so the oracle's answer parses back to the ground-truth box in every convention.

Metrics (``medbench.evaluators.metrics.sets.box_iou``): ``iou`` of the parsed box with the
row's ``bbox``, and ``acc@0.5`` = IoU >= 0.5 (lmms-eval's RefCOCO bbox ACC@0.5).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, ClassVar, Literal, get_args

import numpy as np
from pydantic import BaseModel, Field, model_validator

from medbench.evaluators.metrics.sets import box_iou
from medbench.evaluators.models.base import AnswerFormat
from medbench.evaluators.tasks.spec import Parsed, TaskData, TaskSpec
from medbench.schemas.vgmed import VGMEDRow

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SEP = r"\s*[,;]?\s*"
_FOUR = re.compile(
    r"[\[(]\s*("
    + _NUM
    + r")\s*,\s*("
    + _NUM
    + r")\s*,\s*("
    + _NUM
    + r")\s*,\s*("
    + _NUM
    + r")\s*[\])]"
)
_TWO_POINTS = re.compile(
    r"\(\s*("
    + _NUM
    + r")\s*,\s*("
    + _NUM
    + r")\s*\)"
    + _SEP
    + r"\(\s*("
    + _NUM
    + r")\s*,\s*("
    + _NUM
    + r")\s*\)"
)

GROUNDING_PROMPT = """\
{{ question }}
Answer with the bounding box of the {{ label }} as [x1, y1, x2, y2]: pixel coordinates in \
this {{ image_width }}x{{ image_height }} image, x to the right and y down, (x1, y1) the \
top-left and (x2, y2) the bottom-right corner.
"""


# the contents of box tags: Qwen2-VL <|box_start|>...<|box_end|>, Qwen-VL / InternVL <box>...</box>
_BOX_TAGS = re.compile(r"<\|box_start\|>(.*?)<\|box_end\|>|<box>(.*?)</box>", re.DOTALL)

BoxFormat = Literal["pixel", "norm1", "norm1000"]
BoxFrame = Literal["image", "square-pad", "resized"]
BOX_FORMATS: tuple[str, ...] = get_args(BoxFormat)
BOX_FRAMES: tuple[str, ...] = get_args(BoxFrame)
# transformers' Qwen2VLImageProcessor defaults (patch 14 x merge 2; 56*56 to 28*28*1280 pixels)
RESIZE_FACTOR = 28
RESIZE_MIN_PIXELS = 56 * 56
RESIZE_MAX_PIXELS = 28 * 28 * 1280
_MAX_PLACES = 40  # decimal places the oracle may need to write a coordinate exactly enough


def smart_resize(
    height: int,
    width: int,
    factor: int = RESIZE_FACTOR,
    min_pixels: int = RESIZE_MIN_PIXELS,
    max_pixels: int = RESIZE_MAX_PIXELS,
) -> tuple[int, int]:
    """(height, width) Qwen2-VL's image processor resizes an image to: each side rounded to a
    multiple of ``factor``, then scaled (keeping the aspect ratio) into [min, max] pixels."""
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass(frozen=True)
class Axis:
    """One axis of a convention: image pixel = (value * unit - offset) * scale, exactly."""

    unit: Fraction  # frame pixels per answer unit
    offset: Fraction  # padding before the image in the frame
    scale: Fraction  # image pixels per frame pixel

    def to_image(self, value: Fraction) -> Fraction:
        return (value * self.unit - self.offset) * self.scale

    def from_image(self, pixel: Fraction) -> Fraction:
        return (pixel / self.scale + self.offset) / self.unit


@dataclass(frozen=True)
class BoxConvention:
    """How a model writes box coordinates: ``format`` (pixel, norm1, norm1000) of ``frame``
    (image, square-pad, resized); see the module docstring."""

    format: BoxFormat = "pixel"
    frame: BoxFrame = "image"
    resize_factor: int = RESIZE_FACTOR
    resize_min_pixels: int = RESIZE_MIN_PIXELS
    resize_max_pixels: int = RESIZE_MAX_PIXELS

    @property
    def is_default(self) -> bool:
        return self.format == "pixel" and self.frame == "image"

    def frame_size(self, width: float, height: float) -> tuple[Fraction, Fraction]:
        """(width, height) of the frame the model's coordinates refer to."""
        if self.frame == "square-pad":
            side = Fraction(max(width, height))
            return side, side
        if self.frame == "resized":
            h, w = smart_resize(
                int(height),
                int(width),
                self.resize_factor,
                self.resize_min_pixels,
                self.resize_max_pixels,
            )
            return Fraction(w), Fraction(h)
        return Fraction(width), Fraction(height)

    def axes(self, width: float, height: float, fmt: str | None = None) -> tuple[Axis, Axis]:
        """The x and y axes for an image of ``width`` x ``height`` (``fmt`` overrides the
        format: the default convention's normalised reading)."""
        frame_w, frame_h = self.frame_size(width, height)
        fmt = fmt or self.format
        out = []
        for size, frame in ((Fraction(width), frame_w), (Fraction(height), frame_h)):
            unit = {"pixel": Fraction(1), "norm1": frame, "norm1000": frame / 1000}[fmt]
            # expand2square pastes at ((side - w) // 2, (side - h) // 2): integer offsets
            offset = Fraction((frame - size) // 2) if self.frame == "square-pad" else Fraction(0)
            scale = size / frame if self.frame == "resized" else Fraction(1)
            out.append(Axis(unit, offset, scale))
        return out[0], out[1]

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"box_format": self.format, "box_frame": self.frame}
        if self.frame == "resized":
            out.update(
                resize_factor=self.resize_factor,
                resize_min_pixels=self.resize_min_pixels,
                resize_max_pixels=self.resize_max_pixels,
            )
        return out


DEFAULT_CONVENTION = BoxConvention()


def read_number(text: str) -> Fraction | None:
    """The exact value of a decimal ``text`` (None when it overflows a float). An exponent
    beyond any float's is taken through float (0 or overflow), never as 10**huge."""
    value = float(text)
    if not math.isfinite(value):
        return None
    exponent = text.lower().partition("e")[2]
    if exponent and abs(int(exponent)) > 400:
        return Fraction(value)
    return Fraction(text)


def _segments(text: str) -> list[str]:
    """The contents of the answer's box tags, or the whole answer when it has none."""
    tagged = [a if a is not None else b for a, b in _BOX_TAGS.findall(text)]
    return tagged or [text]


def find_boxes(text: str, *, first: bool = False) -> list[list[str]]:
    """The coordinate strings of the boxes in ``text``: four numbers in brackets, else pairs of
    points, inside box tags where there are any (falling back to the whole text)."""
    for segments in (_segments(text), [text]):
        fours = [m.groups() for seg in segments for m in _FOUR.finditer(seg)]
        found = fours or [m.groups() for seg in segments for m in _TWO_POINTS.finditer(seg)]
        if found:
            return [list(found[0])] if first else [list(g) for g in found]
    return []


def read_boxes(
    groups: Sequence[Sequence[str]],
    width: float,
    height: float,
    convention: BoxConvention = DEFAULT_CONVENTION,
) -> tuple[list[list[float]], str] | str:
    """Image-pixel boxes ``[x1, y1, x2, y2]`` (corners reordered) from coordinate strings read
    in ``convention``, and the scale they were read in; a string says why they cannot be."""
    numbers = [[read_number(v) for v in group] for group in groups]
    if any(v is None for group in numbers for v in group):
        return "box coordinates are not finite"
    values: list[list[Fraction]] = numbers  # type: ignore[assignment]
    scale = convention.format
    if convention.format == "pixel":
        flat = [v for group in values for v in group]
        # the first release's rule: all in [0, 1] with a fraction = normalised to the frame
        if all(0 <= v <= 1 for v in flat) and any(v.denominator != 1 for v in flat):
            scale = "normalised"
    ax, ay = convention.axes(width, height, "norm1" if scale == "normalised" else None)
    boxes = []
    try:
        for x1, y1, x2, y2 in values:
            xs = sorted(float(ax.to_image(v)) for v in (x1, x2))
            ys = sorted(float(ay.to_image(v)) for v in (y1, y2))
            boxes.append([xs[0], ys[0], xs[1], ys[1]])
    except OverflowError:  # finite as written, beyond a float once scaled
        return "box coordinates are not finite"
    return boxes, scale


def parse_box(
    text: str, width: float, height: float, convention: BoxConvention = DEFAULT_CONVENTION
) -> Parsed:
    """The box in ``text`` as image-pixel ``[x1, y1, x2, y2]`` (see the module docstring)."""
    groups = find_boxes(text, first=True)
    if not groups:
        return Parsed(False, None, "no box [x1, y1, x2, y2] in the output")
    read = read_boxes(groups, width, height, convention)
    if isinstance(read, str):
        return Parsed(False, None, read)
    boxes, scale = read
    value: dict[str, Any] = {"box": boxes[0], "scale": scale}
    if convention.frame != "image":
        value["frame"] = convention.frame
    return Parsed(True, value)


def _format_number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _decimal(value: Fraction, places: int) -> str:
    rounded = round(value, places)
    with localcontext() as ctx:
        ctx.prec = 80  # exact: the denominator divides 10**places
        text = format(Decimal(rounded.numerator) / Decimal(rounded.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def write_coordinate(pixel: float, axis: Axis) -> str:
    """``pixel`` written in the axis's answer units: the shortest decimal that parses back to
    exactly ``pixel`` (a non-terminating one, e.g. 1/6, to 40 places: within 1e-38 px)."""
    exact = axis.from_image(Fraction(pixel))
    text = _decimal(exact, _MAX_PLACES)
    for places in range(_MAX_PLACES):
        candidate = _decimal(exact, places)
        if float(axis.to_image(Fraction(candidate))) == float(pixel):  # as parse reads it
            return candidate
    return text


def format_box(
    box: Sequence[float],
    width: float,
    height: float,
    convention: BoxConvention = DEFAULT_CONVENTION,
) -> str:
    """``[x1, y1, x2, y2]`` of an image-pixel box, written in ``convention``."""
    if convention.is_default:
        return "[" + ", ".join(_format_number(v) for v in box) + "]"
    ax, ay = convention.axes(width, height)
    axes = (ax, ay, ax, ay)
    return "[" + ", ".join(write_coordinate(v, a) for v, a in zip(box, axes, strict=True)) + "]"


class BoxAnswerArgs(BaseModel):
    """The task arguments of the tasks answered with boxes (``configure_task``)."""

    box_format: BoxFormat = Field("pixel", description="pixel, norm1 or norm1000")
    box_frame: BoxFrame = Field("image", description="image, square-pad or resized")
    resize_factor: int | None = Field(None, ge=1, description="box_frame=resized only")
    resize_min_pixels: int | None = Field(None, ge=1, description="box_frame=resized only")
    resize_max_pixels: int | None = Field(None, ge=1, description="box_frame=resized only")

    @model_validator(mode="after")
    def _resize_args_need_the_resized_frame(self) -> BoxAnswerArgs:
        given = [
            name
            for name in ("resize_factor", "resize_min_pixels", "resize_max_pixels")
            if getattr(self, name) is not None
        ]
        if given and self.box_frame != "resized":
            raise ValueError(f"{', '.join(given)}: only with box_frame=resized")
        return self

    @property
    def box_convention(self) -> BoxConvention:
        return BoxConvention(
            format=self.box_format,
            frame=self.box_frame,
            resize_factor=self.resize_factor or RESIZE_FACTOR,
            resize_min_pixels=self.resize_min_pixels or RESIZE_MIN_PIXELS,
            resize_max_pixels=self.resize_max_pixels or RESIZE_MAX_PIXELS,
        )

    def box_settings(self) -> dict[str, Any]:
        """``summary_metrics``' ``settings`` entry: the convention answers were read in
        (results.json's ``metric_settings``)."""
        return {"box_answers": self.box_convention.describe()}


BOX_TASK_ARGS = (
    "box_format",
    "box_frame",
    "resize_factor",
    "resize_min_pixels",
    "resize_max_pixels",
)


class GroundingTask(BoxAnswerArgs, TaskSpec):
    kind: ClassVar[str] = "grounding"
    row_model: ClassVar[type] = VGMEDRow
    task_args: ClassVar[tuple[str, ...]] = BOX_TASK_ARGS

    def check(self, row: VGMEDRow) -> str | None:
        x1, y1, x2, y2 = row.bbox
        if not (x2 > x1 and y2 > y1):
            return f"empty ground-truth box {row.bbox}"
        return None

    def prompt_variables(self, row: VGMEDRow) -> dict[str, Any]:
        return {
            "question": row.question,
            "label": row.label,
            "image_width": row.image_width,
            "image_height": row.image_height,
            "modality": row.modality,
            "body_part": row.body_part,
        }

    def answer_format(self, row: VGMEDRow) -> tuple[AnswerFormat, tuple[str, ...]]:
        return "box", ()

    def parse(self, raw: str, row: VGMEDRow) -> Parsed:
        return parse_box(raw, row.image_width, row.image_height, self.box_convention)

    def score(self, parsed: Parsed, row: VGMEDRow) -> dict[str, float | None]:
        if not parsed.ok:
            return {"iou": 0.0, "acc@0.5": 0.0}
        iou = float(box_iou(np.array([parsed.value["box"]]), np.array([row.bbox]))[0, 0])
        return {"iou": iou, "acc@0.5": float(iou >= 0.5)}

    def oracle_answer(self, row: VGMEDRow) -> str:
        # in the convention parse reads, so the oracle scores 1 in every one
        return format_box(row.bbox, row.image_width, row.image_height, self.box_convention)

    def target(self, row: VGMEDRow) -> Any:
        return {"bbox": [float(v) for v in row.bbox], "label": row.label}

    def summary_metrics(
        self, samples: Sequence[Mapping[str, Any]], *, n_resamples: int = 1000, seed: int = 0
    ) -> dict[str, Any]:
        """No corpus-level metric: only the box convention, recorded in results.json."""
        return {"settings": self.box_settings()}


GROUNDING_TASKS: tuple[GroundingTask, ...] = (
    GroundingTask(
        name="vgmed-grounding",
        description="VGMED localization questions answered with a box; IoU and accuracy@0.5",
        source=(
            "paper 001 sec. 2.1 and fig. I.2 (VGMED localization questions); box prompt "
            "and metrics as lmms-eval's RefCOCO bbox task (IoU, ACC@0.5)"
        ),
        data=TaskData(subpath="vgmed", splits=("test",), filters={"question_type": "localization"}),
        prompt_template=GROUNDING_PROMPT,
        generation={"temperature": 0.0, "max_tokens": 128},
        metrics=("iou", "acc@0.5"),
        subset_keys=("modality", "body_part", "dataset", "question_type"),
    ),
)
