"""One vocabulary of structure names across datasets.

Names are lower-case English words separated by single spaces, the patient side first
(``right kidney``, never ``kidney_right`` / ``Right Kidney``), with known misspellings of
the source label maps corrected. The name as the source writes it stays on each row in
``source_label``.
"""

from __future__ import annotations

import re

_SIDES = ("left", "right")

# Whole names seen in source label maps (side removed) → the vocabulary's name.
ALIASES: dict[str, str] = {
    "arota": "aorta",  # AMOS dataset.json
    "postcava": "inferior vena cava",  # AMOS
    "gall bladder": "gallbladder",
    "ivc": "inferior vena cava",
    "bladder": "urinary bladder",
    "head of femur": "femoral head",  # WORD
    "intestine": "small bowel",  # WORD
    "small intestine": "small bowel",
}
# Single words spelled two ways.
WORD_ALIASES: dict[str, str] = {"tumour": "tumor", "oedema": "edema"}


def normalise_name(raw: str) -> str:
    """``Kidney_Right`` → ``right kidney``; ``Head_of_femur_L`` → ``left femoral head``."""
    text = re.sub(r"[_\s]+", " ", raw.strip().lower())
    words = text.split(" ")
    # trailing single-letter side markers (WORD: Head_of_femur_L)
    if len(words) > 1 and words[-1] in ("l", "r"):
        words[-1] = "left" if words[-1] == "l" else "right"
    side = [w for w in words if w in _SIDES]
    rest = " ".join(WORD_ALIASES.get(w, w) for w in words if w not in _SIDES)
    rest = ALIASES.get(rest, rest)
    return " ".join([*side, rest]).strip()


def is_canonical(name: str) -> bool:
    return bool(name) and normalise_name(name) == name
