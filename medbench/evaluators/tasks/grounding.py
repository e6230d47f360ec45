"""VGMED grounding: the model is asked a VGMED localization question and answers a box.

Prompt: the row's question, then an instruction to answer the bounding box of the row's label
as ``[x1, y1, x2, y2]`` in pixels of the image (its width and height are stated).

Parsing (``parse_box``): the first four numbers in brackets or parentheses
(``[x1, y1, x2, y2]``, ``(x1, y1, x2, y2)``), else the first two points
``(x1, y1), (x2, y2)``. Coordinates are pixels, unless all four lie in [0, 1] and one of
them has a fractional part: then they are read as normalised (0-1) and scaled by the image
width and height. (So ``[0, 0, 1, 1]`` is a one-pixel box, ``[0.1, 0.2, 0.5, 0.6]`` a
normalised one; a model answering on a 0-1000 grid, as Qwen2-VL does, is read as pixels.)
Corners are reordered so x1 <= x2 and y1 <= y2. An answer with no such box is a parse
failure: IoU 0, counted in ``parse_failures``.

Metrics (``medbench.evaluators.metrics.sets.box_iou``): ``iou`` of the parsed box with the
row's ``bbox``, and ``acc@0.5`` = IoU >= 0.5 (lmms-eval's RefCOCO bbox ACC@0.5).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np

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


def parse_box(text: str, width: float, height: float) -> Parsed:
    """The box in ``text`` as pixel ``[x1, y1, x2, y2]`` (see the module docstring)."""
    match = _FOUR.search(text) or _TWO_POINTS.search(text)
    if match is None:
        return Parsed(False, None, "no box [x1, y1, x2, y2] in the output")
    values = [float(v) for v in match.groups()]
    if not all(np.isfinite(values)):
        return Parsed(False, None, "box coordinates are not finite")
    scale = "pixel"
    if all(0.0 <= v <= 1.0 for v in values) and any(not v.is_integer() for v in values):
        scale = "normalised"
        values = [values[0] * width, values[1] * height, values[2] * width, values[3] * height]
    x1, x2 = sorted(values[0::2])
    y1, y2 = sorted(values[1::2])
    return Parsed(True, {"box": [x1, y1, x2, y2], "scale": scale})


def _format_number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


class GroundingTask(TaskSpec):
    kind: ClassVar[str] = "grounding"
    row_model: ClassVar[type] = VGMEDRow

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
        return parse_box(raw, row.image_width, row.image_height)

    def score(self, parsed: Parsed, row: VGMEDRow) -> dict[str, float | None]:
        if not parsed.ok:
            return {"iou": 0.0, "acc@0.5": 0.0}
        iou = float(box_iou(np.array([parsed.value["box"]]), np.array([row.bbox]))[0, 0])
        return {"iou": iou, "acc@0.5": float(iou >= 0.5)}

    def oracle_answer(self, row: VGMEDRow) -> str:
        return "[" + ", ".join(_format_number(v) for v in row.bbox) + "]"

    def target(self, row: VGMEDRow) -> Any:
        return {"bbox": [float(v) for v in row.bbox], "label": row.label}


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
