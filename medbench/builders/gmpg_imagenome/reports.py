"""MIMIC-CXR free-text reports (``files/pXX/pXXXXXXXX/sXXXXXXXX.txt``): sections and sentences,
for stage 3 (report sentences the scene graph maps to no region).

Sections. A header is an upper-case label at the start of a line followed by a colon
(``FINDINGS:``, ``IMPRESSION:``). The sentences come from the FINDINGS and IMPRESSION sections
(``--report-sections``); which sections Chest ImaGenome drew its phrases from is UNVERIFIED,
and a graph phrase is matched to a report sentence wherever it is. A report with neither
(older reports are often unlabelled text after the administrative sections) gives its last
paragraph (blank-line separated) that is not an administrative section (``ADMIN_SECTIONS``:
indication, history, comparison, examination, technique, ...), minus the ``FINAL REPORT`` and
``WET READ`` lines: the fallback of MIMIC-CXR's own section parser (from memory: UNVERIFIED).

Sentences. Whitespace (line breaks included) is collapsed; numbered-list markers (``1.``,
``2)``, at the start or after a sentence end) start a new sentence and are dropped; then the
text is split after ``.``, ``?`` or ``!`` followed by a space and an upper-case letter, a
digit, ``_`` or ``(``, except after abbreviations (``Dr.``, ``vs.``, ``approx.``, ``e.g.``,
``i.e.``, single initials) and inside decimals (``1.5 cm``). Pieces with no letter (``___.``)
are dropped; repeated sentences (same normalised text) are kept once.

``normalise`` is the one text key used for matching graph phrases to report sentences and for
de-duplicating LLM requests: lower case, whitespace collapsed, outer punctuation stripped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

SENTENCE_SECTIONS = ("findings", "impression")
ADMIN_SECTIONS = frozenset(
    {
        "indication",
        "indications",
        "history",
        "clinical history",
        "clinical information",
        "clinical indication",
        "reason for exam",
        "reason for examination",
        "comparison",
        "comparisons",
        "examination",
        "exam",
        "technique",
        "procedure",
        "notification",
        "recommendation",
        "recommendations",
        "addendum",
        "type of examination",
        "final report",
        "wet read",
    }
)
_HEADER = re.compile(r"^[ \t]*([A-Z][A-Z /&()-]{1,40}?)[ \t]*:", re.MULTILINE)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_SKIP_LINE = re.compile(r"^\s*(FINAL REPORT|WET READ:.*)\s*$", re.MULTILINE)
# Both below run on whitespace-collapsed text. A pattern that opens with a lookbehind is tried
# at every position (~3x slower), so the context it would check is checked in Python:
# a list marker is one at the start or after "[.?!:] " (_list_chunks); a boundary is the
# single space after [.?!] (the match includes that character).
_LIST_MARKER = re.compile(r"\d{1,2}[.)](?= [A-Za-z_])")
_BOUNDARY = re.compile(r"[.?!]\s+(?=[A-Z0-9_(\[])")
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "vs", "approx", "e.g", "i.e", "fig", "st", "cf", "etc"}
)
_LONGEST_ABBREVIATION = max(map(len, _ABBREVIATIONS))
_ASCII_DIGITS = "0123456789"  # \d on ASCII text
_HAS_LETTER = re.compile(r"[A-Za-z]")
_PUNCT = " \t\n.,;:!?"


@lru_cache(maxsize=1 << 17)  # report sentences repeat across studies ("No pneumothorax.")
def normalise(text: str) -> str:
    return " ".join(text.lower().split()).strip(_PUNCT)


def clean(text: str) -> str:
    """A phrase or sentence as stored in a row: whitespace collapsed, nothing else changed."""
    return " ".join(text.split())


@lru_cache(maxsize=1 << 17)  # graph phrases repeat across images ("No pneumothorax.")
def phrase_key_and_text(phrase: str) -> tuple[str, str]:
    """(``normalise(phrase)``, ``clean(phrase)``) in one cached look-up."""
    return normalise(phrase), clean(phrase)


def _skip_lines(text: str) -> str:
    if "FINAL REPORT" in text or "WET READ" in text:  # what _SKIP_LINE can match at all
        return _SKIP_LINE.sub("", text)
    return text


def sections(text: str) -> list[tuple[str, str]]:
    """(lower-case header, body) in report order; text before the first header has header ''."""
    text = _skip_lines(text)
    found = list(_HEADER.finditer(text))
    out = []
    start, name = 0, ""
    for match in found:
        out.append((name, text[start : match.start()]))
        name, start = match.group(1).strip().lower(), match.end()
    out.append((name, text[start:]))
    return [(n, body) for n, body in out if body.strip()]


def sentence_text(report: str, wanted: tuple[str, ...] = SENTENCE_SECTIONS) -> list[str]:
    """The report's section bodies the sentences are taken from (see the module doc)."""
    chosen = [body for name, body in sections(report) if name in wanted]
    if chosen:
        return chosen
    for paragraph in reversed(_PARAGRAPH.split(_skip_lines(report))):
        header = _HEADER.match(paragraph.strip())
        if header is not None:
            if header.group(1).strip().lower() in ADMIN_SECTIONS:
                continue
            paragraph = paragraph.strip()[header.end() :]
        if paragraph.strip():
            return [paragraph]
    return []


def _list_chunks(text: str) -> list[str]:
    """``text`` split at numbered-list markers ("1.", "2)") that open it or follow "[.?!:] ",
    the markers dropped. A marker never contains a space, so the candidates ``finditer``
    skips over (inside one that is not a marker) cannot be markers either."""
    if text.isascii() and not any(digit in text for digit in _ASCII_DIGITS):
        return [text]  # no digit, no marker (and scanning for one costs ~10x this test)
    chunks, last = [], 0
    for match in _LIST_MARKER.finditer(text):
        at = match.start()
        if at == 0 or (at >= 2 and text[at - 1] == " " and text[at - 2] in ".?!:"):
            chunks.append(text[last:at])
            last = match.end()
    chunks.append(text[last:])
    return chunks


@lru_cache(maxsize=1 << 12)  # section bodies repeat ("No acute cardiopulmonary process.")
def split_sentences(text: str) -> tuple[str, ...]:
    text = clean(text)
    if not text:
        return ()
    pieces = []
    for chunk in _list_chunks(text):
        start = 0
        for match in _BOUNDARY.finditer(chunk):
            end = match.start() + 1  # after the [.?!]
            # the word before the boundary, without its final punctuation
            space = chunk.rfind(" ", start, end)
            last = chunk[space + 1 if space >= 0 else start : end].rstrip(".?!")
            if len(last) <= _LONGEST_ABBREVIATION:  # lower() never shortens a word
                last = last.lower()
                if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                    continue
            pieces.append(chunk[start:end])
            start = match.end()
        pieces.append(chunk[start:])
    return tuple([p.strip() for p in pieces if _HAS_LETTER.search(p)])


def report_sentences(report: str, wanted: tuple[str, ...] = SENTENCE_SECTIONS) -> list[str]:
    """Sentences of the report's finding sections, each once (first occurrence kept)."""
    return list(report_sentence_keys(report, wanted))


def report_sentence_keys(
    report: str, wanted: tuple[str, ...] = SENTENCE_SECTIONS
) -> dict[str, str]:
    """``report_sentences`` as sentence -> its ``normalise`` key, in report order."""
    seen: set[str] = set()
    out: dict[str, str] = {}
    for body in sentence_text(report, wanted):
        for sentence in split_sentences(body):
            key = normalise(sentence)
            if key and key not in seen:
                seen.add(key)
                out[sentence] = key
    return out


def report_path(reports_root: Path | str, subject_id: str, study_id: str) -> str:
    """``files/pXX/pXXXXXXXX/sXXXXXXXX.txt`` under the reports root (with or without the
    ``files/`` level)."""
    subject = subject_id.lstrip("p")
    study = study_id.lstrip("s")
    return f"{reports_root}/p{subject[:2]}/p{subject}/s{study}.txt"


def reports_files_root(root: Path) -> Path:
    return root / "files" if (root / "files").is_dir() else root


def read_report(reports_root: Path | str, subject_id: str, study_id: str) -> str | None:
    """The report as text mode would read it (UTF-8, bad bytes replaced, universal newlines),
    without text mode's per-file set-up, which costs more than the read."""
    try:
        with open(report_path(reports_root, subject_id, study_id), "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
