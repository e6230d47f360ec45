"""Chest X-ray grounding benchmarks as GroundingRow shards: MS-CXR, PadChest-GR,
RSNA Pneumonia and COVID Rural (papers 000 and 002).

One reader module per benchmark turns the files as their owners ship them into rows without
pixels (``image_path`` into the user's licensed image store); ``build`` writes them the same
way for all four: ``data/<split>-*.parquet``, ``manifest.json``, ``report/`` and the card.
All four sources are credentialed or not redistributable, and the manifest says so, so
``medbench publish`` refuses a public push.
"""

from medbench.builders.cxr_grounding.build import BENCHMARKS, BuildResult, build
from medbench.builders.cxr_grounding.records import BuildError

__all__ = ["BENCHMARKS", "BuildError", "BuildResult", "build"]
