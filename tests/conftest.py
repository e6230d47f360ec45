"""Shared fixtures: the demo source root (layout replicas), written once per session."""

import os
import tempfile

# A fresh `datasets` cache per session: pytest reuses tmp paths across runs, and rows cached
# for an earlier build at the same path would otherwise be read back instead of the new ones.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="medbench-hf-cache-")

from pathlib import Path

import pytest

from medbench.demo import write_demo_root


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("demo-sources")
    planted = write_demo_root(root, seed=0)
    return root, planted
