"""Stage 2 of the cleanup (paper 002 sec. 3.4.1): sentences with only negative findings lose all
their regions ("No focal consolidation, pleural effusion, or pneumothorax." → zero boxes).

Decided from the sentence's attribute flags (``category|yes/no|name``, the union over the
regions it is linked to), first rule that applies:

1. ``flags-positive``: a finding flag says ``yes``, or ``nlp|yes|abnormal`` → keep the boxes.
2. ``flags-all-negative``: there are finding flags and every one says ``no`` → zero boxes.
3. ``flags-normal``: no finding flag, ``nlp|yes|normal`` ("The heart size is normal.") → zero
   boxes: the paper's examples of spurious boxes are sentences describing normal findings.
4. ``negation-cue``: no deciding flag at all, and the text opens with a negation cue
   (``NEGATION_CUES``; "no change" / "no interval change" are not negations of a finding)
   or states that a structure is clear / normal / unremarkable → zero boxes.
5. ``no-evidence``: nothing says negative → keep the boxes.

Finding categories are ``FINDING_CATEGORIES``; ``nlp`` carries normal/abnormal; the other
categories (temporal, severity, laterality, texture, ...) qualify a finding and decide nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

FINDING_CATEGORIES = frozenset(
    {"anatomicalfinding", "disease", "tubesandlines", "device", "technicalassessment"}
)
POSITIVE = "flags-positive"
ALL_NEGATIVE = "flags-all-negative"
NORMAL = "flags-normal"
NEGATION_CUE = "negation-cue"
NO_EVIDENCE = "no-evidence"
ZERO_RULES = (ALL_NEGATIVE, NORMAL, NEGATION_CUE)

_NOT_A_NEGATION = r"(?!(?:significant |interval |appreciable |substantial )?change\b)"
NEGATION_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("no", rf"^(?:there (?:is|are|has been|have been) )?no {_NOT_A_NEGATION}"),
        ("without", r"^without\b"),
        ("negative for", r"^negative for\b"),
        ("free of", r"^free of\b"),
        ("resolved", r"^(?:interval )?resol(?:ved|ution of)\b"),
        (
            "clear/normal",
            r"\b(?:is|are|remains?|appears?|appear) (?:now )?"
            r"(?:clear|normal|unremarkable|within normal limits)$",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class NegativeDecision:
    zero: bool  # True: the sentence loses all its boxes
    rule: str
    evidence: str  # the flags or cue that decided, for the cleanup trail


@lru_cache(maxsize=1 << 16)  # the flag vocabulary is small; every sentence repeats it
def split_flag(flag: str) -> tuple[str, str, str] | None:
    parts = flag.split("|", 2)
    if len(parts) != 3:
        return None
    return parts[0].strip().lower(), parts[1].strip().lower(), parts[2].strip()


@lru_cache(maxsize=1 << 16)
def _from_flags(flags: tuple[str, ...]) -> NegativeDecision | None:
    """The decision the flags alone give, or None when no flag decides (rules 1-3)."""
    findings: list[str] = []
    positive: list[str] = []
    normal = False
    for flag in flags:
        parts = split_flag(flag)
        if parts is None:
            continue
        category, value, name = parts
        if category in FINDING_CATEGORIES:
            findings.append(flag)
            if value == "yes":
                positive.append(flag)
        elif category == "nlp" and value == "yes":
            if name == "abnormal":
                positive.append(flag)
            elif name == "normal":
                normal = True
    if positive:
        return NegativeDecision(False, POSITIVE, ", ".join(positive))
    if findings:
        return NegativeDecision(True, ALL_NEGATIVE, ", ".join(findings))
    if normal:
        return NegativeDecision(True, NORMAL, "nlp|yes|normal")
    return None


@lru_cache(maxsize=1 << 16)
def positive_findings(flags: tuple[str, ...]) -> str:
    """The names of the findings flagged ``yes``, sorted, '; '-joined (the row's label)."""
    names = set()
    for flag in flags:
        parts = split_flag(flag)
        if parts and parts[0] in FINDING_CATEGORIES and parts[1] == "yes":
            names.add(parts[2])
    return "; ".join(sorted(names))


@lru_cache(maxsize=1 << 16)  # normalised sentences repeat ("no pneumothorax")
def negation_cue(key: str) -> str | None:
    """The name of the first cue matching the normalised sentence, or None."""
    for name, pattern in NEGATION_CUES:
        if pattern.search(key):
            return name
    return None


def decide(flags: tuple[str, ...], key: str) -> NegativeDecision:
    """``flags``: the sentence's attribute strings; ``key``: its normalised text."""
    decision = _from_flags(flags)
    if decision is not None:
        return decision
    cue = negation_cue(key)
    if cue is not None:
        return NegativeDecision(True, NEGATION_CUE, cue)
    return NegativeDecision(False, NO_EVIDENCE, "")
