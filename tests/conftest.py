"""Shared fixtures: the demo source root (layout replicas), written once per session."""

from pathlib import Path

import pytest

from medbench.demo import write_demo_root


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("demo-sources")
    planted = write_demo_root(root, seed=0)
    return root, planted
