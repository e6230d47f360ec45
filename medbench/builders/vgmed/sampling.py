"""Seeded sampling, stratified by dataset and then by label, with caps and a total target.

The target is shared out by water-filling: every dataset gets an equal share, and a
dataset with fewer candidates than its share passes the rest on to the others; inside a
dataset the same happens across labels, each label capped at ``cap_per_label``. Picks
inside a (dataset, label) group rotate over cases so one long scan does not dominate.
Each group draws from its own seeded generator, so adding a dataset never changes which
samples another dataset contributes unless the shares move.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from medbench.builders.vgmed.extract import Candidate, stable_hash

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


def _spread_over_cases(
    group: list[Candidate], count: int, rng: np.random.Generator
) -> list[Candidate]:
    by_case: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in group:
        by_case[candidate.case_id].append(candidate)
    case_ids = sorted(by_case)
    rng.shuffle(case_ids)
    queues = []
    for case_id in case_ids:
        items = sorted(by_case[case_id], key=lambda c: c.pair_id)
        rng.shuffle(items)
        queues.append(items)
    picked: list[Candidate] = []
    depth = 0
    while len(picked) < count:
        for queue in queues:
            if depth < len(queue):
                picked.append(queue[depth])
                if len(picked) == count:
                    break
        depth += 1
    return picked


def stratified_sample(
    candidates: Sequence[Candidate],
    target: int = PAPER_TARGET,
    cap_per_label: int | None = None,
    seed: int = 0,
) -> list[Candidate]:
    """Pick up to ``target`` candidates; result sorted by (dataset, case, label, pair id)."""
    groups: dict[str, dict[str, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    for candidate in candidates:
        groups[candidate.dataset][candidate.label].append(candidate)
    datasets = sorted(groups)

    def capped(n: int) -> int:
        return n if cap_per_label is None else min(n, cap_per_label)

    dataset_caps = [sum(capped(len(g)) for g in groups[d].values()) for d in datasets]
    picked: list[Candidate] = []
    for dataset, quota in zip(datasets, water_fill(dataset_caps, target), strict=True):
        labels = sorted(groups[dataset])
        label_caps = [capped(len(groups[dataset][lab])) for lab in labels]
        for label, count in zip(labels, water_fill(label_caps, quota), strict=True):
            if count:
                rng = np.random.default_rng(int(stable_hash(seed, dataset, label), 16))
                picked += _spread_over_cases(groups[dataset][label], count, rng)
    picked.sort(key=lambda c: (c.dataset, c.case_id, c.label, c.slice_index, c.pair_id))
    return picked
