"""The ``openai`` eval model against the OpenAI-compatible stand-in server, through the real
``openai`` client: images as data URLs, concurrency, failed requests, and a killed run that
resumes from the response cache."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medbench.cli import app
from medbench.evaluators.config import RunConfig
from medbench.evaluators.runner import evaluate
from medbench.evaluators.synthetic import write_vgmed, write_vqa
from medbench.evaluators.tasks import get_task
from medbench.evaluators.tasks.data import data_root as resolve_root
from medbench.evaluators.tasks.data import open_rows, resolve_location, to_row
from medbench.llm.cache import ResponseCache
from medbench.testing.openai_standin import StandInServer, last_user_message, message_text

runner = CliRunner()
TASKS = ["vqa-rad", "vgmed-grounding"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval-openai-data")
    write_vqa(root, benchmarks=["vqa-rad"], n=10)
    write_vgmed(root, n=40)  # 30 localization questions
    return root


def rows_of(task_name: str, root: Path) -> list:
    task = get_task(task_name)
    source = open_rows(task, resolve_location(task, resolve_root(root)))
    return [
        to_row(task, raw)
        for batch in source.batches()
        for raw in batch
        if all(str(raw[k]) == v for k, v in task.data.filters.items())
    ]


def oracle_answers(root: Path) -> dict[tuple[str, str], str]:
    """(prompt text, sha256 of the image) -> the answer the task's parser scores as right.
    Grounding prompts repeat (same question, label and size), so the image tells them apart."""
    table = {}
    for name in TASKS:
        task = get_task(name)
        for row in rows_of(name, root):
            table[(task.prompt(row), hashlib.sha256(row.image).hexdigest())] = task.oracle_answer(
                row
            )
    return table


def image_parts(request: dict) -> list[str]:
    content = last_user_message(request).get("content")
    return [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]


def model_args(server: StandInServer, **extra) -> str:
    values = {
        "model": "stand-in",
        "base_url": server.base_url,
        "backoff_s": 0.01,
        "backoff_max_s": 0.02,
        "timeout_s": 10,
    }
    values.update(extra)
    return ",".join(f"{k}={v}" for k, v in values.items())


def box_responder(request: dict) -> str:
    """A deterministic answer read from the grounding prompt: the image's top-left quarter."""
    w, h = re.search(r"this (\d+)x(\d+) image", message_text(last_user_message(request))).groups()
    return f"[0, 0, {int(w) // 2}, {int(h) // 2}]"


def test_openai_model_sends_images_as_data_urls_and_scores_like_the_oracle(data_root, tmp_path):
    expected = oracle_answers(data_root)

    def respond(request: dict) -> str:
        (url,) = image_parts(request)
        head, _, payload = url.partition(",")
        assert head == "data:image/png;base64"
        digest = hashlib.sha256(base64.b64decode(payload)).hexdigest()
        # the right answer only when the image came through byte for byte
        return expected.get((message_text(last_user_message(request)), digest), "?")

    with StandInServer(model="stand-in", responder=respond, latency_s=0.02) as server:
        config = RunConfig(
            model="openai",
            model_args=model_args(server, concurrency=4),
            tasks=TASKS,
            data_root=data_root,
            cache=tmp_path / "cache.sqlite",
            output_dir=tmp_path / "out",
            plots=False,
        )
        results, _ = evaluate(config)
        log = server.request_log
    assert len(log) == 10 + 30
    assert server.max_in_flight > 1  # concurrent requests within a batch
    for block in results["tasks"].values():
        assert block["counts"]["parse_failures"] == 0 and block["counts"]["request_errors"] == 0
        assert all(s["mean"] == 1.0 for s in block["metrics"].values())
    body = log[0]
    assert body["model"] == "stand-in" and body["temperature"] == 0.0
    assert body["max_tokens"] == 256
    assert [p["type"] for p in last_user_message(body)["content"]] == ["image_url", "text"]
    assert results["model"]["model_id"] == "openai:stand-in"
    assert "base_url" in results["model"]["args"]


def run_args(server: StandInServer, root: Path, out: Path, cache: Path, **extra) -> list[str]:
    return [
        "eval",
        "run",
        "--model",
        "openai",
        "--model-args",
        model_args(server, **extra),
        "--tasks",
        "vgmed-grounding",
        "--data-root",
        str(root),
        "--output-dir",
        str(out),
        "--cache",
        str(cache),
        "--batch-size",
        "1",
        "--no-plots",
    ]


def test_a_killed_run_resumes_without_repeating_finished_samples(data_root, tmp_path):
    cache = tmp_path / "cache.sqlite"
    with StandInServer(model="stand-in", responder=box_responder, latency_s=0.05) as server:
        args = run_args(server, data_root, tmp_path / "killed", cache, concurrency=1)
        proc = subprocess.Popen(
            [sys.executable, "-c", "from medbench.cli import app; app()", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while server.requests_answered < 10 and time.monotonic() < deadline:
                assert proc.poll() is None, "the run ended before it was killed"
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        sent_before = server.requests_received
        assert 10 <= sent_before < 30
        with ResponseCache(cache) as c:
            finished = len(c)
        assert sent_before - 1 <= finished <= sent_before  # at most the one in flight is lost
        assert not (tmp_path / "killed" / "results.json").exists()

        server.reset()
        result = runner.invoke(app, run_args(server, data_root, tmp_path / "resumed", cache))
        assert result.exit_code == 0, result.output
        assert server.requests_received == 30 - finished  # only the unfinished ones

        server.reset()
        result = runner.invoke(
            app,
            run_args(
                server, data_root, tmp_path / "whole", tmp_path / "fresh.sqlite", concurrency=8
            )[:-3]
            + ["--batch-size", "16", "--no-plots"],
        )
        assert result.exit_code == 0, result.output
        assert server.requests_received == 30

    resumed = json.loads((tmp_path / "resumed" / "results.json").read_text())
    whole = json.loads((tmp_path / "whole" / "results.json").read_text())
    task = "vgmed-grounding"
    assert resumed["tasks"][task]["counts"]["cache_hits"] == finished
    assert resumed["tasks"][task]["metrics"] == whole["tasks"][task]["metrics"]
    assert resumed["tasks"][task]["subsets"] == whole["tasks"][task]["subsets"]
    assert 0 < resumed["tasks"][task]["metrics"]["iou"]["mean"] < 1
    name = f"samples_{task}.jsonl"
    assert (tmp_path / "resumed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_failed_requests_are_counted_not_cached_and_retried_by_a_rerun(data_root, tmp_path):
    expected = {prompt: answer for (prompt, _), answer in oracle_answers(data_root).items()}
    failing = sorted(p for p in expected if "(case 2)" in p or "(case 7)" in p)
    assert len(failing) == 2

    def fault(request: dict):
        return "500" if message_text(last_user_message(request)) in failing else None

    def respond(request: dict) -> str:
        return expected[message_text(last_user_message(request))]

    cache = tmp_path / "cache.sqlite"
    args = [
        "eval", "run", "--model", "openai", "--tasks", "vqa-rad", "--data-root",
        str(data_root), "--cache", str(cache), "--no-plots",
    ]  # fmt: skip
    with StandInServer(model="stand-in", responder=respond, fault=fault) as server:
        result = runner.invoke(
            app,
            [*args, "--model-args", model_args(server, max_attempts=2), "-o", str(tmp_path / "a")],
        )
        assert result.exit_code == 1, result.output
        assert "2 requests got no answer" in result.output
        assert server.requests_received == 8 + 2 * 2  # each failing one tried twice
        block = json.loads((tmp_path / "a" / "results.json").read_text())["tasks"]["vqa-rad"]
        assert block["counts"]["request_errors"] == 2
        assert block["counts"]["parse_failures"] == 0
        assert block["metrics"]["closed_accuracy"]["mean"] < 1.0
        lines = (tmp_path / "a" / "samples_vqa-rad.jsonl").read_text().splitlines()
        errors = [json.loads(line) for line in lines if '"error"' in line]
        assert len(errors) == 2 and all("HTTP 500" in e["error"] for e in errors)
        with ResponseCache(cache) as c:
            assert len(c) == 8

        server.fault = None
        server.reset()
        result = runner.invoke(
            app, [*args, "--model-args", model_args(server), "-o", str(tmp_path / "b")]
        )
        assert result.exit_code == 0, result.output
        assert server.requests_received == 2
    block = json.loads((tmp_path / "b" / "results.json").read_text())["tasks"]["vqa-rad"]
    assert block["counts"]["request_errors"] == 0
    assert all(s["mean"] == 1.0 for s in block["metrics"].values())
