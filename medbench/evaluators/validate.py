"""``medbench eval validate``: can each task run? Data found, schema matches, prompt renders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medbench.evaluators.tasks import TaskSpec
from medbench.evaluators.tasks.data import (
    DataError,
    matches_filters,
    open_rows,
    resolve_location,
    schema_problems,
    to_row,
)

SCAN_BATCH = 64


@dataclass(frozen=True)
class TaskCheck:
    task: str
    ok: bool
    message: str
    location: str = ""
    split: str = ""
    rows: int = 0
    prompt_hash: str = ""

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL':<5}{self.task:<18}{self.message}"

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def check_task(task: TaskSpec, root: Path, override: str | None = None) -> TaskCheck:
    try:
        location = resolve_location(task, root, override)
        source = open_rows(task, location)
        problems = schema_problems(task, source.schema)
        if problems:
            return TaskCheck(
                task.name,
                False,
                f"{source.location} does not match {task.row_model.__name__}: "
                + "; ".join(problems),
                source.location,
                source.split,
                source.num_rows,
            )
        base = location.path if location.path is not None and location.path.is_dir() else None
        first = None
        for batch in source.batches(SCAN_BATCH):
            first = next((raw for raw in batch if matches_filters(task, raw)), None)
            if first is not None:
                break
        if first is None:
            where = ", ".join(f"{k}={v}" for k, v in task.data.filters.items()) or "any"
            return TaskCheck(
                task.name,
                False,
                f"{source.location} split {source.split}: no row with {where} "
                f"({source.num_rows} rows)",
                source.location,
                source.split,
                source.num_rows,
            )
        row = to_row(task, first, base)
        reason = task.check(row)
        if reason is not None:
            raise DataError(f"first row {row.sample_id!r} cannot be evaluated: {reason}")
        prompt = task.prompt(row)
        if not prompt.strip():
            raise DataError("the prompt renders empty on the first row")
    except DataError as exc:
        return TaskCheck(task.name, False, str(exc))
    except Exception as exc:  # a template error, an unreadable file: one line, not a trace
        return TaskCheck(task.name, False, f"{type(exc).__name__}: {exc}")
    return TaskCheck(
        task.name,
        True,
        f"{source.location} split {source.split}: {source.num_rows} rows, "
        f"prompt {task.prompt_hash} renders",
        source.location,
        source.split,
        source.num_rows,
        task.prompt_hash,
    )
