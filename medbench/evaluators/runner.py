"""Run a model over tasks: read rows, ask the model what the cache does not hold, parse, score.

Resume: every answer is stored in a SQLite response cache (``medbench.llm.cache``) as soon as
its batch returns, committed before the next batch is sent. The key (``request_key``) is the
hash of the model fingerprint (model id and answer-changing arguments), the task name and
prompt-template hash, the sample id with the digest of its row (every field, images by
sha256: the per-sample data fingerprint), and the generation settings. Batch size is not part
of it, so a run killed at any point and restarted, with any batch size, asks the model only
for the samples whose answers were not stored. Failed requests are not stored (a rerun asks
again); raw answers are stored, never parsed ones, so a parser fix needs no new answers.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from medbench.evaluators.config import RunConfig, normalize_generation
from medbench.evaluators.metrics.aggregate import aggregate
from medbench.evaluators.models import EvalFailure, EvalRequest, load_model, model_fingerprint
from medbench.evaluators.tasks import TaskSpec, select_tasks
from medbench.evaluators.tasks.data import (
    DataError,
    Location,
    RowSource,
    data_root,
    image_columns,
    matches_filters,
    open_rows,
    resolve_location,
    schema_problems,
    to_row,
)
from medbench.llm.cache import CachedResponse, ResponseCache, cache_key

RESULTS_FORMAT = 1
CACHE_BACKEND = "medbench-eval"
READ_BATCH = 256
MAX_LISTED = 20  # skipped rows / failures listed by id in results.json

Progress = Callable[[str, int, int], None]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_digest(task: TaskSpec, row: BaseModel) -> str:
    """sha256 of a row: its fields as canonical JSON, its images by their sha256."""
    images = image_columns(type(row))
    fields = row.model_dump(exclude=set(images))
    for name in images:
        fields[name] = hashlib.sha256(getattr(row, name)).hexdigest()
    return hashlib.sha256(_canonical(fields).encode("utf-8")).hexdigest()


def request_key(
    model_fp: str, task: TaskSpec, request: EvalRequest, digest: str, generation: Mapping
) -> str:
    return cache_key(
        backend=CACHE_BACKEND,
        model=model_fp,
        prompt_id=task.name,
        prompt_hash=task.prompt_hash,
        messages=[{"sample_id": request.sample_id, "row_sha256": digest, "prompt": request.prompt}],
        sampling=dict(generation),
    )


@dataclass
class TaskRun:
    """One task's outcome: per-sample records (in row order) and counts."""

    task: TaskSpec
    location: str
    split: str
    generation: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)
    rows_in_split: int = 0
    rows_filtered_out: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cache_hits: int = 0
    generated: int = 0
    request_errors: int = 0
    parse_failures: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    digests: list[str] = field(default_factory=list)

    @property
    def data_fingerprint(self) -> str:
        return hashlib.sha256("\n".join(self.digests).encode("utf-8")).hexdigest()[:16]

    @property
    def task_fingerprint(self) -> str:
        text = f"{self.task.name}\n{self.task.prompt_hash}\n{self.data_fingerprint}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class _Pending:
    index: int
    row: BaseModel
    request: EvalRequest
    key: str
    digest: str


class Evaluation:
    """One run: a model, its tasks, the cache. ``run()`` evaluates every task in order."""

    def __init__(self, config: RunConfig, *, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress
        self.tasks = select_tasks(config.tasks)
        unknown = sorted(set(config.data) - {t.name for t in self.tasks})
        if unknown:
            raise DataError(f"--data names tasks not in --tasks: {', '.join(unknown)}")
        self.root = data_root(config.data_root)
        # data first: a missing folder should fail before a model is loaded
        self.sources: dict[str, tuple[Location, RowSource]] = {}
        for task in self.tasks:
            location = resolve_location(task, self.root, config.data.get(task.name))
            source = open_rows(task, location)
            problems = schema_problems(task, source.schema)
            if problems:
                raise DataError(
                    f"{task.name}: {source.location} does not match {task.row_model.__name__}: "
                    + "; ".join(problems)
                )
            self.sources[task.name] = (location, source)
        self.model = load_model(config.model, config.model_args, seed=config.seed)
        self.model_fp = model_fingerprint(self.model)
        batch = config.batch_size or getattr(self.model, "default_batch_size", None) or 1
        self.batch_size = int(batch)
        cache_file = config.cache_file()
        self.cache = ResponseCache(cache_file) if cache_file is not None else None

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        close = getattr(self.model, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Evaluation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ run

    def run(self) -> list[TaskRun]:
        return [self.run_task(task) for task in self.tasks]

    def run_task(self, task: TaskSpec) -> TaskRun:
        location, source = self.sources[task.name]
        generation = normalize_generation({**task.generation, **self.config.gen_kwargs})
        out = TaskRun(task, source.location, source.split, generation)
        out.rows_in_split = source.num_rows
        limit = self.config.limit
        total = min(source.num_rows, limit) if limit else source.num_rows
        base = location.path if location.path is not None and location.path.is_dir() else None
        with_reference = bool(getattr(self.model, "uses_reference", False))
        records: dict[int, dict[str, Any]] = {}
        pending: list[_Pending] = []
        seen: set[str] = set()
        done = 0

        def report() -> None:
            if self.progress is not None:
                self.progress(task.name, done, total)

        def finish(item: _Pending, answer: str | EvalFailure, cached: bool) -> None:
            nonlocal done
            records[item.index] = self._record(task, out, item, answer)
            out.cache_hits += int(cached)
            done += 1

        def flush() -> None:
            if not pending:
                return
            batch = list(pending)
            pending.clear()
            answers = self.model.generate([p.request for p in batch])
            if len(answers) != len(batch):
                raise RuntimeError(
                    f"model {self.model.model_id} answered {len(answers)} of {len(batch)} requests"
                )
            fresh = [
                (p.key, CachedResponse(parsed=None, raw=a, usage={}, attempts=1))
                for p, a in zip(batch, answers, strict=True)
                if isinstance(a, str)
            ]
            if self.cache is not None and fresh:
                self.cache.put_many(
                    fresh,
                    prompt_id=task.name,
                    prompt_hash=task.prompt_hash,
                    model=str(self.model.model_id),
                )
            out.generated += len(batch)
            for p, a in zip(batch, answers, strict=True):
                finish(p, a, cached=False)
            report()

        report()
        index = 0
        stop = False
        for raw_batch in source.batches(READ_BATCH):
            chunk: list[_Pending] = []
            for raw in raw_batch:
                if limit is not None and index >= limit:
                    stop = True
                    break
                if not matches_filters(task, raw):
                    out.rows_filtered_out += 1
                    continue
                row = to_row(task, raw, base)
                if row.sample_id in seen:
                    raise DataError(f"{task.name}: sample id {row.sample_id!r} appears twice")
                seen.add(row.sample_id)
                reason = task.check(row)
                if reason is not None:
                    out.skipped.append((row.sample_id, reason))
                    continue
                digest = row_digest(task, row)
                request = task.request(row, generation, with_reference=with_reference)
                key = request_key(self.model_fp, task, request, digest, generation)
                chunk.append(_Pending(index, row, request, key, digest))
                out.digests.append(digest)
                index += 1
            hits = self.cache.get_many(p.key for p in chunk) if self.cache is not None else {}
            for item in chunk:
                hit = hits.get(item.key)
                if hit is not None:
                    finish(item, hit.raw, cached=True)
                    continue
                pending.append(item)
                if len(pending) >= self.batch_size:
                    flush()
            report()
            if stop:
                break
        flush()
        total = done
        report()
        out.samples = [records[i] for i in sorted(records)]
        return out

    def _record(
        self, task: TaskSpec, out: TaskRun, item: _Pending, answer: str | EvalFailure
    ) -> dict[str, Any]:
        row = item.row
        record: dict[str, Any] = {
            "sample_id": row.sample_id,
            "index": item.index,
            "prompt_hash": task.prompt_hash,
            "request_hash": item.key[:16],
            "prompt": item.request.prompt,
        }
        if isinstance(answer, EvalFailure):
            out.request_errors += 1
            parsed_ok, parsed_value, note = False, None, f"request failed: {answer.reason}"
            metrics = task.score(task.parse("", row), row)
            record["error"] = answer.reason
            raw = None
        else:
            parsed = task.parse(answer, row)
            parsed_ok, parsed_value, note = parsed.ok, parsed.value, parsed.note
            metrics = task.score(parsed, row)
            out.parse_failures += int(not parsed.ok)
            for name, count in task.counters(parsed).items():
                out.counters[name] = out.counters.get(name, 0) + count
            raw = answer
        record.update(
            {
                "raw_output": raw,
                "parsed": parsed_value,
                "parse_ok": parsed_ok,
                "parse_note": note,
                "metrics": metrics,
                "subsets": task.subsets(row),
                "target": task.target(row),
            }
        )
        return record


# ------------------------------------------------------------------------------ summary


def summarize_task(run: TaskRun, *, seed: int, n_resamples: int) -> dict[str, Any]:
    """The results.json block of one task: scores with bootstrap CIs, per subset, counts."""
    task = run.task
    flat = [{**s["metrics"], **s["subsets"]} for s in run.samples]
    agg = aggregate(flat, task.metrics, by=task.subset_keys, n_resamples=n_resamples, seed=seed)
    metrics = {m: v for m, v in agg["overall"]["metrics"].items() if v["n"] > 0}
    subsets = {
        key: {
            value: {
                "n_samples": block["n_records"],
                "metrics": {m: v for m, v in block["metrics"].items() if v["n"] > 0},
            }
            for value, block in groups.items()
        }
        for key, groups in agg["groups"].items()
    }
    return {
        "kind": task.kind,
        "description": task.description,
        "source": task.source,
        "task_fingerprint": run.task_fingerprint,
        "prompt_hash": task.prompt_hash,
        "generation": run.generation,
        "data": {
            "location": run.location,
            "split": run.split,
            "fingerprint": run.data_fingerprint,
            "rows_in_split": run.rows_in_split,
            "rows_filtered_out": run.rows_filtered_out,
            "filters": dict(task.data.filters),
            "rows_skipped": len(run.skipped),
            "skipped": [{"sample_id": s, "reason": r} for s, r in run.skipped[:MAX_LISTED]],
        },
        "counts": {
            "samples": len(run.samples),
            "parse_failures": run.parse_failures,
            "request_errors": run.request_errors,
            "cache_hits": run.cache_hits,
            "generated": run.generated,
            **run.counters,
        },
        "parse_failure_ids": [
            s["sample_id"] for s in run.samples if not s["parse_ok"] and "error" not in s
        ][:MAX_LISTED],
        "metrics": metrics,
        "subsets": subsets,
        "bootstrap": agg["settings"],
    }


def write_samples(run: TaskRun, out_dir: Path) -> Path:
    path = out_dir / f"samples_{run.task.name}.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for record in run.samples:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    tmp.replace(path)
    return path


_SECRET_HINTS = ("key", "token", "secret", "password")


def _redacted(args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: ("<redacted>" if any(h in k.lower() for h in _SECRET_HINTS) else v)
        for k, v in args.items()
    }


def evaluate(config: RunConfig, *, progress: Progress | None = None) -> tuple[dict[str, Any], Path]:
    """Run every task, write the output folder, return (results, folder)."""
    from medbench.evaluators import report
    from medbench.evaluators.provenance import git_state, package_versions

    started = time.time()
    git = git_state()
    with Evaluation(config, progress=progress) as ev:
        out_dir = config.results_dir(str(ev.model.model_id))
        out_dir.mkdir(parents=True, exist_ok=True)
        tasks: dict[str, Any] = {}
        for task in ev.tasks:
            run = ev.run_task(task)
            write_samples(run, out_dir)
            tasks[task.name] = summarize_task(
                run, seed=config.seed, n_resamples=config.bootstrap_resamples
            )
        model = {
            "name": config.model,
            "model_id": str(ev.model.model_id),
            "args": _redacted(config.model_args),
            "fingerprint": ev.model_fp,
        }
        batch_size = ev.batch_size
        cache_file = config.cache_file()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    results: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "run_id": f"{stamp}" + (f"-g{git['commit'][:8]}" if git else ""),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_s": round(time.time() - started, 3),
        "model": model,
        "seed": config.seed,
        "config": {
            **json.loads(config.model_dump_json()),
            "model_args": _redacted(config.model_args),
            "batch_size": batch_size,
            "cache": str(cache_file) if cache_file else None,
            "output_dir": str(out_dir),
        },
        "versions": package_versions(),
        "git": git,
        "tasks": tasks,
    }
    report.write_results_json(results, out_dir)
    report.write_markdown(results, out_dir)
    if config.plots:
        for name, block in tasks.items():
            report.plot_task(name, block, out_dir)
    return results, out_dir
