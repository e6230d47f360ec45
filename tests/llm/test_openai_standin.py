"""The OpenAI-compatible stand-in server, driven by the real `openai` clients (no retries)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import openai
import pytest

from medbench.testing.openai_standin import MALFORMED_CONTENT, StandInServer, last_user_text

pytestmark = pytest.mark.timeout(60)

MODEL = "stand-in"
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
}


def user(text: str) -> list[dict]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


@pytest.fixture
def server() -> Iterator[StandInServer]:
    with StandInServer(MODEL) as s:
        yield s


@pytest.fixture
def c(server: StandInServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=10) as c:
        yield c


def aclient(server: StandInServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=10)


def test_models_and_round_trip(server: StandInServer, c: openai.OpenAI) -> None:
    assert [m.id for m in c.models.list()] == [MODEL]
    r = c.chat.completions.create(model=MODEL, messages=user("what is in the image"))
    assert r.object == "chat.completion" and r.model == MODEL
    choice = r.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert json.loads(choice.message.content) == {"echo": "what is in the image", "images": 0}
    # words: "be brief" + "what is in the image" -> 7; the answer JSON splits into 9
    assert r.usage.prompt_tokens == 7
    assert r.usage.completion_tokens == len(choice.message.content.split())
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert server.requests_received == 1 and server.requests_answered == 1
    assert server.request_log[0]["messages"][1]["content"] == "what is in the image"


def test_async_round_trip_with_image_parts(server: StandInServer) -> None:
    parts = [
        {"type": "text", "text": "find the liver"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]

    async def go() -> openai.types.chat.ChatCompletion:
        async with aclient(server) as c:
            return await c.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": parts}], temperature=0
            )

    r = asyncio.run(go())
    assert json.loads(r.choices[0].message.content) == {"echo": "find the liver", "images": 1}
    assert r.usage.prompt_tokens == 3
    assert server.request_log[0]["temperature"] == 0


def test_response_format_on_and_off(server: StandInServer, c: openai.OpenAI) -> None:
    for fmt in (SCHEMA_FORMAT, {"type": "json_object"}):
        r = c.chat.completions.create(model=MODEL, messages=user("a"), response_format=fmt)
        assert json.loads(r.choices[0].message.content)["echo"] == "a"
    server.json_schema = False  # switched while serving
    with pytest.raises(openai.BadRequestError) as err:
        c.chat.completions.create(model=MODEL, messages=user("a"), response_format=SCHEMA_FORMAT)
    assert "response_format" in err.value.message
    assert err.value.body["param"] == "response_format"
    r = c.chat.completions.create(model=MODEL, messages=user("a"))  # plain text fallback works
    assert r.choices[0].message.content
    assert server.requests_received == 4 and server.requests_answered == 3


def test_stream_and_unknown_model_are_refused(server: StandInServer, c: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="stream"):
        c.chat.completions.create(model=MODEL, messages=user("a"), stream=True)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        c.chat.completions.create(model="other", messages=user("a"))
    server.check_model = False
    assert c.chat.completions.create(model="other", messages=user("a")).model == MODEL


def test_next_n_faults_then_normal(server: StandInServer, c: openai.OpenAI) -> None:
    server.fail_500 = 2
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model=MODEL, messages=user("a"))
    server.rate_limit_429 = 1
    with pytest.raises(openai.RateLimitError) as err:
        c.chat.completions.create(model=MODEL, messages=user("a"))
    assert err.value.response.headers["retry-after"] == "0"
    assert err.value.code == "rate_limit_exceeded"
    server.drop_connection = 1
    with pytest.raises(openai.APIConnectionError):
        c.chat.completions.create(model=MODEL, messages=user("a"))
    server.malformed = 1
    r = c.chat.completions.create(model=MODEL, messages=user("a"))
    assert r.choices[0].message.content == MALFORMED_CONTENT
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.choices[0].message.content)
    r = c.chat.completions.create(model=MODEL, messages=user("a"))  # faults used up
    assert json.loads(r.choices[0].message.content)["echo"] == "a"
    assert server.requests_received == 6 and server.requests_answered == 2
    assert (server.fail_500, server.rate_limit_429, server.drop_connection, server.malformed) == (
        0,
        0,
        0,
        0,
    )


def test_fault_hook_hits_specific_prompts_among_concurrent_ones(server: StandInServer) -> None:
    kinds = {"p3": "500", "p5": "429", "p7": "drop", "p9": "malformed"}
    server.fault = lambda request: kinds.get(last_user_text(request))
    server.latency_s = 0.05

    async def go() -> list:
        async with aclient(server) as c:
            calls = [
                c.chat.completions.create(model=MODEL, messages=user(f"p{i}")) for i in range(12)
            ]
            return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(go())
    assert isinstance(results[3], openai.InternalServerError)
    assert isinstance(results[5], openai.RateLimitError)
    assert isinstance(results[7], openai.APIConnectionError)
    assert results[9].choices[0].message.content == MALFORMED_CONTENT
    for i in (0, 1, 2, 4, 6, 8, 10, 11):
        assert json.loads(results[i].choices[0].message.content)["echo"] == f"p{i}"
    assert server.requests_received == 12 and server.requests_answered == 9


def test_concurrent_requests_overlap() -> None:
    n, latency = 32, 0.2
    with StandInServer(MODEL, latency_s=latency) as server:

        async def go() -> tuple[list, float]:
            async with aclient(server) as c:
                t0 = time.perf_counter()
                calls = [
                    c.chat.completions.create(model=MODEL, messages=user(f"q{i}")) for i in range(n)
                ]
                results = await asyncio.gather(*calls)
                return results, time.perf_counter() - t0

        results, elapsed = asyncio.run(go())
        assert elapsed < 2.0, f"{n} requests at {latency}s took {elapsed:.2f}s: serialised?"
        assert [json.loads(r.choices[0].message.content)["echo"] for r in results] == [
            f"q{i}" for i in range(n)
        ]
        assert server.requests_answered == n and server.max_in_flight >= n // 2
        assert len(server.request_log) == n
        server.reset()
        assert (server.requests_received, server.requests_answered, server.request_log) == (
            0,
            0,
            [],
        )
        assert server.max_in_flight == 0


def test_responder_is_pluggable_and_its_errors_are_500s(
    server: StandInServer, c: openai.OpenAI
) -> None:
    server.responder = lambda request: "not json at all"
    r = c.chat.completions.create(model=MODEL, messages=user("a"))
    assert r.choices[0].message.content == "not json at all" and r.usage.completion_tokens == 4

    def broken(request: dict) -> str:
        raise RuntimeError("boom")

    server.responder = broken
    with pytest.raises(openai.InternalServerError, match="boom"):
        c.chat.completions.create(model=MODEL, messages=user("a"))


def test_standalone_module_serves_until_ctrl_c() -> None:
    cmd = [sys.executable, "-m", "medbench.testing.openai_standin", "--port", "0", "--model", "m"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        try:
            base_url = proc.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
            with openai.OpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=10) as c:
                r = c.chat.completions.create(model="m", messages=user("hello"))
            assert json.loads(r.choices[0].message.content)["echo"] == "hello"
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
