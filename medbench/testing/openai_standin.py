"""A stand-in for an OpenAI-compatible chat-completions server (vLLM `vllm serve`, OpenAI), stdlib
only, serving on 127.0.0.1 from a background thread, for tests and throughput benchmarks of clients
built on the real `openai` client.

Endpoints: ``GET /v1/models``, ``GET /health`` and ``POST /v1/chat/completions`` (non-streaming;
``stream: true`` answers 400). Error bodies have the OpenAI shape
``{"error": {"message", "type", "param", "code"}}`` (vLLM uses the same envelope).

Token counts in ``usage`` are whitespace-split words, not model tokens: ``prompt_tokens`` counts
the words of the text of all messages (text parts only, images count 0), ``completion_tokens``
the words of the answer content.

A chat request is handled in this order: parse and record it (``requests_received``,
``request_log``), validate it (400/404, no fault consumed, no latency), pick a fault (the ``fault``
hook first, then the "next N" counters), sleep ``latency_s``, then answer (fault, or the
responder's content with HTTP 200, counted in ``requests_answered``).

Standalone: ``python -m medbench.testing.openai_standin --port 8000 --latency 0.05 --model m``
prints the base URL and serves until Ctrl-C (``--port 0`` picks a free port).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Fault = Literal["500", "429", "drop", "malformed"]
Responder = Callable[[dict[str, Any]], str]
FaultHook = Callable[[dict[str, Any]], Fault | None]
Reply = tuple[int, dict[str, Any], dict[str, str]]

# The content of a "malformed" answer: looks like the start of a JSON object but does not parse.
MALFORMED_CONTENT = '{"answer": "unterminated <<garbage'


def message_text(message: dict[str, Any]) -> str:
    """The text of one chat message: a string content, or its text parts joined by newlines."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(str(p.get("text", "")) for p in parts)
    return ""


def last_user_message(request: dict[str, Any]) -> dict[str, Any]:
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return message
    return {}


def last_user_text(request: dict[str, Any]) -> str:
    """The text of the last user message of a chat request ('' if none)."""
    return message_text(last_user_message(request))


def echo_responder(request: dict[str, Any]) -> str:
    """Default answer: ``{"echo": <last user text>, "images": <image parts in it>}`` as JSON."""
    content = last_user_message(request).get("content")
    parts = content if isinstance(content, list) else []
    images = sum(1 for p in parts if isinstance(p, dict) and p.get("type") == "image_url")
    return json.dumps({"echo": last_user_text(request), "images": images})


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    standin: StandInServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # client went away: not our problem
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK stall
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            self._send_json(200, self.server.standin.models_payload(), {})
        elif path == "/health":
            self._send_json(200, {}, {})
        else:
            self._send_json(404, error_body(f"no route {path}", "NotFoundError"), {})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0].rstrip("/")
        if path != "/v1/chat/completions":
            self._send_json(404, error_body(f"no route {path}", "NotFoundError"), {})
            return
        reply = self.server.standin.chat(raw)
        if reply is None:  # "drop": close the connection without writing a byte
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send_json(*reply)


class StandInServer:
    """OpenAI-compatible chat-completions stand-in; use as a context manager (or start/stop).

    Settings are plain attributes, safe to change while serving: ``model``, ``responder``,
    ``json_schema``, ``latency_s``, ``check_model``, ``retry_after``, ``fault`` (per-request hook)
    and the "next N requests" fault counters ``fail_500``, ``rate_limit_429``,
    ``drop_connection``, ``malformed`` (each decremented as it is used).
    """

    def __init__(
        self,
        model: str = "stand-in",
        responder: Responder | None = None,
        *,
        json_schema: bool = True,
        latency_s: float = 0.0,
        check_model: bool = True,
        fault: FaultHook | None = None,
        retry_after: str = "0",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.model = model
        self.responder: Responder = responder or echo_responder
        self.json_schema = json_schema  # False: any response_format (even "text") answers 400
        self.latency_s = latency_s
        self.check_model = check_model  # True: another model name answers 404, like vLLM
        self.fault: FaultHook | None = fault  # request -> "500"|"429"|"drop"|"malformed"|None
        self.retry_after = retry_after  # Retry-After header value of 429 answers
        self.fail_500 = 0
        self.rate_limit_429 = 0
        self.drop_connection = 0
        self.malformed = 0
        self._lock = threading.Lock()
        self._received = 0
        self._answered = 0
        self._log: list[dict[str, Any]] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.standin = self
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}/v1"
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> StandInServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ counters

    @property
    def requests_received(self) -> int:
        """Chat-completion POSTs received (any outcome, including invalid ones)."""
        with self._lock:
            return self._received

    @property
    def requests_answered(self) -> int:
        """Chat completions answered with HTTP 200 (including "malformed" ones)."""
        with self._lock:
            return self._answered

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """A copy of the parsed bodies of the chat requests received, in arrival order."""
        with self._lock:
            return list(self._log)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most chat requests handled at the same time (a check that a client overlaps)."""
        with self._lock:
            return self._max_in_flight

    def reset(self) -> None:
        """Zero the counters and clear the log (settings and pending faults are kept)."""
        with self._lock:
            self._received = self._answered = self._max_in_flight = 0
            self._log.clear()

    # ------------------------------------------------------------------ handling

    def models_payload(self) -> dict[str, Any]:
        card = {"id": self.model, "object": "model", "created": 0, "owned_by": "medbench-standin"}
        return {"object": "list", "data": [card]}

    def _take_fault(self, request: dict[str, Any]) -> Fault | None:
        hook = self.fault
        if hook is not None and (kind := hook(request)) is not None:
            return kind
        with self._lock:
            for attr, kind in (
                ("drop_connection", "drop"),
                ("fail_500", "500"),
                ("rate_limit_429", "429"),
                ("malformed", "malformed"),
            ):
                if getattr(self, attr) > 0:
                    setattr(self, attr, getattr(self, attr) - 1)
                    return kind
        return None

    def _invalid(self, request: Any) -> Reply | None:
        def bad(message: str, param: str | None = None) -> Reply:
            return 400, error_body(message, "invalid_request_error", param), {}

        messages = request.get("messages") if isinstance(request, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return bad("'messages' must be a list of objects", "messages")
        if self.check_model and request.get("model") != self.model:
            message = f"The model `{request.get('model')}` does not exist."
            return 404, error_body(message, "NotFoundError", "model"), {}
        if request.get("stream"):
            return bad("stream=true is not supported by this stand-in server", "stream")
        fmt, param = request.get("response_format"), "response_format"
        if fmt is not None:
            if not self.json_schema:
                return bad("response_format is not supported by this server", param)
            kind = fmt.get("type") if isinstance(fmt, dict) else None
            schema = fmt.get("json_schema") if isinstance(fmt, dict) else None
            if kind == "json_schema" and not (
                isinstance(schema, dict) and isinstance(schema.get("schema"), dict)
            ):
                return bad("response_format.json_schema.schema must be an object", param)
            if kind not in ("json_schema", "json_object", "text"):
                return bad(f"unknown response_format type {kind!r}", param)
        return None

    def chat(self, raw: bytes) -> Reply | None:
        """Answer one chat-completions body: (status, payload, headers), or None to drop it."""
        with self._lock:
            self._received += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            return self._chat(raw)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _chat(self, raw: bytes) -> Reply | None:
        try:
            request = json.loads(raw)
        except ValueError:
            return 400, error_body("request body is not valid JSON", "invalid_request_error"), {}
        if isinstance(request, dict):
            with self._lock:
                self._log.append(request)
        if (invalid := self._invalid(request)) is not None:
            return invalid
        kind = self._take_fault(request)
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        if kind == "drop":
            return None
        if kind == "500":
            message = "The server had an error while processing your request (injected)."
            return 500, error_body(message, "server_error"), {}
        if kind == "429":
            message = "Rate limit reached (injected)."
            body = error_body(message, "requests", None, "rate_limit_exceeded")
            return 429, body, {"Retry-After": self.retry_after}
        if kind == "malformed":
            content = MALFORMED_CONTENT
        else:
            try:
                content = self.responder(request)
            except Exception as exc:  # a broken responder is a server error, not a hang
                return 500, error_body(f"responder failed: {exc!r}", "server_error"), {}
        prompt_tokens = sum(len(message_text(m).split()) for m in request["messages"])
        completion_tokens = len(content.split())
        with self._lock:
            self._answered += 1
        return (
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            {},
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds slept per request")
    parser.add_argument("--model", default="stand-in")
    parser.add_argument("--no-json-schema", action="store_true", help="400 on response_format")
    args = parser.parse_args(argv)
    server = StandInServer(
        args.model,
        json_schema=not args.no_json_schema,
        latency_s=args.latency,
        host=args.host,
        port=args.port,
    )
    with server:
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
