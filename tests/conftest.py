"""Shared fixtures: the demo source root (layout replicas), written once per session."""

import atexit
import os
import shutil
import tempfile

# A fresh `datasets` cache per session: pytest reuses tmp paths across runs, and rows cached
# for an earlier build at the same path would otherwise be read back instead of the new ones.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="medbench-hf-cache-")

from pathlib import Path

import pytest

from medbench.demo import write_demo_root

# LLM answers are cached per session too, and no user LLM setting leaks into the tests.
os.environ["MEDBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="medbench-llm-cache-")
for _name in ("HF_DATASETS_CACHE", "MEDBENCH_CACHE_DIR"):  # the session's own folders only
    atexit.register(shutil.rmtree, os.environ[_name], ignore_errors=True)
for _name in ("MEDBENCH_LLM", "MEDBENCH_LLM_BASE_URL", "MEDBENCH_LLM_MODEL", "OPENAI_API_KEY"):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("demo-sources")
    planted = write_demo_root(root, seed=0)
    return root, planted
