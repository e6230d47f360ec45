"""Seeded, process-independent hashing (Python's ``hash`` changes per process)."""

from __future__ import annotations

import hashlib


def stable_hash(*parts: object, length: int = 16) -> str:
    """Hex digest of the parts' string forms: pair ids and seeded picks stay reproducible."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]
