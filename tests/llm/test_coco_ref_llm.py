"""COCO attribute questions through an OpenAI-compatible server (the stand-in): one request
per unique category, counted server-side; provenance on every row; ``--questions-per-label``
asking with sampling seeds; a failed category falling back to templates, listed."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from medbench.cli import app
from medbench.demo import coco
from medbench.llm.template_backend import COCO_MODALITY, TemplateBackend
from medbench.prompts import load_template
from medbench.testing.openai_standin import StandInServer, message_text


def _label(request: dict) -> str:
    text = "\n".join(message_text(m) for m in request["messages"])
    return text.split("Label:", 1)[1].splitlines()[0].strip()


def answer(label: str, seed) -> str:
    return f"What colour is the {label} (seed {seed})?"


def responder(request: dict) -> str:
    return json.dumps({"question": answer(_label(request), request.get("seed"))})


@pytest.fixture(scope="module")
def server():
    with StandInServer(model="stand-in", responder=responder) as standin:
        yield standin


@pytest.fixture(scope="module")
def coco_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    planted = coco.write(root)
    return root, planted


def _build(server, root, out, *extra):
    args = ["build", "coco-ref", "--coco-root", str(root), "--out", str(out), "--json"]
    args += ["--llm-base-url", server.base_url, "--llm-model", "stand-in"]
    args += ["--llm-cache", str(out.parent / f"{out.name}-cache.sqlite"), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_one_request_per_unique_category_and_provenance_on_rows(server, coco_root, tmp_path):
    root, planted = coco_root
    server.reset()
    summary = _build(server, root, tmp_path / "out")
    categories = {p.label for p in planted}
    assert server.requests_received == len(categories) == 5
    assert sorted(_label(r) for r in server.request_log) == sorted(categories)
    assert summary["llm"]["requests"] == summary["llm"]["unique_labels"] == 5
    template = load_template("coco-attribute")
    rows = load_dataset(str(tmp_path / "out"), split="test")
    attribute = [r for r in rows if r["question_type"] == "attribute"]
    assert len(attribute) == len(planted)
    for row in attribute:
        assert row["question"] == answer(row["label"], None)
        assert row["question_source"] == f"openai:stand-in:coco-attribute@{template.short_hash}"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["attribute_question_source"] == "openai:stand-in"
    assert manifest["prompts"]["coco-attribute"] == template.sha256
    assert manifest["llm"]["calls"] == 5 and manifest["llm"]["cache_hits"] == 0


def test_several_questions_per_label_are_asked_with_sampling_seeds(server, coco_root, tmp_path):
    root, planted = coco_root
    server.reset()
    _build(server, root, tmp_path / "out", "--questions-per-label", "2")
    log = server.request_log
    assert len(log) == 2 * 5
    assert sorted((_label(r), r["seed"]) for r in log) == sorted(
        (p, k) for p in {p.label for p in planted} for k in (0, 1)
    )
    assert {r["temperature"] for r in log} == {0.7}
    rows = load_dataset(str(tmp_path / "out"), split="test")
    for row in rows:
        if row["question_type"] == "attribute":
            assert row["question"] in {answer(row["label"], k) for k in (0, 1)}


def test_a_failed_category_falls_back_to_templates_and_is_listed(server, coco_root, tmp_path):
    root, _ = coco_root
    server.fault = lambda request: "500" if _label(request) == "cat" else None
    try:
        summary = _build(server, root, tmp_path / "out", "--llm-attempts", "1")
    finally:
        server.fault = None
    assert summary["llm"]["labels_on_templates"] == ["cat"]
    assert [f["label"] for f in summary["llm"]["failed_requests"]] == ["cat"]
    rows = load_dataset(str(tmp_path / "out"), split="test")
    cat = [r for r in rows if r["question_type"] == "attribute" and r["label"] == "cat"]
    assert cat and all(r["question_source"] == "template (llm failed)" for r in cat)
    assert cat[0]["question"] == TemplateBackend(0).questions_for(COCO_MODALITY, "cat", 1)[0]
