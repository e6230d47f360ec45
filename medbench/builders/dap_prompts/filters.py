"""Checks on one generated description: cleaning, the comparison key used to find
duplicates, length bounds, the anatomical-location word filter and the disease mention.

All matching works on *words*: the text is NFKC-normalised, case-folded and split into runs
of letters and digits, so case, punctuation and hyphens never matter ("Left-sided" holds the
word "left") and a word never matches inside another ("slower" does not hold "lower").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from medbench.prompts import load_prompt

LOCATION_WORDS_FILE = "anatomical_location_words.txt"

# Length bounds, in whitespace-separated words of the cleaned description (medbench's choice).
# Three words is the shortest sentence that names a finding ("Cardiomegaly is present.").
# Thirty keeps a sentence well inside the 77-token text cap DAP trains with (paper 000, sec. 4,
# after CheXzero): medical words split into several BPE tokens each.
MIN_WORDS = 3
MAX_WORDS = 30
TOO_SHORT = "too_short"
TOO_LONG = "too_long"

# Dropped from the duplicate key: "A pleural effusion is present" repeats "Pleural effusion is
# present." (case, punctuation and whitespace are ignored too).
ARTICLES = frozenset({"a", "an", "the"})

_WORD = re.compile(r"[^\W_]+")  # letters and digits, any script
_LIST_MARKER = re.compile(r"^(?:\d{1,3}[.)]|[-*\u2022])\s+")  # "1. ", "2) ", "- ", "• "
_QUOTES = "\"'\u201c\u201d\u2018\u2019"


def words(text: str) -> list[str]:
    """Lower-cased words: runs of letters and digits, split at everything else."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def clean(text: str) -> str:
    """The description as stored: whitespace collapsed, a leading list marker and wrapping
    quotes removed. Wording, case and final punctuation are kept."""
    text = " ".join(text.split())
    text = _LIST_MARKER.sub("", text)
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def dedup_key(text: str) -> str:
    """Two descriptions with the same key are duplicates: they differ only in case,
    whitespace, punctuation (including the final full stop) or the articles a/an/the."""
    return " ".join(w for w in words(text) if w not in ARTICLES)


def _contains(haystack: list[str], needle: tuple[str, ...], plural: bool = False) -> bool:
    n = len(needle)
    for start in range(len(haystack) - n + 1):
        window = haystack[start : start + n]
        if window[:-1] != list(needle[:-1]):
            continue
        last, want = window[-1], needle[-1]
        if last == want or (plural and last in (want + "s", want + "es")):
            return True
    return False


@dataclass(frozen=True)
class LocationWords:
    """The anatomical location word list (``medbench/prompts/anatomical_location_words.txt``)."""

    entries: tuple[tuple[str, ...], ...]
    sha256: str

    def matches(self, text: str) -> list[str]:
        """The entries found in ``text``, in list order (empty: no location words)."""
        found = words(text)
        return [" ".join(e) for e in self.entries if _contains(found, e)]


def parse_location_words(text: str) -> tuple[tuple[str, ...], ...]:
    entries: dict[tuple[str, ...], None] = {}
    for line in text.splitlines():
        entry = tuple(words(line.split("#", 1)[0]))
        if entry:
            entries.setdefault(entry, None)
    return tuple(entries)


@cache
def location_words() -> LocationWords:
    prompt = load_prompt(LOCATION_WORDS_FILE)
    return LocationWords(parse_location_words(prompt.text), prompt.sha256)


def mentions(text: str, terms: tuple[tuple[str, ...], ...]) -> bool:
    """Whether ``text`` holds one of the word sequences ``terms`` (last word may be plural)."""
    found = words(text)
    return any(_contains(found, term, plural=True) for term in terms)


def length_problem(text: str) -> tuple[str, str] | None:
    """(reason, detail) when ``text`` is outside the word bounds."""
    n = len(text.split())
    if n < MIN_WORDS:
        return TOO_SHORT, f"{n} words < {MIN_WORDS}"
    if n > MAX_WORDS:
        return TOO_LONG, f"{n} words > {MAX_WORDS}"
    return None
