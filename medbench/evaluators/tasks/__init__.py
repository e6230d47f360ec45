"""The built-in tasks, by name: the six Med-VQA benchmarks, VGMED grounding, the attention
grounding of VGMED and the COCO reference set, the generalised (zero / one / many box)
phrase grounding tasks of the CXR benchmarks and the heat-map grounding (WSVG) tasks of
MS-CXR, RSNA Pneumonia and COVID Rural."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from medbench.evaluators.tasks.attention import ATTENTION_TASKS, AttentionTask
from medbench.evaluators.tasks.grounding import GROUNDING_TASKS, GroundingTask
from medbench.evaluators.tasks.heatmap import HEATMAP_TASKS, HeatmapTask
from medbench.evaluators.tasks.set_grounding import (
    SET_GROUNDING_TASKS,
    RequestUnavailable,
    SetGroundingTask,
)
from medbench.evaluators.tasks.spec import HubData, Parsed, TaskData, TaskSpec
from medbench.evaluators.tasks.vqa import VQA_TASKS, VQATask

__all__ = [
    "TASKS",
    "AttentionTask",
    "GroundingTask",
    "HeatmapTask",
    "HubData",
    "Parsed",
    "RequestUnavailable",
    "SetGroundingTask",
    "TaskData",
    "TaskSpec",
    "UnknownTaskError",
    "VQATask",
    "configure_task",
    "get_task",
    "select_tasks",
]

TASKS: dict[str, TaskSpec] = {
    t.name: t
    for t in (
        *VQA_TASKS,
        *GROUNDING_TASKS,
        *ATTENTION_TASKS,
        *SET_GROUNDING_TASKS,
        *HEATMAP_TASKS,
    )
}


class UnknownTaskError(LookupError):
    pass


def get_task(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(f"unknown task {name!r}; known: {', '.join(TASKS)}") from None


def select_tasks(names: str | list[str]) -> list[TaskSpec]:
    """Tasks from ``"t1,t2"`` or a list, in the given order, each once; ``all`` selects every
    built-in task."""
    items = names.split(",") if isinstance(names, str) else list(names)
    wanted = [n.strip() for n in items if n.strip()]
    if not wanted:
        raise UnknownTaskError("no task given")
    if "all" in wanted:
        return list(TASKS.values())
    return [get_task(n) for n in dict.fromkeys(wanted)]


def configure_task(
    task: TaskSpec, args: Mapping[str, Any] | None = None, *, image_root: str | Path | None = None
) -> TaskSpec:
    """``task`` with its run-time arguments: the names in the task class's ``task_args``
    (``image_root`` for the set-grounding tasks, ``bertscore_model`` for the VQA tasks).

    ``image_root`` (a run-wide ``--image-root``) applies to the tasks that take one and is
    ignored by the others; an explicit ``args["image_root"]`` wins. An argument the task does
    not take is a ValueError. Arguments change neither the prompt nor the cache key.
    """
    allowed = tuple(getattr(type(task), "task_args", ()))
    values = dict(args or {})
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) if allowed else "no arguments"
        raise ValueError(f"task {task.name!r} takes {takes}; got {', '.join(unknown)}")
    if image_root is not None and "image_root" in allowed:
        values.setdefault("image_root", str(image_root))
    if not values:
        return task
    try:
        return type(task).model_validate({**task.model_dump(), **values})
    except ValidationError as exc:  # one line, naming the task and the argument
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "arguments"
        raise ValueError(f"task {task.name!r}: {where}: {first['msg']}") from None
