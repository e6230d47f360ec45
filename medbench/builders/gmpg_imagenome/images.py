"""``--embed-images``: each kept image's MIMIC-CXR-JPG bytes, as shipped, in its rows (local use
only: MIMIC-CXR-JPG is credentialed data and may not be redistributed).

An image is read when its rows are written (one image in memory at a time) and the bytes are
embedded unchanged (``cxr_grounding.embed.image_bytes``: no re-encoding, so boxes stay aligned).
An image that is missing or whose header does not parse is listed in
``report/missing_images.csv`` with its problem and outcome, and its rows are still written,
without bytes (as the MS-CXR builder does for MIMIC-CXR images). The list is streamed to a
staging file, so memory holds only the first few issues (for the console).
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from pathlib import Path

from PIL import Image

from medbench.builders.cxr_grounding.embed import image_bytes

ISSUE_COLUMNS = ["image_path", "problem", "outcome"]
ISSUES_FILE = "missing_images.csv"
FIRST_ISSUES = 20  # kept in memory for the console; the file has all


class ImageEmbedder:
    def __init__(self, root: Path, staging: Path):
        self.root = Path(root)
        self.images = 0  # images embedded
        self.rows = 0  # rows that carry image bytes
        self.issues: Counter = Counter()  # "missing" / "unreadable" -> images
        self.first_issues: list[tuple[str, str, str]] = []  # for the console
        staging.mkdir(parents=True, exist_ok=True)
        self.staged = staging / f"{ISSUES_FILE}.partial"
        self._file = open(self.staged, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        self._csv.writerow(ISSUE_COLUMNS)

    def read(self, rel_path: str, size_from: str) -> bytes | None:
        """The image's bytes, or None (listed) when it is missing or unreadable."""
        path = self.root / rel_path
        if not path.is_file():
            problem = "missing"
        else:
            try:
                data = image_bytes(path)
                with Image.open(io.BytesIO(data)):  # parses the header only
                    pass
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                problem = f"unreadable: {type(exc).__name__}: {exc}"
            else:
                self.images += 1
                return data
        size = "size unknown" if size_from == "unknown" else f"size from {size_from}"
        issue = (rel_path, problem, f"rows written without image bytes ({size})")
        self._csv.writerow(issue)
        self.issues[problem.split(":", 1)[0]] += 1
        if len(self.first_issues) < FIRST_ISSUES:
            self.first_issues.append(issue)
        return None

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def publish(self, report: Path) -> None:
        """Move the finished list to ``report/missing_images.csv``."""
        self.close()
        os.replace(self.staged, report / ISSUES_FILE)

    def summary(self) -> dict:
        return {
            "images_embedded": self.images,
            "rows_with_image_bytes": self.rows,
            "image_issues": sum(self.issues.values()),
            "image_issues_by_problem": dict(sorted(self.issues.items())),
        }
