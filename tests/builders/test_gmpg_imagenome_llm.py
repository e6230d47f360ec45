"""GMPG-ImaGenome stage 1 through an OpenAI-compatible server (the stand-in): requests are
de-duplicated over (normalised sentence, region set), both counts reported; rows follow the
LLM and say so; ``both`` reports the agreement with the hierarchy; an answer that never
validates falls back to the hierarchy, listed."""

from __future__ import annotations

import json
import socket

import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from medbench.cli import app
from medbench.demo import imagenome
from medbench.prompts import load_template
from medbench.testing.openai_standin import StandInServer, message_text

runner = CliRunner()
PARENTS = {"right lung", "left lung", "mediastinum"}
BROKEN = "Mild bibasilar atelectasis."  # the responder never answers this one validly


def _asked(request: dict) -> tuple[str, list[str]]:
    """The sentence and regions of the request (its first user message: a repair request
    adds later turns)."""
    text = next(message_text(m) for m in request["messages"] if m["role"] == "user")
    sentence = text.split("Sentence:", 1)[1].splitlines()[0].strip()
    regions = text.split("Regions:", 1)[1].splitlines()[0].strip().split(", ")
    return sentence, regions


def responder(request: dict) -> str:
    """Drops lungs / mediastinum next to any other region, except in pneumothorax sentences
    (keeps everything there: a planted disagreement with the hierarchy)."""
    sentence, regions = _asked(request)
    if sentence == BROKEN:
        return json.dumps({"keep": ["left breast"], "discard": regions})
    if "pneumothorax" in sentence.lower() or not set(regions) - PARENTS:
        keep = regions
    else:
        keep = [r for r in regions if r not in PARENTS]
    return json.dumps({"keep": keep, "discard": [r for r in regions if r not in keep]})


@pytest.fixture(scope="module")
def server():
    with StandInServer(model="stand-in", responder=responder) as standin:
        yield standin


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    return imagenome.write(tmp_path_factory.mktemp("imagenome-llm"), seed=0)


def _build(server, paths, out, mode, cache, *extra):
    args = ["build", "gmpg-imagenome", "--out", str(out), "--json", "--specificity", mode, *extra]
    args += ["--imagenome-root", str(paths["imagenome_root"])]
    args += ["--mimic-reports", str(paths["mimic_reports"]), "--ms-cxr", str(paths["ms_cxr"])]
    args += ["--mimic-jpg", str(paths["mimic_jpg"])]
    args += [
        "--llm-base-url",
        server.base_url,
        "--llm-model",
        "stand-in",
        "--llm-cache",
        str(cache),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def _rows(out):
    rows = {}
    for split in ("train", "valid", "test"):
        for row in load_dataset(str(out), split=split, download_mode="force_redownload"):
            rows[(row["image_id"], row["sentence"])] = row
    return rows


def test_llm_requests_are_deduplicated_and_rows_follow_the_llm(server, replica, tmp_path):
    server.reset()
    summary = _build(server, replica, tmp_path / "out", "llm", tmp_path / "cache.sqlite")
    # 12 sentences with two or more boxed regions; I repeats F's "No pneumothorax." and A's
    # "The heart size is normal." with the same regions: 10 unique requests (+2 re-asks of
    # the answer that never validates).
    spec = summary["specificity"]
    assert (spec["requests_before_dedup"], spec["unique_requests"]) == (12, 10)
    assert server.requests_received == 10 + 2
    asked = [_asked(r) for r in server.request_log]
    assert len({(s.lower(), tuple(r)) for s, r in asked}) == 10
    assert asked.count(("No pneumothorax.", ["right lung", "left lung"])) == 1
    assert spec["llm_failures_fell_back_to_hierarchy"] == 1
    assert spec["llm"]["calls"] == 12 and spec["llm"]["failures"] == 1
    rows = _rows(tmp_path / "out")
    a, b = imagenome.BY_ROLE["A"], imagenome.BY_ROLE["B"]
    template = load_template("imagenome-region-specificity")
    tag = f"openai:stand-in:imagenome-region-specificity@{template.short_hash}"
    ptx = rows[(b.dicom_id, "Small left apical pneumothorax.")]
    assert ptx["box_names"] == ["left lung", "left upper lung zone"]  # the LLM kept both
    opacity = rows[
        (a.dicom_id, "Patchy opacity in the right lower lung zone may reflect atelectasis.")
    ]
    step = next(s for s in opacity["cleanup"] if s["stage"] == "specificity")
    assert step["decided_by"] == tag and step["removed"] == ["right lung"]
    broken = rows[(a.dicom_id, BROKEN)]
    step = next(s for s in broken["cleanup"] if s["stage"] == "specificity")
    assert step["decided_by"].startswith("hierarchy:") and "LLM failed" in step["reason"]
    assert broken["box_names"] == ["right lower lung zone", "left lower lung zone"]
    # specificity stage: 20 with the hierarchy, +2 for A's negative sentence, +1 for B's
    stages = {f["stage"]: f["sentence_box_pairs"] for f in summary["funnel"]}
    assert (stages["specificity"], stages["non_grounding"]) == (23, 9)

    server.reset()  # a rerun asks nothing the cache has; the failed request is asked again
    again = _build(server, replica, tmp_path / "again", "llm", tmp_path / "cache.sqlite")
    assert server.requests_received == 3
    assert again["specificity"]["llm"]["cache_hits"] == 9


def test_both_reports_agreement(server, replica, tmp_path):
    server.reset()
    # two images per LLM batch: five batches, and a request seen in an earlier batch is not
    # asked again
    cache = tmp_path / "cache.sqlite"
    summary = _build(server, replica, tmp_path / "out", "both", cache, "--chunk-graphs", "2")
    assert server.requests_received == 10 + 2
    agreement = summary["specificity"]["agreement"]
    # answered validly: 9 unique / 11 occurrences; the LLM disagrees on A's "There is no
    # focal consolidation..." (keeps all four) and B's apical pneumothorax
    assert (agreement["unique"], agreement["unique_total"]) == (7, 9)
    assert (agreement["occurrences"], agreement["occurrences_total"]) == (9, 11)
    listed = (tmp_path / "out" / "report" / "specificity_disagreements.csv").read_text()
    assert listed.count("\n") == 1 + 2
    assert "small left apical pneumothorax" in listed


def _one_line_error(result) -> str:
    """The command failed with exit 2 and a single ``error: ...`` line, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ["--llm", "bogus"],
            "error: --llm 'bogus': Input should be 'openai', 'vllm' or 'template'",
        ),
        (["--llm", "template"], "error: --specificity llm needs an LLM"),
    ],
)
def test_bad_llm_options_are_one_line_errors(tmp_path, extra, expected):
    out = tmp_path / "out"
    args = ["build", "gmpg-imagenome", "--demo", "--out", str(out), "--specificity", "llm"]
    result = runner.invoke(app, [*args, *extra])
    assert _one_line_error(result).startswith(expected)
    assert not out.exists()  # refused before anything was written


def test_bad_llm_environment_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDBENCH_LLM", "nope")
    args = ["build", "gmpg-imagenome", "--demo", "--out", str(tmp_path), "--specificity", "both"]
    assert _one_line_error(runner.invoke(app, args)).startswith("error: $MEDBENCH_LLM 'nope':")


def test_vllm_without_the_package_is_a_one_line_error(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "vllm" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    args = ["build", "gmpg-imagenome", "--demo", "--out", str(tmp_path), "--specificity", "llm"]
    line = _one_line_error(runner.invoke(app, [*args, "--llm", "vllm"]))
    assert line.startswith("error: --llm vllm needs the vllm package")


def _llm_args(paths, out, base_url, cache) -> list[str]:
    args = ["build", "gmpg-imagenome", "--out", str(out), "--specificity", "llm"]
    args += ["--imagenome-root", str(paths["imagenome_root"])]
    args += ["--mimic-reports", str(paths["mimic_reports"])]
    return [*args, "--llm-base-url", base_url, "--llm-model", "stand-in", "--llm-cache", str(cache)]


def test_an_llm_that_answers_nothing_stops_the_build_after_one_request(server, replica, tmp_path):
    server.reset()
    # the stand-in knows no such model: 404 for every request, nothing ever answered
    args = _llm_args(replica, tmp_path / "out", server.base_url, tmp_path / "cache.sqlite")
    line = _one_line_error(runner.invoke(app, [*args, "--llm-model", "no-such-model"]))
    assert line.startswith(f"error: --specificity llm: the openai LLM at {server.base_url} ")
    assert "answered none of 1 request(s): HTTP 404" in line
    assert server.requests_received == 1  # one request ahead of the batch, not all ten

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    args = _llm_args(replica, tmp_path / "out2", url, tmp_path / "cache.sqlite")
    line = _one_line_error(runner.invoke(app, [*args, "--llm-attempts", "1"]))
    assert "answered none of 1 request(s): gave up after 1 attempts: connection failed" in line


def test_an_unusable_response_cache_is_a_one_line_error(server, replica, tmp_path):
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a SQLite database" * 100)
    args = _llm_args(replica, tmp_path / "out", server.base_url, cache)
    assert str(cache) in _one_line_error(runner.invoke(app, args))
