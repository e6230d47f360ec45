"""The one error type every imaging reader raises for input it cannot read."""

from __future__ import annotations

from pathlib import Path


class ImageReadError(Exception):
    """A file could not be read as an image; ``str(e)`` is ``"<path>: <reason>"`` on one line."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        # One line, so the message fits log lines and manifest error columns.
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{self.path}: {self.reason}")

    def __reduce__(self):  # keep picklable (multiprocessing workers re-raise these)
        return (type(self), (self.path, self.reason))
