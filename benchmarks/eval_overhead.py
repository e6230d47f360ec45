"""Eval harness overhead: ``medbench eval`` against a bare loop, with a model of fixed speed.

A stand-in model that sleeps a fixed ``--per-sample`` seconds per request (a batch of B
sleeps B times that) and answers each request with its ground truth (so the parsers see real
answers and every scoring path runs) is evaluated on ``--samples`` synthetic rows
(``medbench.evaluators.synthetic``: half ``vqa-rad`` rows, all five question styles, half
``vgmed-grounding`` localization rows), at each ``--batch-sizes`` B, in two ways:

harness: ``medbench.evaluators.runner.evaluate`` end to end, as ``medbench eval run`` does
    it: data checks, the response cache (a fresh SQLite file per run, so every sample is
    asked: cache writes, no hits), parsing, scoring, ``samples_<task>.jsonl``,
    bootstrap CIs (1000 resamples), ``results.json`` and ``results.md``, provenance (git,
    package versions). Per-subset plots are off (``--plots`` turns them on): matplotlib
    costs ~0.3 s per task once per run, whatever the number of samples.
bare loop: what one would write without a harness: read the same shards with the same
    reader (``open_rows``, ``to_row``), build the same requests (``task.request``: prompt,
    images, reference), call the same model in batches of B, keep the raw answers. No
    parsing, scoring, cache or files: the harness is charged for all of those.

Both sides get the same model object type and the same rows; their ratio of wall times is
the harness's overhead (target <= 1.05). Runs alternate (bare, harness) per batch size and
repeat ``--repeat`` times; medians are shown. One untimed warm-up of each side first
(imports, page cache). The samples files of every harness run are compared: they must be
byte-identical across batch sizes and repeats.

Run ``--help`` for options.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medbench.evaluators import models
from medbench.evaluators.config import RunConfig, normalize_generation
from medbench.evaluators.models.base import BaseEvalModel, EvalFailure, EvalRequest
from medbench.evaluators.runner import evaluate
from medbench.evaluators.synthetic import vgmed_rows, vqa_rows, write_rows
from medbench.evaluators.tasks import get_task
from medbench.evaluators.tasks.data import (
    data_root,
    matches_filters,
    open_rows,
    resolve_location,
    to_row,
)
from medbench.schemas.vgmed import VGMED_ARROW_SCHEMA
from medbench.schemas.vqa import VQA_ARROW_SCHEMA

TARGET = 1.05  # harness wall / bare-loop wall
MODEL = "overhead-standin"
TASKS = ("vqa-rad", "vgmed-grounding")


class StandInModel(BaseEvalModel):
    """Sleeps ``per_sample`` seconds per request, then answers each with its ground truth."""

    name = MODEL
    description = "benchmark stand-in: fixed seconds per sample, answers the ground truth"
    uses_reference = True

    def __init__(self, per_sample: float | str = 0.010, **args: Any) -> None:
        if args:
            raise ValueError(f"unexpected arguments {sorted(args)}")
        self.per_sample = float(per_sample)
        self.model_id = MODEL
        self.calls = 0

    def fingerprint_args(self) -> Mapping[str, Any]:
        return {"per_sample": self.per_sample}

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]:
        self.calls += 1
        time.sleep(self.per_sample * len(batch))
        return [r.reference if r.reference is not None else "" for r in batch]


def register() -> None:
    """Make the stand-in loadable by name, as a built-in (what ``--model`` resolves)."""
    models.BUILTIN_MODELS[MODEL] = models.ModelInfo(
        MODEL, "builtin", f"{StandInModel.__module__}:StandInModel", StandInModel.description
    )


def write_data(root: Path, samples: int) -> dict[str, int]:
    """``samples`` rows over the two tasks (vqa-rad gets the odd one); returns rows per task."""
    n_vqa = samples - samples // 2
    n_grounding = samples // 2
    write_rows(root / "vqa-rad", "test", VQA_ARROW_SCHEMA, vqa_rows("vqa-rad", n_vqa))
    # attribute_every=0: every row a localization question (none filtered out)
    rows = vgmed_rows(n_grounding, attribute_every=0)
    write_rows(root / "vgmed", "test", VGMED_ARROW_SCHEMA, rows)
    return {"vqa-rad": n_vqa, "vgmed-grounding": n_grounding}


def run_bare(root: Path, batch_size: int, per_sample: float) -> tuple[float, int]:
    """The bare loop: same rows, same requests, same model; raw answers kept, nothing else."""
    start = time.perf_counter()
    model = StandInModel(per_sample)
    answers: list[str | EvalFailure] = []
    for name in TASKS:
        task = get_task(name)
        location = resolve_location(task, data_root(root))
        source = open_rows(task, location)
        base = location.path
        generation = normalize_generation(dict(task.generation))
        pending: list[EvalRequest] = []
        for raw_batch in source.batches():
            for raw in raw_batch:
                if not matches_filters(task, raw):
                    continue
                row = to_row(task, raw, base)
                pending.append(task.request(row, generation, with_reference=True))
                if len(pending) == batch_size:
                    answers += model.generate(pending)
                    pending = []
        if pending:
            answers += model.generate(pending)
    return time.perf_counter() - start, len(answers)


def run_harness(
    root: Path, work: Path, batch_size: int, per_sample: float, plots: bool, tag: str
) -> tuple[float, dict[str, Any], Path]:
    out = work / f"out-{tag}"
    config = RunConfig(
        model=MODEL,
        model_args={"per_sample": per_sample},
        tasks=list(TASKS),
        data_root=root,
        cache=work / f"cache-{tag}.sqlite",  # fresh: every sample is generated and stored
        output_dir=out,
        batch_size=batch_size,
        plots=plots,
    )
    start = time.perf_counter()
    results, out_dir = evaluate(config)
    return time.perf_counter() - start, results, out_dir


def samples_bytes(out_dir: Path) -> bytes:
    return b"".join((out_dir / f"samples_{name}.jsonl").read_bytes() for name in TASKS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=400, help="rows over both tasks")
    ap.add_argument("--per-sample", type=float, default=0.010, help="model seconds per sample")
    ap.add_argument("--batch-sizes", default="1,8", help="comma-separated batch sizes")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each side; median")
    ap.add_argument("--plots", action="store_true", help="let the harness draw its plots")
    ap.add_argument("--workdir", type=Path, help="where data and outputs go (default: a temp dir)")
    ap.add_argument("--json-out", type=Path, help="write all numbers as JSON here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    register()
    sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    tmp = None
    if args.workdir is None:
        tmp = tempfile.mkdtemp(prefix="medbench-eval-overhead-")
        work = Path(tmp)
    else:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    try:
        root = work / "data"
        shutil.rmtree(root, ignore_errors=True)
        counts = write_data(root, args.samples)
        n = sum(counts.values())
        log(f"data: {counts} under {root}; model {args.per_sample * 1e3:g} ms per sample")
        # warm-up: imports, page cache, the first bootstrap
        run_bare(root, sizes[0], 0.0)
        run_harness(root, work, sizes[0], 0.0, args.plots, "warm")
        bare: dict[int, list[float]] = {b: [] for b in sizes}
        harness: dict[int, list[float]] = {b: [] for b in sizes}
        reference: bytes | None = None
        identical = True
        for rep in range(args.repeat):
            for b in sizes:
                seconds, answered = run_bare(root, b, args.per_sample)
                if answered != n:
                    raise RuntimeError(f"bare loop answered {answered} of {n}")
                bare[b].append(seconds)
                seconds, results, out_dir = run_harness(
                    root, work, b, args.per_sample, args.plots, f"b{b}-r{rep}"
                )
                harness[b].append(seconds)
                done = sum(t["counts"]["generated"] for t in results["tasks"].values())
                if done != n:
                    raise RuntimeError(f"harness generated {done} of {n}")
                samples = samples_bytes(out_dir)
                reference = reference if reference is not None else samples
                identical &= samples == reference
                log(
                    f"  run {rep + 1}/{args.repeat}, batch {b}: bare {bare[b][-1]:.3f} s, "
                    f"harness {harness[b][-1]:.3f} s"
                )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    ideal = n * args.per_sample
    print()
    print(
        f"{n} samples ({', '.join(f'{k} {v}' for k, v in counts.items())}), model "
        f"{args.per_sample * 1e3:g} ms per sample (ideal {ideal:.2f} s), median of "
        f"{args.repeat} runs" + ("" if not args.plots else ", plots on")
    )
    print(
        f"{'batch':>5}{'bare s':>9}{'harness s':>11}{'ratio':>8}{'ms/sample':>11}"
        f"  {'goal':<8}result"
    )
    out: dict[str, Any] = {
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "samples": counts,
        "target": TARGET,
        "batch_sizes": {},
    }
    all_pass = True
    for b in sizes:
        wb, wh = statistics.median(bare[b]), statistics.median(harness[b])
        ratio = wh / wb
        verdict = "PASS" if ratio <= TARGET else "MISS"
        all_pass &= verdict == "PASS"
        extra_ms = (wh - wb) / n * 1e3
        print(
            f"{b:>5}{wb:>9.3f}{wh:>11.3f}{ratio:>7.3f}x{extra_ms:>11.2f}  <= {TARGET:<5}{verdict}"
        )
        out["batch_sizes"][str(b)] = {
            "bare_s": bare[b],
            "harness_s": harness[b],
            "median_ratio": ratio,
            "overhead_ms_per_sample": extra_ms,
            "result": verdict,
        }
    print(f"samples files identical across batch sizes and runs: {'yes' if identical else 'NO'}")
    out["samples_identical"] = identical
    if args.json_out:
        args.json_out.write_text(json.dumps(out, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
