"""The harness's background cache commits (``medbench.evaluators.runner``): before the model is
asked for batch k+1 every batch up to k-1 is committed, batch k too when its commit is cheap
next to the model; so a kill loses at most the batch in flight and the one returned before it.
Also: the commits really overlap the model, results do not depend on it, errors surface."""

from __future__ import annotations

import json
import math
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from medbench.evaluators import models, runner
from medbench.evaluators.config import RunConfig
from medbench.evaluators.models.base import BaseEvalModel
from medbench.evaluators.runner import evaluate
from medbench.evaluators.synthetic import write_vqa
from medbench.llm.cache import ResponseCache

N = 30  # vqa-rad rows


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("resume-speed-data")
    write_vqa(root, benchmarks=["vqa-rad"], n=N)
    return root


def committed(cache: Path) -> int:
    """Answers committed to the cache file, read through a connection of its own."""
    if not cache.exists():
        return 0
    conn = sqlite3.connect(cache)
    try:
        return conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0
    finally:
        conn.close()


class WatchingModel(BaseEvalModel):
    """Answers the ground truth; at every call records (answers returned so far, answers
    committed to the cache at that moment); raises on call ``fail_at`` (1-based) if set."""

    name = "watching"
    uses_reference = True
    cache: Path = Path("unset.sqlite")
    per_sample = 0.0
    fail_at: int | None = None
    answer_as = "watching"  # model id (another model's: its cached answers are reused)
    calls: list[tuple[int, int, int]] = []  # (returned before this call, committed, batch)
    asked: list[str] = []  # sample ids

    def __init__(self, **args):
        self.model_id = self.answer_as

    def generate(self, batch):
        calls = WatchingModel.calls
        returned = sum(c[2] for c in calls)
        calls.append((returned, committed(self.cache), len(batch)))
        WatchingModel.asked += [r.sample_id for r in batch]
        if self.fail_at is not None and len(calls) == self.fail_at:
            raise RuntimeError("model crashed")
        time.sleep(self.per_sample * len(batch))
        return [r.reference for r in batch]


@pytest.fixture
def watching(monkeypatch, tmp_path):
    monkeypatch.setitem(
        models.BUILTIN_MODELS,
        "watching",
        models.ModelInfo("watching", "builtin", f"{__name__}:WatchingModel"),
    )
    monkeypatch.setattr(WatchingModel, "calls", [])
    monkeypatch.setattr(WatchingModel, "asked", [])
    monkeypatch.setattr(WatchingModel, "cache", tmp_path / "cache.sqlite")
    monkeypatch.setattr(WatchingModel, "per_sample", 0.0)
    monkeypatch.setattr(WatchingModel, "fail_at", None)
    monkeypatch.setattr(WatchingModel, "answer_as", "watching")
    return WatchingModel


def slow_commits(monkeypatch, seconds: float, fail_on: int | None = None) -> list[float]:
    """Every ``put_many`` sleeps first; the ``fail_on``-th (1-based) raises instead."""
    real = ResponseCache.put_many
    starts: list[float] = []

    def put_many(self, items, **kw):
        starts.append(time.perf_counter())
        if fail_on is not None and len(starts) == fail_on:
            raise sqlite3.OperationalError("disk I/O error (injected)")
        time.sleep(seconds)
        return real(self, items, **kw)

    monkeypatch.setattr(ResponseCache, "put_many", put_many)
    return starts


def config(data_root: Path, tmp_path: Path, out: str, **kw) -> RunConfig:
    values = {
        "model": "watching",
        "tasks": ["vqa-rad"],
        "data_root": data_root,
        "cache": tmp_path / "cache.sqlite",
        "output_dir": tmp_path / out,
        "bootstrap_resamples": 50,
        "plots": False,
    }
    values.update(kw)
    return RunConfig(**values)


def test_cheap_commits_are_waited_for_before_the_next_model_call(
    data_root, tmp_path, watching, monkeypatch
):
    monkeypatch.setattr(runner, "COMMIT_WAIT_SHARE", math.inf)  # every commit counts as cheap
    evaluate(config(data_root, tmp_path, "out", batch_size=4))
    # nothing the model returned is ever uncommitted when it is asked again
    assert [c[1] for c in watching.calls] == [c[0] for c in watching.calls]
    assert committed(watching.cache) == N


def test_costly_commits_overlap_the_model_and_lag_by_at_most_one_batch(
    data_root, tmp_path, watching, monkeypatch
):
    monkeypatch.setattr(runner, "COMMIT_WAIT_SHARE", 0.0)  # never wait for the last batch
    slow_commits(monkeypatch, 0.02)
    watching.per_sample = 0.002
    started = time.perf_counter()
    _, out = evaluate(config(data_root, tmp_path, "async", batch_size=3))
    seconds = time.perf_counter() - started
    calls = watching.calls
    assert len(calls) == N // 3
    for k, (returned, done, _) in enumerate(calls):
        before_last = returned - (calls[k - 1][2] if k else 0)
        assert done >= before_last, (k, calls)  # batches up to k-1 committed before call k+1
    assert any(done < returned for returned, done, _ in calls[1:])  # and the commits lagged
    # 10 commits of 20 ms, 10 calls of 6 ms: waiting for every commit would take >= 0.26 s
    # (the first one is waited for: no commit time measured yet); overlapped, ~0.2 s
    assert committed(watching.cache) == N
    assert seconds < 0.26 + 0.5  # generous: only catches a fully serial run on a slow box

    # the same answers and records as with commits waited for, at another batch size
    monkeypatch.setattr(runner, "COMMIT_WAIT_SHARE", math.inf)
    watching.calls.clear()
    _, ref = evaluate(
        config(data_root, tmp_path, "sync", batch_size=7, cache=tmp_path / "other.sqlite")
    )
    name = "samples_vqa-rad.jsonl"
    assert (out / name).read_bytes() == (ref / name).read_bytes()


def test_a_failed_commit_fails_the_run(data_root, tmp_path, watching, monkeypatch):
    monkeypatch.setattr(runner, "COMMIT_WAIT_SHARE", 0.0)
    slow_commits(monkeypatch, 0.0, fail_on=2)
    with pytest.raises((sqlite3.OperationalError, RuntimeError)):
        evaluate(config(data_root, tmp_path, "out", batch_size=5))
    assert not (tmp_path / "out" / "results.json").exists()
    assert committed(watching.cache) == 5  # the first batch only


def test_a_model_error_keeps_the_answers_returned_before_it(
    data_root, tmp_path, watching, monkeypatch
):
    monkeypatch.setattr(runner, "COMMIT_WAIT_SHARE", 0.0)
    slow_commits(monkeypatch, 0.05)  # the last batch's commit is still running at the error
    watching.fail_at = 4
    with pytest.raises(RuntimeError, match="model crashed"):
        evaluate(config(data_root, tmp_path, "out", batch_size=5))
    assert committed(watching.cache) == 15  # every answer returned before the crash
    watching.fail_at = None
    watching.calls.clear()
    evaluate(config(data_root, tmp_path, "again", batch_size=5))
    assert sum(c[2] for c in watching.calls) == N - 15


# ------------------------------------------------------------------ a killed process

CHILD = textwrap.dedent(
    """
    import sys, time
    from medbench.evaluators import models
    from medbench.evaluators.config import RunConfig
    from medbench.evaluators.models.base import BaseEvalModel
    from medbench.evaluators.runner import evaluate

    class Fast(BaseEvalModel):
        name = "fast"
        uses_reference = True

        def __init__(self, **args):
            self.model_id = "fast"

        def generate(self, batch):
            time.sleep(0.004 * len(batch))
            with open(sys.argv[2], "a") as log:  # what the model finished, batch by batch
                log.write(" ".join(r.sample_id for r in batch) + "\\n")
            return [r.reference for r in batch]

    models.BUILTIN_MODELS["fast"] = models.ModelInfo("fast", "builtin", "__main__:Fast")
    evaluate(RunConfig(model="fast", tasks=["vqa-rad"], data_root=sys.argv[1],
                       cache=sys.argv[3], output_dir=sys.argv[4], batch_size=int(sys.argv[5]),
                       plots=False))
    """
)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_a_killed_fast_run_loses_at_most_two_batches_and_resumes(
    data_root, tmp_path, batch_size, watching
):
    log, cache = tmp_path / "finished.log", tmp_path / "cache.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(data_root),
            str(log),
            str(cache),
            str(tmp_path / "killed"),
            str(batch_size),
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before it was killed"
            if log.exists() and len(log.read_text().split()) >= 12:
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    batches = [line.split() for line in log.read_text().splitlines()]
    finished = sum(len(b) for b in batches)
    assert 12 <= finished < N
    kept = committed(cache)
    # lost: at most the last batch the model finished (in flight for the harness, or
    # returned) and the one before it, whose commit may still have been running
    assert finished - sum(len(b) for b in batches[-2:]) <= kept <= finished
    assert not (tmp_path / "killed" / "results.json").exists()

    # the rerun (same model id) asks for exactly the samples not committed, and for none
    # of the batches finished before the last two
    watching.answer_as = "fast"
    evaluate(config(data_root, tmp_path, "resumed", batch_size=3))
    assert len(watching.asked) == N - kept
    assert not set(watching.asked) & {s for b in batches[:-2] for s in b}
    results = json.loads((tmp_path / "resumed" / "results.json").read_text())
    assert results["tasks"]["vqa-rad"]["counts"]["cache_hits"] == kept
