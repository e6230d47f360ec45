"""Running counts for the build report: the funnel (pairs after each stage) and the statistics of
paper 002 table 2, per split. Sums only, so memory does not grow with the input.

Units. An *image–phrase pair* is one row (one sentence of one image). A *sentence–box pair*
is one (sentence, box) of a row; the paper's "more than four million" pairs and its 89.6%
reduction are in this unit. Sentence length is in whitespace-separated words; the SD is the
sample SD (n − 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Funnel stages in the order the build applies them. Stages act per image or per sentence and
# exclusion is per image, so the order does not change the final counts (the paper excludes
# MS-CXR studies last; this build does it first, to skip those images' work).
STAGES = (
    (
        "scene_graphs",
        "every graph read: sentence-region links; boxes = links to a region in objects",
    ),
    (
        "image_exclusions",
        "after dropping images with no split, gold images (train/valid), MS-CXR studies",
    ),
    ("valid_boxes", "after dropping text-only regions and degenerate boxes"),
    ("specificity", "stage 1: redundant parent regions removed"),
    ("negatives", "stage 2: sentences with only negative findings set to zero boxes"),
    ("non_grounding", "stage 3: report sentences with no region added with zero boxes"),
)


@dataclass
class StageCount:
    images: int = 0
    rows: int = 0
    boxes: int = 0  # sentence-box pairs
    links: int = 0  # sentence-region links (any region, boxed or not)
    zero_box_rows: int = 0


@dataclass
class Funnel:
    stages: dict[str, StageCount] = field(
        default_factory=lambda: {name: StageCount() for name, _ in STAGES}
    )

    def as_list(self) -> list[dict]:
        first = self.stages[STAGES[0][0]].boxes
        out = []
        for name, meaning in STAGES:
            s = self.stages[name]
            out.append(
                {
                    "stage": name,
                    "meaning": meaning,
                    "images": s.images,
                    "image_phrase_pairs": s.rows,
                    "sentence_box_pairs": s.boxes,
                    "sentence_region_links": s.links,
                    "zero_box_rows": s.zero_box_rows,
                    "sentence_box_pairs_vs_source": round(s.boxes / first, 4) if first else None,
                }
            )
        return out

    def reduction(self) -> float | None:
        first = self.stages[STAGES[0][0]].boxes
        last = self.stages[STAGES[-1][0]].boxes
        return round(1 - last / first, 4) if first else None


@dataclass
class SplitStats:
    """Table 2 of paper 002 for one split; the build adds each image's rows to it."""

    images: int = 0
    rows: int = 0
    boxes: int = 0
    by_count: list[int] = field(default_factory=lambda: [0, 0, 0])  # 0 / 1 / 2+ boxes
    words: int = 0
    words_sq: int = 0

    def as_dict(self) -> dict:
        n = self.rows
        mean = self.words / n if n else None
        sd = (
            math.sqrt(max(self.words_sq - n * mean * mean, 0.0) / (n - 1))
            if n > 1 and mean is not None
            else None
        )
        pct = [round(100 * c / n, 1) if n else None for c in self.by_count]
        return {
            "images": self.images,
            "image_phrase_pairs": n,
            "boxes": self.boxes,
            "phrases_with_0_boxes": self.by_count[0],
            "phrases_with_1_box": self.by_count[1],
            "phrases_with_2plus_boxes": self.by_count[2],
            "pct_0_1_2plus": pct,
            "sentence_length_mean": round(mean, 2) if mean is not None else None,
            "sentence_length_sd": round(sd, 2) if sd is not None else None,
        }
