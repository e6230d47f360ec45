"""Run independent per-case tasks serially or in a local process pool.

Results come back in completion order; callers that need order sort afterwards (the
cached per-case files make the final output independent of scheduling).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_tasks(fn: Callable[[T], R], tasks: Sequence[T], workers: int = 1) -> Iterator[R]:
    """Yield ``fn(task)`` for every task; ``workers > 1`` uses that many processes."""
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield fn(task)
        return
    # spawn: workers start clean, with no inherited threads or open files from the parent
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(fn, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
