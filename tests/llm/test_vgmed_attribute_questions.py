"""VGMED attribute questions through an OpenAI-compatible server: one request per unique
(modality, label), provenance on every row, the count in the manifest, a warm rebuild
making no calls, and failures falling back to templates with the reason listed."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from medbench.cli import app
from medbench.prompts.templates import attribute_template_id, load_template
from medbench.testing.openai_standin import StandInServer, message_text

DATASETS = ["BTCV", "ISIC2018", "BraTS2021"]


def _prompt_parts(request: dict) -> tuple[str, str]:
    """(modality as the prompt names it, label) read back from the rendered messages."""
    text = "\n".join(message_text(m) for m in request["messages"])
    label = text.split("Label:", 1)[1].splitlines()[0].strip()
    modality = text.split(" in a ", 1)[1].split(" image", 1)[0].strip()
    return modality, label


def responder(request: dict) -> str:
    modality, label = _prompt_parts(request)
    return json.dumps({"questions": [f"[{modality}] {label} question {i}?" for i in range(1, 4)]})


def _build(server, out, cache, *extra):
    args = ["build", "vgmed", "--demo", "--out", str(out), "--json"]
    args += [arg for d in DATASETS for arg in ("-d", d)]
    args += ["--llm-base-url", server.base_url, "--llm-model", "stand-in"]
    args += ["--llm-cache", str(cache), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


@pytest.fixture(scope="module")
def server():
    with StandInServer(model="stand-in", responder=responder) as standin:
        yield standin


def test_one_request_per_unique_pair_and_provenance_on_rows(server, tmp_path):
    server.reset()
    summary = _build(server, tmp_path / "out", tmp_path / "cache.sqlite")
    rows = load_dataset(str(tmp_path / "out"), split="test")
    attribute = [r for r in rows if r["question_type"] == "attribute"]
    pairs = {(r["modality"], r["label"]) for r in attribute}
    assert server.requests_received == len(pairs) == summary["llm"]["unique_pairs"]
    shown = {"MR": "MRI"}
    for row in attribute:
        modality, label = row["modality"], row["label"]
        assert row["question"] in {
            f"[{shown.get(modality, modality)}] {label} question {i}?" for i in range(1, 4)
        }
        template = load_template(attribute_template_id(modality))
        assert row["question_source"] == (f"openai:stand-in:{template.id}@{template.short_hash}")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["llm"]["calls"] == len(pairs) and manifest["llm"]["cache_hits"] == 0
    assert manifest["attribute_question_source"] == "openai:stand-in"
    card = (tmp_path / "out" / "README.md").read_text()
    assert f"took {len(pairs)} LLM requests" in card


def test_a_rebuild_with_a_warm_cache_makes_no_calls(server, tmp_path):
    cache = tmp_path / "cache.sqlite"
    _build(server, tmp_path / "first", cache)
    server.reset()
    summary = _build(server, tmp_path / "second", cache)
    assert server.requests_received == 0
    assert summary["llm"]["cache_hits"] == summary["llm"]["unique_pairs"] > 0
    first = load_dataset(str(tmp_path / "first"), split="test")["question"]
    second = load_dataset(str(tmp_path / "second"), split="test")["question"]
    assert first == second


def test_failed_pairs_fall_back_to_templates_and_are_listed(server, tmp_path):
    server.fault = lambda request: "500" if "liver" in _prompt_parts(request)[1] else None
    try:
        summary = _build(server, tmp_path / "out", tmp_path / "cache.sqlite", "--llm-attempts", "2")
    finally:
        server.fault = None
    failed = summary["llm"]["failed_pairs"]
    assert [f["label"] for f in failed] == ["liver"] and "HTTP 500" in failed[0]["reason"]
    rows = load_dataset(str(tmp_path / "out"), split="test")
    liver = [r for r in rows if r["question_type"] == "attribute" and r["label"] == "liver"]
    assert liver and all(r["question_source"] == "template (llm failed)" for r in liver)
    assert all("question 1?" not in r["question"] for r in liver)
