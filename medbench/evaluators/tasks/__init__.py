"""The built-in tasks, by name: the six Med-VQA benchmarks and VGMED grounding."""

from __future__ import annotations

from medbench.evaluators.tasks.grounding import GROUNDING_TASKS, GroundingTask
from medbench.evaluators.tasks.spec import HubData, Parsed, TaskData, TaskSpec
from medbench.evaluators.tasks.vqa import VQA_TASKS, VQATask

__all__ = [
    "TASKS",
    "GroundingTask",
    "HubData",
    "Parsed",
    "TaskData",
    "TaskSpec",
    "UnknownTaskError",
    "VQATask",
    "get_task",
    "select_tasks",
]

TASKS: dict[str, TaskSpec] = {t.name: t for t in (*VQA_TASKS, *GROUNDING_TASKS)}


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
