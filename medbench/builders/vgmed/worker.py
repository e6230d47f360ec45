"""The worker entry point, kept apart so pool processes import only what extraction needs
(not pyarrow, datasets or the card renderer)."""

from __future__ import annotations

from medbench.builders.vgmed.cache import CaseTask, save_result
from medbench.builders.vgmed.extract import extract_case


def process_case(task: CaseTask) -> tuple[str, str, str | None]:
    """Extract one case and cache it. Returns (dataset, case id, error or None)."""
    result = extract_case(task.spec, task.dataset_dir, task.case, task.config)
    save_result(task, result)
    return result.dataset, result.case_id, result.error
