"""Cross-dataset deduplication: one scan shipped by several datasets is used once.

Cases are matched by the hash of their image voxels (``CaseResult.content_hash``), so
FLARE22's training CTs inside MSD-Pancreas, FLARE21 inside AbdomenCT-1K, the BraTS years,
Chest_Image_Pneum = SIIM-ACR and the ISIC years are found whatever their file names.

Which copy is kept: the case from the dataset with the most labelled structures (it
carries the richest annotation of that scan); ties go to the alphabetically first dataset
id, then case id. Every dropped copy is listed with the case it duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from medbench.builders.vgmed.case import Skip
from medbench.builders.vgmed.extract import CaseResult


def keep_rank(label_count: Callable[[str], int]) -> Callable[[CaseResult], tuple]:
    return lambda r: (-label_count(r.dataset), r.dataset, r.case_id)


def find_duplicates(
    results: Sequence[CaseResult], label_count: Callable[[str], int]
) -> dict[tuple[str, str], tuple[str, str]]:
    """{(dataset, case) dropped: (dataset, case) kept} over cases with equal content."""
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        if result.content_hash and not result.error:
            groups[result.content_hash].append(result)
    dropped: dict[tuple[str, str], tuple[str, str]] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        ordered = sorted(group, key=keep_rank(label_count))
        kept = (ordered[0].dataset, ordered[0].case_id)
        for other in ordered[1:]:
            dropped[(other.dataset, other.case_id)] = kept
    return dropped


def duplicate_skip(dataset: str, case_id: str, kept: tuple[str, str]) -> Skip:
    return Skip(dataset, case_id, case_id, f"duplicate of {kept[0]}/{kept[1]} (same image)")
