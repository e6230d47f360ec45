"""Run a model over tasks: read rows, ask the model what the cache does not hold, parse, score.

Resume: every answer is stored in a SQLite response cache (``medbench.llm.cache``, durable
commits) as soon as its batch returns. The key (``request_key``) is the hash of the model
fingerprint (model id and answer-changing arguments), the task name and prompt-template hash,
the sample id with the digest of its row (every field, images by sha256: the per-sample data
fingerprint), and the generation settings. Batch size is not part of it, so a run killed at
any point and restarted, with any batch size, asks the model only for the samples whose
answers were not stored. Failed requests are not stored (a rerun asks again); raw answers are
stored, never parsed ones, so a parser fix needs no new answers.

Off the model's path: the model is always called from the thread that runs the task, and
everything else that can wait runs on background threads, in order, while the model works:
cache commits (``_CacheWriter``), parsing, scoring and the per-sample records (one thread, in
answer order, so the output does not depend on timing or batch size), and each task's samples
file and bootstrap plus the provenance (git, package versions) in ``evaluate``.

Commits: the writer thread commits everything queued in one transaction, so a durable commit
(an fsync: ~0.5-1 ms on a local disk, more on a slow or busy one) need not stall a fast
model. What a kill (SIGKILL, OOM, power loss) can lose, precisely:

* before the model is asked for batch k+1, every batch up to k-1 is committed (the harness
  waits for it); batch k is committed too (waited for) whenever the last commit took at most
  ``COMMIT_WAIT_SHARE`` (2 %) of batch k's model time, i.e. for any model slower than ~50
  commits a batch (~25-50 ms on a local disk): then, as before, a kill loses only the batch
  in flight, never an answer the harness received;
* for a faster model, a kill loses at most the batch in flight and the one batch returned
  just before it (less than 50 commits' worth of model time); every earlier answer is kept;
* a task's records and results are written only after all its answers are committed; an
  exception or Ctrl-C commits the answers already returned before it propagates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from medbench.evaluators.config import RunConfig, normalize_generation
from medbench.evaluators.metrics.aggregate import aggregate
from medbench.evaluators.models import (
    OUTPUT_METHODS,
    EvalFailure,
    EvalRequest,
    load_model,
    model_fingerprint,
    supports_output,
)
from medbench.evaluators.tasks import (
    RequestUnavailable,
    TaskSpec,
    configure_task,
    select_tasks,
)
from medbench.evaluators.tasks.data import (
    DataError,
    Location,
    RowSource,
    data_root,
    image_columns,
    image_list_columns,
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
# The harness waits for a batch's commit before the next model call when the last commit took
# at most this share of the batch's model time; otherwise the commit overlaps the next call.
COMMIT_WAIT_SHARE = 0.02

Progress = Callable[[str, int, int], None]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_digest(task: TaskSpec, row: BaseModel) -> str:
    """sha256 of a row: its fields as canonical JSON, its images by their sha256."""
    images = image_columns(type(row))
    lists = [n for n in image_list_columns(type(row)) if getattr(row, n)]
    fields = row.model_dump(exclude=set(images) | set(lists))
    for name in images:
        fields[name] = hashlib.sha256(getattr(row, name)).hexdigest()
    for name in lists:  # an empty list stays out of the digest, as the dump leaves it out
        fields[name] = [hashlib.sha256(data).hexdigest() for data in getattr(row, name)]
    return hashlib.sha256(_canonical(fields).encode("utf-8")).hexdigest()


def request_key(
    model_fp: str, task: TaskSpec, request: EvalRequest, digest: str, generation: Mapping
) -> str:
    return cache_key(
        backend=CACHE_BACKEND,
        model=model_fp,
        prompt_id=task.name,
        prompt_hash=task.prompt_hash,
        messages=[
            {"sample_id": request.sample_id, "row_sha256": digest, "prompt": request.prompt}
            # attention requests only, so that every text request keeps its key
            | ({"contrast_prompt": request.contrast_prompt} if request.output != "text" else {})
        ],
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
    failure: EvalFailure | None = None  # the request could not be built: never sent or cached


class _CacheWriter:
    """Commits answers to a ``ResponseCache`` on a background thread, in submission order.

    ``submit`` queues one batch's answers and returns its ticket (1, 2, ...); the thread takes
    everything queued, commits it (one transaction per prompt id, prompt hash and model) and
    marks those tickets committed. ``wait(t)`` blocks until ticket ``t`` is committed. When a
    commit fails, nothing later is committed and the error is raised by the next ``submit``,
    ``wait`` or ``close`` (once; later calls raise a RuntimeError that says so).
    """

    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache
        self.last_commit_s: float | None = None  # wall seconds of the last group's commit
        self._cond = threading.Condition()
        self._queue: list[tuple[int, list[tuple[str, CachedResponse]], tuple[str, str, str]]] = []
        self._submitted = 0
        self._committed = 0
        self._error: BaseException | None = None
        self._reported = False
        self._closing = False
        self._thread = threading.Thread(
            target=self._loop, name="medbench-eval-cache-writer", daemon=True
        )
        self._thread.start()

    def submit(
        self,
        items: list[tuple[str, CachedResponse]],
        *,
        prompt_id: str,
        prompt_hash: str,
        model: str,
    ) -> int:
        with self._cond:
            self._check()
            if self._closing:
                raise RuntimeError("the response cache writer is closed")
            self._submitted += 1
            self._queue.append((self._submitted, items, (prompt_id, prompt_hash, model)))
            self._cond.notify_all()
            return self._submitted

    def wait(self, ticket: int | None = None) -> None:
        """Block until ticket ``ticket`` (default: every ticket so far) is committed."""
        with self._cond:
            target = self._submitted if ticket is None else ticket
            while self._committed < target and self._error is None:
                self._cond.wait()
            self._check()

    def drain(self) -> None:
        """``wait()`` for everything, swallowing a commit error (for an error path that is
        already propagating another exception)."""
        with contextlib.suppress(Exception):  # the error being propagated matters more
            self.wait()

    def close(self) -> None:
        """Commit what is queued and stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        with self._cond:
            if self._error is not None and not self._reported:
                self._check()

    def _check(self) -> None:
        if self._error is None:
            return
        if self._reported:
            raise RuntimeError("the response cache writer stopped after an earlier error")
        self._reported = True
        raise self._error

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                group, self._queue = self._queue, []
            start = time.perf_counter()
            try:
                i = 0
                while i < len(group):  # consecutive submissions of one prompt: one commit
                    prompt_id, prompt_hash, model = meta = group[i][2]
                    items: list[tuple[str, CachedResponse]] = []
                    while i < len(group) and group[i][2] == meta:
                        items += group[i][1]
                        i += 1
                    self.cache.put_many(
                        items, prompt_id=prompt_id, prompt_hash=prompt_hash, model=model
                    )
            except BaseException as exc:  # raised in the caller's thread by submit / wait
                with self._cond:
                    self._error = exc
                    self._queue.clear()
                    self._cond.notify_all()
                return
            self.last_commit_s = time.perf_counter() - start
            with self._cond:
                self._committed = group[-1][0]
                self._cond.notify_all()


class _InOrder:
    """Runs calls on one background thread, in submission order. A call's error is raised by
    the next ``submit`` after it (fail fast) or by ``wait``."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._futures: deque[Future[None]] = deque()

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        while self._futures and self._futures[0].done():
            self._futures.popleft().result()
        self._futures.append(self._pool.submit(fn, *args))

    def wait(self) -> None:
        while self._futures:
            self._futures.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Evaluation:
    """One run: a model, its tasks, the cache. ``run()`` evaluates every task in order."""

    def __init__(self, config: RunConfig, *, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress
        self.tasks = [
            configure_task(t, config.task_args.get(t.name), image_root=config.image_root)
            for t in select_tasks(config.tasks)
        ]
        unknown_args = sorted(set(config.task_args) - {t.name for t in self.tasks})
        if unknown_args:
            raise ValueError(f"--task-args for tasks not run: {', '.join(unknown_args)}")
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
        unsupported = [t for t in self.tasks if not supports_output(self.model, t.output)]
        if unsupported:
            close = getattr(self.model, "close", None)
            if callable(close):
                close()
            needs = ", ".join(
                f"{t.name} needs {t.output} maps ({OUTPUT_METHODS[t.output]}())"
                for t in unsupported
            )
            raise ValueError(f"model {config.model!r} cannot answer every task: {needs}")
        self.model_fp = model_fingerprint(self.model)
        batch = config.batch_size or getattr(self.model, "default_batch_size", None) or 1
        self.batch_size = int(batch)
        cache_file = config.cache_file()
        self.cache = ResponseCache(cache_file) if cache_file is not None else None
        self.writer = _CacheWriter(self.cache) if self.cache is not None else None

    def close(self) -> None:
        try:
            if self.writer is not None:
                self.writer.close()
        finally:
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
        cached: list[tuple[_Pending, str | EvalFailure]] = []
        done = 0
        writer = self.writer
        barrier = 0  # the writer ticket committed before the next model call (module docs)
        last_ticket = 0
        # parsing, scoring and the samples records run on one background thread, in the
        # order the answers arrive (so the counters fill in the same order at any batch size)
        recorder = _InOrder("medbench-eval-records")

        def report() -> None:
            if self.progress is not None:
                self.progress(task.name, done, total)

        def record(items: list[tuple[_Pending, str | EvalFailure]], from_cache: bool) -> None:
            for item, answer in items:
                records[item.index] = self._record(task, out, item, answer)
            out.cache_hits += len(items) if from_cache else 0

        def finish(items: list[tuple[_Pending, str | EvalFailure]], from_cache: bool) -> None:
            nonlocal done
            if items:
                recorder.submit(record, items, from_cache)
                done += len(items)

        def flush() -> None:
            nonlocal barrier, last_ticket
            finish(cached, from_cache=True)
            cached.clear()
            if not pending:
                return
            batch = list(pending)
            pending.clear()
            if writer is not None and barrier:
                writer.wait(barrier)
            started = time.perf_counter()
            answers = self._ask(task, batch)
            model_s = time.perf_counter() - started
            if len(answers) != len(batch):
                raise RuntimeError(
                    f"model {self.model.model_id} answered {len(answers)} of {len(batch)} requests"
                )
            fresh = [
                (p.key, CachedResponse(parsed=None, raw=a, usage={}, attempts=1))
                for p, a in zip(batch, answers, strict=True)
                if isinstance(a, str)
            ]
            if writer is not None and fresh:
                ticket = writer.submit(
                    fresh,
                    prompt_id=task.name,
                    prompt_hash=task.prompt_hash,
                    model=str(self.model.model_id),
                )
                commit_s = writer.last_commit_s
                cheap = commit_s is None or commit_s <= COMMIT_WAIT_SHARE * model_s
                barrier = ticket if cheap else last_ticket
                last_ticket = ticket
            out.generated += len(batch)
            finish(list(zip(batch, answers, strict=True)), from_cache=False)
            report()

        report()
        try:
            for chunk in self._requests(task, out, source, generation, base, with_reference):
                hits = self.cache.get_many(p.key for p in chunk) if self.cache is not None else {}
                for item in chunk:
                    if item.failure is not None:
                        finish([(item, item.failure)], from_cache=False)
                        continue
                    hit = hits.get(item.key)
                    if hit is not None:
                        cached.append((item, hit.raw))
                        continue
                    pending.append(item)
                    if len(pending) >= self.batch_size:
                        flush()
                finish(cached, from_cache=True)
                cached.clear()
                report()
            flush()
            recorder.wait()
        except BaseException:
            if writer is not None:
                writer.drain()  # commit the answers already returned, then propagate
            raise
        finally:
            recorder.close()
        if writer is not None:
            writer.wait()  # every answer committed before the task's results are written
        total = done
        report()
        out.samples = [records[i] for i in sorted(records)]
        return out

    def _ask(self, task: TaskSpec, batch: list[_Pending]) -> list[str | EvalFailure]:
        """The model's answers to one batch: its text, or for an attention or heat-map task its
        maps reduced by the task to the metric values that are cached."""
        requests = [p.request for p in batch]
        output = task.output
        if output == "text":
            return self.model.generate(requests)
        maps = getattr(self.model, OUTPUT_METHODS[output])(requests)
        if len(maps) != len(batch):
            raise RuntimeError(
                f"model {self.model.model_id} gave {len(maps)} {output} results "
                f"for {len(batch)} requests"
            )
        return [
            m if isinstance(m, EvalFailure) else task.reduce(m, p.row)  # type: ignore[attr-defined]
            for p, m in zip(batch, maps, strict=True)
        ]

    def _requests(
        self,
        task: TaskSpec,
        out: TaskRun,
        source: RowSource,
        generation: dict[str, Any],
        base: Path | None,
        with_reference: bool,
    ) -> Iterator[list[_Pending]]:
        """The task's requests in row order, one list per batch of rows read (up to
        ``--limit``); rows filtered out or skipped are counted in ``out``."""
        limit = self.config.limit
        seen: set[str] = set()
        index = 0
        for raw_batch in source.batches(READ_BATCH):
            chunk: list[_Pending] = []
            stop = False
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
                failure = None
                try:
                    request = task.request(row, generation, with_reference=with_reference)
                except RequestUnavailable as exc:  # e.g. its image is missing: this sample only
                    failure = EvalFailure(str(exc))
                    request = EvalRequest(
                        sample_id=row.sample_id,
                        prompt=task.prompt(row),
                        images=(),
                        generation=generation,
                        task=task.name,
                    )
                key = request_key(self.model_fp, task, request, digest, generation)
                chunk.append(_Pending(index, row, request, key, digest, failure))
                out.digests.append(digest)
                index += 1
            yield chunk
            if stop:
                return

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
    # corpus-level metrics (a ratio of sums, a batched model score) from the task, if any
    hook = getattr(task, "summary_metrics", None)
    extra = hook(run.samples, n_resamples=n_resamples, seed=seed) if callable(hook) else {}
    order = {m: i for i, m in enumerate(task.metrics)}

    def merged(computed: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
        values = {m: v for m, v in computed.items() if v["n"] > 0}
        values.update({m: v for m, v in more.items() if v["n"] > 0})
        return dict(sorted(values.items(), key=lambda kv: order.get(kv[0], len(order))))

    metrics = merged(agg["overall"]["metrics"], extra.get("metrics", {}))
    more_subsets = extra.get("subsets", {})
    subsets = {
        key: {
            value: {
                "n_samples": block["n_records"],
                "metrics": merged(block["metrics"], more_subsets.get(key, {}).get(value, {})),
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
        "failed_requests": [
            {"sample_id": s["sample_id"], "reason": s["error"]} for s in run.samples if "error" in s
        ][:MAX_LISTED],
        "parse_failure_ids": [
            s["sample_id"] for s in run.samples if not s["parse_ok"] and "error" not in s
        ][:MAX_LISTED],
        "metrics": metrics,
        # "fraction": scores in [0, 1] (shown as %); "value": plain numbers (AR, KL, CNR)
        "metric_units": {
            m: ("value" if m in getattr(task, "value_metrics", ()) else "fraction")
            for m in task.metrics
        },
        "not_computed": dict(extra.get("not_computed", {})),
        "metric_settings": dict(extra.get("settings", {})),
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

    def finish_task(run: TaskRun, out_dir: Path) -> dict[str, Any]:
        write_samples(run, out_dir)
        return summarize_task(run, seed=config.seed, n_resamples=config.bootstrap_resamples)

    started = time.time()
    # provenance, and each task's samples file and bootstrap, on a background thread: they
    # overlap the model's work on the next task instead of adding to the run
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="medbench-eval-finish") as bg:
        git_future = bg.submit(git_state)
        versions_future = bg.submit(package_versions)
        finished: dict[str, Future[dict[str, Any]]] = {}
        with Evaluation(config, progress=progress) as ev:
            out_dir = config.results_dir(str(ev.model.model_id))
            out_dir.mkdir(parents=True, exist_ok=True)
            for task in ev.tasks:
                run = ev.run_task(task)
                finished[task.name] = bg.submit(finish_task, run, out_dir)
            model = {
                "name": config.model,
                "model_id": str(ev.model.model_id),
                "args": _redacted(config.model_args),
                "fingerprint": ev.model_fp,
            }
            batch_size = ev.batch_size
            cache_file = config.cache_file()
        tasks = {name: future.result() for name, future in finished.items()}
        git = git_future.result()
        versions = versions_future.result()
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
        "versions": versions,
        "git": git,
        "tasks": tasks,
    }
    report.write_results_json(results, out_dir)
    report.write_markdown(results, out_dir)
    if config.plots:
        for name, block in tasks.items():
            report.plot_task(name, block, out_dir)
            report.plot_layers(name, block, out_dir)
    return results, out_dir
