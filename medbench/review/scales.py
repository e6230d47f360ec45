"""The three 1–5 rating scales of paper 001, app. R, and the keep threshold."""

from __future__ import annotations

# column name → (title, one line per score 1..5), from paper 001 fig. R.29 and app. R
SCALES: dict[str, tuple[str, list[str]]] = {
    "clinical_relevance": (
        "Clinical relevance",
        [
            "Irrelevant or misleading; clinically inappropriate or nonsensical here.",
            "Marginally relevant; limited medical value.",
            "Acceptable; reasonable clinical significance.",
            "Clinically useful; clearly relevant to interpretation.",
            "Highly relevant and valid; directly supports clinical reasoning.",
        ],
    ),
    "visual_grounding": (
        "Visual grounding",
        [
            "Answerable without looking at the boxed region.",
            "Weakly tied to the boxed region.",
            "Needs the boxed region.",
            "Needs the whole boxed region.",
            "Clearly grounded in the whole boxed region and nothing else.",
        ],
    ),
    "minimum_semantic_grounding": (
        "Minimum semantic grounding",
        [
            "Needs deep diagnostic or specialist knowledge.",
            "Needs substantial medical knowledge.",
            "Needs some medical knowledge.",
            "Needs little medical knowledge.",
            "Needs no specialist knowledge beyond naming the structure.",
        ],
    ),
}
KEEP_AT_LEAST = 3  # a sample rated below this on any axis is dropped
