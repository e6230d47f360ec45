"""Seeded sampling, stratified by modality, body part, dataset and label, with caps and a
total target.

The target is shared out by water-filling: every modality gets an equal share, and one
with fewer candidates than its share passes the rest on to the others; inside a modality
the same happens across body parts, then datasets, then labels, each (dataset, label)
capped at ``cap_per_label``. Picks
inside a (dataset, label) group rotate over cases so one long scan does not dominate.
Each group draws from its own seeded generator, so adding a dataset never changes which
samples another dataset contributes unless the shares move.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np

from medbench.hashing import stable_hash


class Sampleable(Protocol):
    """What the sampler reads of a candidate besides its strata (read by name): the keys it
    orders by and ``case_id``, which picks rotate over (VGMED's Candidate, COCO's)."""

    @property
    def dataset(self) -> str: ...
    @property
    def case_id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def slice_index(self) -> int: ...
    @property
    def pair_id(self) -> str: ...


C = TypeVar("C", bound=Sampleable)

PAPER_TARGET = 13_962  # image–box pairs in VGMED (paper 001, sec. 2.1)


def water_fill(capacities: Sequence[int], total: int) -> list[int]:
    """Share ``total`` as evenly as possible without exceeding any capacity.

    Leftover units from integer division go to the earliest groups that still have room.
    """
    alloc = [0] * len(capacities)
    remaining = min(total, sum(capacities))
    open_groups = [i for i, c in enumerate(capacities) if c > 0]
    while remaining > 0 and open_groups:
        share = remaining // len(open_groups)
        if share == 0:
            for i in open_groups[:remaining]:
                alloc[i] += 1
            break
        still_open = []
        for i in open_groups:
            give = min(share, capacities[i] - alloc[i])
            alloc[i] += give
            remaining -= give
            if alloc[i] < capacities[i]:
                still_open.append(i)
        open_groups = still_open
    return alloc


def _spread_over_cases(group: list[C], count: int, rng: np.random.Generator) -> list[C]:
    by_case: dict[str, list[C]] = defaultdict(list)
    for candidate in group:
        by_case[candidate.case_id].append(candidate)
    case_ids = sorted(by_case)
    rng.shuffle(case_ids)
    queues = []
    for case_id in case_ids:
        items = sorted(by_case[case_id], key=lambda c: c.pair_id)
        rng.shuffle(items)
        queues.append(items)
    picked: list[C] = []
    depth = 0
    while len(picked) < count:
        for queue in queues:
            if depth < len(queue):
                picked.append(queue[depth])
                if len(picked) == count:
                    break
        depth += 1
    return picked


STRATA = ("modality", "body_part", "dataset", "label")


def stratified_sample(
    candidates: Sequence[C],
    target: int = PAPER_TARGET,
    cap_per_label: int | None = None,
    seed: int = 0,
    strata: Sequence[str] = STRATA,
) -> list[C]:
    """Pick up to ``target`` candidates, water-filling level by level over ``strata``
    (modality, then body part, then dataset, then label); each (dataset, label) group is
    capped at ``cap_per_label``. Result sorted by (dataset, case, label, pair id)."""
    leaves: dict[tuple, list[C]] = defaultdict(list)
    for candidate in candidates:
        leaves[tuple(getattr(candidate, key) for key in strata)].append(candidate)

    def capacity(size: int) -> int:
        return size if cap_per_label is None else min(size, cap_per_label)

    picked: list[C] = []

    def allocate(prefix: tuple, quota: int) -> None:
        depth = len(prefix)
        if depth == len(strata):
            group = leaves[prefix]
            rng = np.random.default_rng(int(stable_hash(seed, *prefix), 16))
            picked.extend(_spread_over_cases(group, quota, rng))
            return
        children = sorted({key[depth] for key in leaves if key[:depth] == prefix})
        caps = [
            sum(capacity(len(v)) for k, v in leaves.items() if k[: depth + 1] == (*prefix, c))
            for c in children
        ]
        for child, share in zip(children, water_fill(caps, quota), strict=True):
            if share:
                allocate((*prefix, child), share)

    allocate((), target)
    picked.sort(key=lambda c: (c.dataset, c.case_id, c.label, c.slice_index, c.pair_id))
    return picked
