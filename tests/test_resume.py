"""A build killed with SIGKILL at any point resumes to the same bytes, never exposing a
partial shard."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
import pyarrow.parquet as pq
import pytest

CASES = 16


@pytest.fixture(scope="module")
def msd_root(tmp_path_factory):
    """MSD-Spleen layout with enough cases that a build takes a few seconds."""
    root = tmp_path_factory.mktemp("resume-sources")
    task = root / "MSD-Spleen" / "Task09_Spleen"
    (task / "imagesTr").mkdir(parents=True)
    (task / "labelsTr").mkdir(parents=True)
    rng = np.random.default_rng(0)
    affine = np.diag([-0.8, -0.8, 2.5, 1.0])
    for i in range(CASES):
        image = rng.normal(40, 30, size=(160, 160, 48)).astype(np.int16)
        label = np.zeros(image.shape, np.uint8)
        x, y = 30 + 4 * i, 40 + 3 * i
        label[x : x + 30, y : y + 25, 10 : 30 + i % 10] = 1
        image[label == 1] = 150
        nib.save(nib.Nifti1Image(image, affine), task / "imagesTr" / f"spleen_{i}.nii.gz")
        nib.save(nib.Nifti1Image(label, affine), task / "labelsTr" / f"spleen_{i}.nii.gz")
    return root


def build_command(root, out):
    code = "from medbench.cli import app; app()"
    return [
        sys.executable,
        "-c",
        code,
        "build",
        "vgmed",
        "--source-root",
        str(root),
        "--out",
        str(out),
        "-d",
        "MSD-Spleen",
    ]


def digests(out):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "data").glob("*"))
    }


def finished_cases(out):
    cases = out / ".work" / "cases"
    return list(cases.rglob("*.meta.pkl")) if cases.exists() else []


def kill_when(command, condition, timeout=120.0):
    """Start ``command``, SIGKILL it as soon as ``condition()`` holds (or it ends)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if condition():
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    process.wait()


def test_kill_anywhere_then_resume(msd_root, tmp_path):
    reference = tmp_path / "reference"
    subprocess.run(build_command(msd_root, reference), check=True, capture_output=True)
    expected = digests(reference)
    assert len(expected) == 1

    kill_points = {
        "after the first case": lambda out: len(finished_cases(out)) >= 1,
        "half way through extraction": lambda out: len(finished_cases(out)) >= CASES // 2,
        "while writing shards": lambda out: (out / ".work" / "staging").exists(),
        "after the shard, before the card": lambda out: (
            (out / "data").exists() and any((out / "data").iterdir())
        ),
    }
    interrupted = 0
    for name, condition in kill_points.items():
        out = tmp_path / name.replace(" ", "-")
        kill_when(build_command(msd_root, out), lambda out=out, c=condition: c(out))
        # whatever is visible in data/ is a complete shard
        for path in (out / "data").glob("*") if (out / "data").exists() else []:
            assert path.suffix == ".parquet" and pq.ParquetFile(path).metadata.num_rows > 0
        done = len(finished_cases(out))
        interrupted += 0 < done < CASES
        resumed = subprocess.run(
            build_command(msd_root, out) + ["--json"], check=True, capture_output=True, text=True
        )
        assert digests(out) == expected, f"killed {name}"
        assert f'"cases_from_cache": {done}' in resumed.stdout
        assert not list((out / ".work").rglob("*.tmp-*"))
    assert interrupted >= 1, "no kill landed inside the extraction stage"
