"""The LLM layer against an OpenAI-compatible stand-in server on 127.0.0.1, through the real
``openai`` client: answers, retries, repairs, recorded failures, the cache and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from medbench.llm.cache import ResponseCache
from medbench.llm.runner import LLMClient, LLMRequest
from medbench.llm.settings import LLMSettings
from medbench.prompts.templates import load_template, load_template_file
from medbench.testing.openai_standin import StandInServer, message_text

LABELS = ["liver", "spleen", "left kidney", "aorta", "pancreas"]


def label_of(request: dict) -> str:
    """The label of the prompt (a repair request repeats the conversation before it)."""
    for message in request["messages"]:
        text = message_text(message)
        if message["role"] == "user" and "Label:" in text:
            return text.split("Label:", 1)[1].splitlines()[0].strip()
    return "?"


def questions_for(label: str) -> list[str]:
    return [f"Is the {label} enlarged?", f"What shape is the {label}?", f"Is the {label} dense?"]


def attribute_responder(request: dict) -> str:
    return json.dumps({"questions": questions_for(label_of(request))})


@pytest.fixture
def server():
    with StandInServer(model="stand-in", responder=attribute_responder) as standin:
        yield standin


def settings_for(server: StandInServer, tmp_path: Path, **extra) -> LLMSettings:
    values = dict(
        backend="openai",
        base_url=server.base_url,
        model="stand-in",
        cache_path=tmp_path / "cache.sqlite",
        backoff_s=0.01,
        backoff_max_s=0.05,
        timeout_s=5.0,
    )
    values.update(extra)
    return LLMSettings(**values)


def ct_requests(labels=LABELS, template=None) -> list[LLMRequest]:
    template = template or load_template("vgmed-attribute-ct")
    return [LLMRequest.of(template, modality="CT", label=label) for label in labels]


def test_answers_are_parsed_with_provenance_and_usage(server, tmp_path):
    with LLMClient(settings_for(server, tmp_path)) as client:
        results = client.run(ct_requests())
    assert [r.error for r in results] == [None] * len(LABELS)
    assert [r.output.questions for r in results] == [questions_for(label) for label in LABELS]
    template = load_template("vgmed-attribute-ct")
    assert (
        client.provenance(template) == f"openai:stand-in:vgmed-attribute-ct@{template.short_hash}"
    )
    assert server.requests_received == len(LABELS) and client.stats.calls == len(LABELS)
    # structured output was asked for, with the output model's JSON schema
    sent = server.request_log[0]["response_format"]
    assert sent["type"] == "json_schema" and "questions" in json.dumps(sent["json_schema"])
    # token usage: the stand-in counts whitespace-split words of the prompt and the answer
    prompt_words = sum(
        len(m["content"].split()) for request in server.request_log for m in request["messages"]
    )
    answer_words = sum(len(attribute_responder(r).split()) for r in server.request_log)
    assert client.stats.prompt_tokens == prompt_words
    assert client.stats.completion_tokens == answer_words


def test_identical_requests_are_asked_once(server, tmp_path):
    with LLMClient(settings_for(server, tmp_path)) as client:
        results = client.run(ct_requests(["liver", "liver", "spleen", "liver"]))
    assert server.requests_received == 2
    assert [r.output.questions[0] for r in results] == [
        questions_for(x)[0] for x in ("liver", "liver", "spleen", "liver")
    ]
    assert client.stats.requests == 4 and client.stats.unique == 2


def test_a_warm_cache_makes_zero_calls(server, tmp_path):
    with LLMClient(settings_for(server, tmp_path)) as client:
        first = client.run(ct_requests())
    server.reset()
    with LLMClient(settings_for(server, tmp_path)) as client:
        second = client.run(ct_requests())
    assert server.requests_received == 0
    assert client.stats.cache_hits == len(LABELS) and client.stats.calls == 0
    assert [r.output for r in second] == [r.output for r in first]
    assert all(r.cached for r in second)


def test_a_changed_prompt_invalidates_only_its_entries(server, tmp_path):
    mri = load_template("vgmed-attribute-mri")
    with LLMClient(settings_for(server, tmp_path)) as client:
        client.run(ct_requests() + [LLMRequest.of(mri, modality="MRI", label="edema")])
    edited = tmp_path / "vgmed-attribute-ct.yaml"
    edited.write_text(load_template("vgmed-attribute-ct").text + "\n# reworded\n")
    server.reset()
    with LLMClient(settings_for(server, tmp_path)) as client:
        client.run(
            ct_requests(template=load_template_file(edited))
            + [LLMRequest.of(mri, modality="MRI", label="edema")]
        )
    assert server.requests_received == len(LABELS)  # the CT ones only
    assert {label_of(r) for r in server.request_log} == set(LABELS)


def test_server_without_structured_output_falls_back_to_plain_text(server, tmp_path):
    server.json_schema = False
    with LLMClient(settings_for(server, tmp_path, concurrency=4)) as client:
        results = client.run(ct_requests())
    assert [r.output.questions for r in results] == [questions_for(label) for label in LABELS]
    assert client.stats.structured_output is False
    plain = [r for r in server.request_log if "response_format" not in r]
    assert len(plain) == len(LABELS)


@pytest.mark.parametrize("fault", ["fail_500", "rate_limit_429", "drop_connection"])
def test_transient_faults_are_retried(server, tmp_path, fault):
    setattr(server, fault, 3)
    with LLMClient(settings_for(server, tmp_path, concurrency=1)) as client:
        results = client.run(ct_requests())
    assert [r.error for r in results] == [None] * len(LABELS)
    assert server.requests_received == len(LABELS) + 3
    assert sum(r.attempts for r in results) == len(LABELS) + 3


def test_persistent_failure_is_recorded_not_cached_and_retried_next_run(server, tmp_path):
    server.fault = lambda request: "500" if label_of(request) == "aorta" else None
    settings = settings_for(server, tmp_path, max_attempts=3)
    with LLMClient(settings) as client:
        results = client.run(ct_requests())
    failed = {r.request.variables["label"]: r.error for r in results if r.error}
    assert list(failed) == ["aorta"] and "gave up after 3 attempts: HTTP 500" in failed["aorta"]
    assert client.stats.failures == 1
    assert sum(label_of(r) == "aorta" for r in server.request_log) == 3
    server.fault = None
    server.reset()
    with LLMClient(settings) as client:
        results = client.run(ct_requests())
    assert server.requests_received == 1 and all(r.error is None for r in results)


def test_malformed_answer_is_repaired_with_the_problem_fed_back(server, tmp_path):
    server.malformed = 1
    with LLMClient(settings_for(server, tmp_path, concurrency=1)) as client:
        results = client.run(ct_requests(["liver"]))
    assert results[0].output.questions == questions_for("liver")
    assert client.stats.repairs == 1 and server.requests_received == 2
    repair = server.request_log[1]["messages"]
    assert repair[-2]["role"] == "assistant" and "cannot be used" in repair[-1]["content"]


def test_wrong_count_exhausts_repairs_and_is_recorded(server, tmp_path):
    server.responder = lambda request: json.dumps({"questions": ["Only one?", "And two?"]})
    with LLMClient(settings_for(server, tmp_path, repairs=2)) as client:
        results = client.run(ct_requests(["liver"]))
    assert results[0].output is None and "questions" in results[0].error
    assert server.requests_received == 3  # the answer and two repairs
    assert len(ResponseCache(tmp_path / "cache.sqlite")) == 0


def test_slow_server_times_out_and_is_recorded(server, tmp_path):
    server.latency_s = 1.0
    settings = settings_for(server, tmp_path, timeout_s=0.2, max_attempts=2)
    with LLMClient(settings) as client:
        results = client.run(ct_requests(["liver"]))
    assert "no answer within 0.2 s" in results[0].error


def test_concurrency_is_bounded(server, tmp_path):
    server.latency_s = 0.1
    labels = [f"structure {i}" for i in range(12)]
    with LLMClient(settings_for(server, tmp_path, concurrency=4)) as client:
        client.run(ct_requests(labels))
    assert server.max_in_flight == 4


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from medbench.llm.runner import LLMClient, LLMRequest
    from medbench.llm.settings import LLMSettings
    from medbench.prompts.templates import load_template

    base_url, cache, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    settings = LLMSettings(backend="openai", base_url=base_url, model="stand-in",
                           cache_path=cache, concurrency=2)
    template = load_template("vgmed-attribute-ct")
    requests = [LLMRequest.of(template, modality="CT", label=f"structure {i}")
                for i in range(count)]
    LLMClient(settings).run(requests)
    """
)


def test_a_killed_run_resumes_without_repeating_finished_calls(server, tmp_path):
    server.latency_s = 0.05
    cache, count = tmp_path / "cache.sqlite", 40
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, server.base_url, str(cache), str(count)],
        env={**os.environ, "MEDBENCH_LLM": ""},
    )
    deadline = time.monotonic() + 60
    while server.requests_answered < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    template = load_template("vgmed-attribute-ct")
    requests = [
        LLMRequest.of(template, modality="CT", label=f"structure {i}") for i in range(count)
    ]
    server.reset()
    with LLMClient(settings_for(server, tmp_path)) as client:
        keys = {client.key(r, r.messages()): r.variables["label"] for r in requests}
        with ResponseCache(cache) as db:
            finished = {keys[k] for k in db.get_many(keys)}
        assert 8 <= len(finished) < count  # a few answers may be in flight to the cache
        results = client.run(requests)
    assert all(r.error is None for r in results)
    # every call that had finished before the kill is answered from the cache
    asked_again = {label_of(r) for r in server.request_log}
    assert asked_again == {f"structure {i}" for i in range(count)} - finished
    assert server.requests_received == count - len(finished)
    assert client.stats.cache_hits == len(finished)
