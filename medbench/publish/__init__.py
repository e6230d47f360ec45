"""``medbench publish``: check a built dataset folder and push it to the Hugging Face Hub."""

from __future__ import annotations

from medbench.publish.checks import (
    ALLOW_PATTERNS,
    IGNORE_PATTERNS,
    REDISTRIBUTION_FORBIDDEN,
    FileEntry,
    PublishError,
    licence_gate,
    select_files,
    validate_folder,
)
from medbench.publish.hub import PublishResult, publish

__all__ = [
    "ALLOW_PATTERNS",
    "IGNORE_PATTERNS",
    "REDISTRIBUTION_FORBIDDEN",
    "FileEntry",
    "PublishError",
    "PublishResult",
    "licence_gate",
    "publish",
    "select_files",
    "validate_folder",
]
