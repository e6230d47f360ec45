"""LLM layer throughput: medbench's concurrent client against the ideal and a sequential loop.

Starts the stand-in OpenAI-compatible server (``medbench.testing.openai_standin``) in a
separate process, so its threads do not share the GIL with the client being measured, with
a fixed latency per request and a responder that answers valid attribute-question JSON
(``{"questions": [three distinct strings]}``). Then, in one run, it measures:

(a) medbench: ``LLMClient`` (openai backend, cache off) runs ``--requests`` distinct
    ``vgmed-attribute-ct`` requests (one label each) with ``--concurrency`` C; achieved
    req/s against the ideal C / latency (target >= 0.8); median of ``--repeat`` runs;
(b) naive: the same requests one after another through the plain synchronous ``openai``
    client (concurrency 1; ideal 1 / latency), on ``--baseline-requests`` of them;
(c) plain ``openai.AsyncOpenAI`` with an ``asyncio.Semaphore(C)`` over the same requests:
    what medbench's layer (keys, validation, stats) costs on top of the client it uses;
(d) the ceiling: (a) and (c) against a second server with zero latency, i.e. the most one
    client process does on this machine (its CPU per request is printed too);
(e) request counts of a demo VGMED build (all layout replicas, template backend): medbench
    asks once per unique (modality, label), a naive pipeline once per attribute row.

Every run uses labels no other run used, so nothing is merged or cached across runs.

Run ``--help`` for options. ``--serve`` is internal: it is the server process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import openai

from medbench.llm.outputs import output_model
from medbench.llm.runner import LLMClient, LLMRequest, LLMStats
from medbench.llm.settings import LLMSettings
from medbench.llm.structured import parse_output, response_format
from medbench.prompts.templates import load_template
from medbench.testing.openai_standin import StandInServer, last_user_text

MODEL = "stand-in"
TEMPLATE = "vgmed-attribute-ct"
TARGET = 0.8  # achieved / ideal throughput


# --------------------------------------------------------------------------------------
# the server process
# --------------------------------------------------------------------------------------


def attribute_responder(request: dict[str, Any]) -> str:
    """Three distinct questions naming the label of the prompt's ``Label:`` line."""
    text = last_user_text(request)
    label = text.split("Label:", 1)[1].splitlines()[0].strip() if "Label:" in text else "it"
    questions = [
        f"What is the shape of the {label}?",
        f"How large does the {label} appear?",
        f"Is the {label} brighter or darker than its surroundings?",
    ]
    return json.dumps({"questions": questions})


def serve(latency: float) -> None:
    """Print the base URL, then answer one command per stdin line: ``stats`` prints the
    counters as JSON, ``reset`` zeroes them; end of stdin stops the server."""
    with StandInServer(MODEL, attribute_responder, latency_s=latency) as server:
        print(server.base_url, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                server.reset()
            counters = {
                "received": server.requests_received,
                "answered": server.requests_answered,
                "max_in_flight": server.max_in_flight,
            }
            print(json.dumps(counters), flush=True)


class ServerProcess:
    """The stand-in in a child process (``--serve``); it stops when its stdin closes."""

    def __init__(self, latency: float):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self._line().strip()
        if not self.base_url.startswith("http://"):
            raise RuntimeError(f"stand-in server did not start: {self.base_url!r}")

    def _line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def command(self, name: str) -> dict[str, int]:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write(name + "\n")
        stdin.flush()
        return json.loads(self._line())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------


def make_requests(count: int, tag: str = "") -> list[LLMRequest]:
    """``count`` distinct requests: one made-up CT structure label each."""
    template = load_template(TEMPLATE)
    return [
        LLMRequest.of(template, modality="CT", label=f"structure {tag}{i:05d}")
        for i in range(count)
    ]


def run_medbench(
    base_url: str, concurrency: int, requests: list[LLMRequest]
) -> tuple[float, LLMStats]:
    settings = LLMSettings(
        backend="openai", base_url=base_url, model=MODEL, concurrency=concurrency, no_cache=True
    )
    with LLMClient(settings) as client:
        start = time.perf_counter()
        results = client.run(requests)
        seconds = time.perf_counter() - start
    bad = [r.error for r in results if r.output is None]
    if bad:
        raise RuntimeError(f"{len(bad)} requests failed, e.g. {bad[0]}")
    return seconds, client.last_stats


def run_naive(base_url: str, requests: list[LLMRequest]) -> float:
    """One request at a time with the synchronous ``openai`` client, same messages, same
    response_format, answers parsed and validated the same way."""
    client = openai.OpenAI(api_key="EMPTY", base_url=base_url, max_retries=0)
    try:
        start = time.perf_counter()
        for request in requests:
            model = output_model(request.template.output)
            response = client.chat.completions.create(
                model=MODEL,
                messages=request.messages(),  # type: ignore[arg-type]
                response_format=response_format(request.template.output, model),  # type: ignore[arg-type]
                **request.sampling,
            )
            parse_output(response.choices[0].message.content or "", model, request.variables)
        return time.perf_counter() - start
    finally:
        client.close()


async def _plain_async(base_url: str, concurrency: int, requests: list[LLMRequest]) -> float:
    client = openai.AsyncOpenAI(api_key="EMPTY", base_url=base_url, max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(request: LLMRequest) -> None:
        model = output_model(request.template.output)
        async with gate:
            response = await client.chat.completions.create(
                model=MODEL,
                messages=request.messages(),  # type: ignore[arg-type]
                response_format=response_format(request.template.output, model),  # type: ignore[arg-type]
                **request.sampling,
            )
        parse_output(response.choices[0].message.content or "", model, request.variables)

    try:
        start = time.perf_counter()
        await asyncio.gather(*(one(r) for r in requests))
        return time.perf_counter() - start
    finally:
        await client.close()


def run_plain_async(base_url: str, concurrency: int, requests: list[LLMRequest]) -> float:
    """The openai client's own async path, no medbench: gather under a semaphore."""
    return asyncio.run(_plain_async(base_url, concurrency, requests))


class Runs:
    """Repeated timed runs of ``count`` fresh distinct requests: wall and client CPU."""

    def __init__(self, name: str, count: int):
        self.name, self.count = name, count
        self.seconds: list[float] = []
        self.cpu: list[float] = []

    def time(self, fn: Callable[..., float], repeat: int, *args: Any) -> Runs:
        """``fn(*args, requests)`` returns the seconds it timed; CPU is this process's."""
        for _ in range(repeat):
            requests = make_requests(self.count, f"{self.name}-{len(self.seconds)}-")
            cpu = time.process_time()
            self.seconds.append(fn(*args, requests))
            self.cpu.append(time.process_time() - cpu)
        return self

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.count / self.wall

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) / self.count * 1e3

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.count,
            "seconds": self.seconds,
            "client_cpu_seconds": self.cpu,
            "median_req_per_s": self.rate,
            "median_client_cpu_ms_per_req": self.cpu_ms,
        }


def demo_request_counts(workers: int) -> dict[str, Any]:
    """Build VGMED from every demo replica (template backend) and count the LLM requests
    medbench makes (unique (modality, label)) against the attribute rows."""
    from medbench.builders.vgmed.build import BuildConfig, build_vgmed
    from medbench.builders.vgmed.questions import template_attribute_source
    from medbench.demo import REPLICAS, write_demo_root

    with tempfile.TemporaryDirectory(prefix="medbench-llm-bench-") as tmp:
        root = Path(tmp)
        write_demo_root(root / "sources")
        source = template_attribute_source(0)
        config = BuildConfig(source_root=root / "sources", out=root / "out", workers=workers)
        result = build_vgmed(config, source)
    pairs = {(c.modality, c.label) for c in result.selected}
    return {
        "datasets": len(REPLICAS),
        "rows": result.rows,
        "attribute_rows": result.question_counts.get("attribute", 0),
        "unique_pairs": len(pairs),
        "requests": source.requests,
        "modalities": len({m for m, _ in pairs}),
    }


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=512, help="distinct requests per run")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight (C)")
    ap.add_argument("--latency", type=float, default=0.25, help="server seconds per request")
    ap.add_argument("--repeat", type=int, default=3, help="runs of (a), (c), (d); median shown")
    ap.add_argument(
        "--baseline-requests", type=int, default=32, help="requests of the sequential run (b)"
    )
    ap.add_argument("--workers", type=int, default=2, help="extraction workers of the build (e)")
    ap.add_argument("--no-build", action="store_true", help="skip the demo build (e)")
    ap.add_argument("--json-out", type=Path, help="write all numbers as JSON here")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args.latency)
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    n, c, latency, repeat = args.requests, args.concurrency, args.latency, args.repeat
    nb = min(args.baseline_requests, n)
    stats: list[LLMStats] = []

    def medbench(base_url: str, concurrency: int, requests: list[LLMRequest]) -> float:
        seconds, run_stats = run_medbench(base_url, concurrency, requests)
        stats.append(run_stats)
        return seconds

    with ServerProcess(latency) as server:
        log(f"stand-in server (separate process) at {server.base_url}, latency {latency:g} s")
        medbench(server.base_url, c, make_requests(min(c, n), "warm-"))  # connections, imports
        server.command("reset")
        log(f"(a) medbench LLMClient: {repeat} x {n} requests, concurrency {c} ...")
        ours = Runs("medbench", n).time(medbench, repeat, server.base_url, c)
        counters = server.command("stats")
        log(f"(b) naive: sequential openai client, {nb} requests ...")
        naive = Runs("naive", nb).time(run_naive, 1, server.base_url)
        log(f"(c) plain AsyncOpenAI + semaphore: {repeat} x {n} requests ...")
        plain = Runs("plain", n).time(run_plain_async, repeat, server.base_url, c)
    with ServerProcess(0.0) as server:
        log(f"(d) ceiling, zero latency: {repeat} x {n} requests each ...")
        medbench(server.base_url, c, make_requests(min(c, n), "warm0-"))
        ceiling = Runs("medbench0", n).time(medbench, repeat, server.base_url, c)
        plain_ceiling = Runs("plain0", n).time(run_plain_async, repeat, server.base_url, c)

    ideal = c / latency
    ratio = ours.rate / ideal
    bad = [s for s in stats if s.calls != s.unique or s.repairs or s.failures]
    first = stats[1]  # the first measured run of (a)
    print()
    print(
        f"{n} distinct requests ({TEMPLATE}) per run, server latency {latency:g} s, "
        f"concurrency {c}, median of {repeat} runs"
    )
    print(f"{'':<40}{'seconds':>9}{'req/s':>9}{'ideal':>9}{'CPU ms/req':>12}")

    def row(name: str, runs: Runs, ideal_rate: float | None) -> None:
        cells = f"{runs.wall:>9.2f}{runs.rate:>9.1f}"
        cells += f"{ideal_rate:>9.1f}" if ideal_rate else f"{'':>9}"
        print(f"{name:<40}{cells}{runs.cpu_ms:>12.2f}")

    row(f"(a) medbench LLMClient, C={c}", ours, ideal)
    row(f"(b) naive sequential openai ({nb} req)", naive, 1 / latency)
    row(f"(c) plain AsyncOpenAI + semaphore, C={c}", plain, ideal)
    row("(d) medbench, zero latency (ceiling)", ceiling, None)
    row("(d) plain AsyncOpenAI, zero latency", plain_ceiling, None)
    print(
        f"server saw {counters['received']} requests in (a), at most {counters['max_in_flight']} "
        f"in flight; first run: {first.calls} calls, {first.repairs} repairs, "
        f"{first.failures} failures" + (f"; {len(bad)} runs NOT clean" if bad else "")
    )
    print()
    print(f"{'target':<40}{'value':>8}  {'goal':<8}result")
    verdict = "PASS" if ratio >= TARGET else "MISS"
    print(f"{'medbench / ideal (C / latency)':<40}{ratio:>7.2f}x  >= {TARGET:<5}{verdict}")
    shown = [
        ("  (medbench / naive sequential)", ours.rate / naive.rate),
        ("  (medbench / plain AsyncOpenAI)", ours.rate / plain.rate),
        ("  (plain AsyncOpenAI / ideal)", plain.rate / ideal),
        ("  (medbench / plain, zero latency)", ceiling.rate / plain_ceiling.rate),
    ]
    for name, value in shown:
        print(f"{name:<40}{value:>7.2f}x")
    print(f"{'  (ideal / medbench zero-latency ceiling)':<40}{ideal / ceiling.rate:>7.2f}x")
    if ideal > ceiling.rate:
        print(
            f"note: the ideal {ideal:.0f} req/s exceeds what one client process does here "
            f"({ceiling.rate:.0f} req/s at zero latency, ~{ceiling.cpu_ms:.1f} ms of client CPU "
            "per request), so the ratio measures that CPU cost, not the overlap; raise "
            "--latency or lower --concurrency"
        )

    out: dict[str, Any] = {
        "params": {
            **{k: v for k, v in vars(args).items() if k not in ("serve", "json_out")},
            "template": TEMPLATE,
        },
        "ideal_req_per_s": ideal,
        "ratio": ratio,
        "target": TARGET,
        "result": verdict,
        "medbench": ours.as_dict(),
        "naive_sequential": naive.as_dict(),
        "plain_async": plain.as_dict(),
        "ceiling_medbench": ceiling.as_dict(),
        "ceiling_plain_async": plain_ceiling.as_dict(),
        "server_counters": counters,
        "llm_stats_first_run": first.as_dict(),
    }

    if not args.no_build:
        log("(e) demo VGMED build (template backend) ...")
        counts = demo_request_counts(args.workers)
        out["demo_build"] = counts
        print()
        print(
            f"(e) demo VGMED build, {counts['datasets']} replicas: {counts['rows']} rows, "
            f"{counts['attribute_rows']} attribute rows, {counts['unique_pairs']} unique "
            f"(modality, label) over {counts['modalities']} modalities"
        )
        print(f"{'  LLM requests, medbench (per unique pair)':<46}{counts['requests']:>6}")
        print(f"{'  LLM requests, naive (per attribute row)':<46}{counts['attribute_rows']:>6}")
        saved = counts["attribute_rows"] / max(counts["requests"], 1)
        print(f"{'  naive / medbench':<46}{saved:>5.2f}x")

    if args.json_out:
        args.json_out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
