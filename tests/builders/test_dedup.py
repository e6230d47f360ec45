"""Cross-dataset deduplication: the same scan in two datasets is used once, and listed."""

import json
import shutil

import pytest
from datasets import load_dataset

from medbench.builders.vgmed import sources as registry
from medbench.builders.vgmed.build import BuildConfig, build_vgmed
from medbench.builders.vgmed.dedup import find_duplicates
from medbench.builders.vgmed.extract import CaseResult
from medbench.demo import msd_spleen


def result(dataset, case, digest, error=None):
    return CaseResult(dataset, case, content_hash=digest, error=error)


def test_richer_dataset_keeps_the_scan_ties_alphabetical():
    labels = {"FLARE22": 13, "MSD-Pancreas": 2, "A": 1, "B": 1}.get
    found = find_duplicates(
        [
            result("MSD-Pancreas", "pancreas_001", "h1"),
            result("FLARE22", "FLARE22_Tr_0001", "h1"),
            result("B", "x", "h2"),
            result("A", "y", "h2"),
            result("A", "z", "h3"),
            result("B", "broken", "h3", error="unreadable"),
        ],
        lambda d: labels(d, 0),
    )
    assert found == {
        ("MSD-Pancreas", "pancreas_001"): ("FLARE22", "FLARE22_Tr_0001"),
        ("B", "x"): ("A", "y"),
    }


@pytest.fixture
def twin_sources(tmp_path, monkeypatch):
    """MSD-Spleen plus a renamed copy of one of its scans inside another dataset."""
    root = tmp_path / "src"
    msd_spleen.write(root / "MSD-Spleen")
    spec = registry.SOURCES["MSD-Spleen"].model_copy(update={"id": "Spleen-Mirror"})
    monkeypatch.setitem(registry.SOURCES, spec.id, spec)
    mirror = root / "Spleen-Mirror" / "Task09_Spleen"
    for sub in ("imagesTr", "labelsTr"):
        (mirror / sub).mkdir(parents=True)
        shutil.copy(
            root / "MSD-Spleen" / "Task09_Spleen" / sub / "spleen_6.nii.gz",
            mirror / sub / "mirror_1.nii.gz",
        )
    return root


def test_duplicate_scan_is_used_once_and_listed(twin_sources, tmp_path):
    out = tmp_path / "out"
    build = build_vgmed(
        BuildConfig(source_root=twin_sources, out=out, datasets=["MSD-Spleen", "Spleen-Mirror"])
    )
    rows = load_dataset(str(out), split="test")
    cases = {(d, c) for d, c in zip(rows["dataset"], rows["case_id"], strict=True)}
    # same labels on both sides: the alphabetically first dataset id keeps the scan
    assert ("MSD-Spleen", "spleen_6") in cases
    assert ("Spleen-Mirror", "mirror_1") not in cases
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["duplicate_cases"] == 1
    assert any(
        s["case_id"] == "mirror_1" and "duplicate of MSD-Spleen/spleen_6" in s["reason"]
        for s in manifest["skipped"]
    )
    assert len(build.selected) == 3


def test_different_scans_are_not_duplicates(demo_root, tmp_path):
    root, _ = demo_root
    build = build_vgmed(BuildConfig(source_root=root, out=tmp_path / "o"))
    assert sum(s.duplicates for s in build.sources) == 0
