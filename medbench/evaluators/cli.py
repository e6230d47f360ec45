"""``medbench eval``: run models on benchmark tasks, list tasks and models, validate data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medbench.console import err_console, print_json, stage_progress

app = typer.Typer(
    no_args_is_help=True,
    help="Evaluate models on medbench tasks (Med-VQA benchmarks, VGMED grounding).",
)

TasksOpt = Annotated[
    str | None,
    typer.Option(
        "--tasks", "-t", help="Comma-separated task names (see `medbench eval ls`), or all."
    ),
]
DataRootOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-root",
        help="Folder holding each task's data under its sub-path (default $MEDBENCH_DATA_ROOT, "
        "else ./medbench-data).",
    ),
]
DataOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--data",
        help="TASK=LOCATION for one task: a shard folder, a .parquet file or "
        "hf:<repo>[:<config>]; '@split' appended picks the split. Repeatable.",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]error:[/] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


@app.command("run")
def run(
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model name (see `medbench eval ls`).")
    ] = None,
    model_args: Annotated[
        str | None,
        typer.Option("--model-args", "-a", help="Model arguments: k=v,k2=v2."),
    ] = None,
    tasks: TasksOpt = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-L", min=1, help="Only the first N rows per task.")
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-o",
            help="Where results go (default eval-results/<model>/<timestamp>).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML file with these settings; options override."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size", "-b", min=1, help="Requests per model call (default: the model's)."
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the random baseline and the bootstrap (default 0)."),
    ] = None,
    data_root: DataRootOpt = None,
    data: DataOpt = None,
    image_root: Annotated[
        Path | None,
        typer.Option(
            "--image-root",
            help="Licensed image store for grounding shards built without --embed-images "
            "(rows carry image_path relative to it).",
        ),
    ] = None,
    task_args: Annotated[
        list[str] | None,
        typer.Option(
            "--task-args",
            help="Task arguments, TASK:k=v,... (repeatable), e.g. "
            "ms-cxr-grounding:image_root=/data/mimic-cxr-jpg.",
        ),
    ] = None,
    gen_kwargs: Annotated[
        str | None,
        typer.Option(
            "--gen-kwargs",
            help="Generation settings over the task's: max_tokens=64,temperature=0.",
        ),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            help="Response cache file (default $MEDBENCH_CACHE_DIR/eval-responses.sqlite); a "
            "rerun with the same cache only asks for what it lacks.",
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
    ] = False,
    no_plots: Annotated[
        bool, typer.Option("--no-plots", help="Skip the per-subset bar charts.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json on stdout.")] = False,
) -> None:
    """Run a model on tasks: per-sample samples_<task>.jsonl, results.json (scores with
    bootstrap 95% CIs, per subset), results.md and plot_<task>.png in the output folder.
    Exit 1 when some requests got no answer (rerun to retry only those)."""
    from medbench.evaluators.config import ConfigError, load_config
    from medbench.evaluators.models import UnknownModelError
    from medbench.evaluators.models.hf_mllm import ModelUnavailable
    from medbench.evaluators.runner import evaluate
    from medbench.evaluators.tasks import UnknownTaskError
    from medbench.evaluators.tasks.data import DataError
    from medbench.llm.cache import CacheError

    overrides = {
        "model": model,
        "model_args": model_args,
        "tasks": tasks,
        "limit": limit,
        "output_dir": output_dir,
        "batch_size": batch_size,
        "seed": seed,
        "data_root": data_root,
        "data": data,
        "image_root": image_root,
        "task_args": task_args,
        "gen_kwargs": gen_kwargs,
        "cache": cache,
        "no_cache": True if no_cache else None,
        "plots": False if no_plots else None,
    }
    try:
        settings = load_config(config, overrides)
        with stage_progress() as progress:
            results, out_dir = evaluate(settings, progress=progress)
    except (
        ConfigError,
        DataError,
        UnknownModelError,
        UnknownTaskError,
        ModelUnavailable,
        CacheError,
    ) as exc:
        raise _fail(str(exc)) from None
    except (TypeError, ValueError) as exc:  # bad --model-args for the chosen model
        raise _fail(f"{type(exc).__name__}: {exc}") from None

    table = Table(title=f"{results['model']['model_id']} → {out_dir}")
    for column in ("task", "metric", "score", "95% CI", "n"):
        table.add_column(column, no_wrap=True)
    errors = 0
    for name, block in results["tasks"].items():
        counts = block["counts"]
        errors += counts["request_errors"]
        for metric, s in block["metrics"].items():
            ci = f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
            table.add_row(name, metric, f"{s['mean']:.3f}", ci, str(s["n"]))
    err_console.print(table)
    for name, block in results["tasks"].items():
        c = block["counts"]
        err_console.print(
            f"{name}: {c['samples']} samples, {c['parse_failures']} parse failures, "
            f"{c['request_errors']} request errors, {c['cache_hits']} from cache, "
            f"{c['generated']} generated",
            soft_wrap=True,
            highlight=False,
        )
    if as_json:
        print_json(results)
    if errors:
        err_console.print(
            f"[yellow]{errors} requests got no answer (scored 0); rerun with the same cache "
            "to retry only those.[/]",
            soft_wrap=True,
        )
        raise typer.Exit(1)


@app.command("ls")
def ls(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List the tasks (data sub-path, metrics, subsets) and the models (built-in and from
    the medbench.models entry-point group)."""
    from medbench.evaluators.models import available_models, builtin_outputs
    from medbench.evaluators.tasks import TASKS

    tasks = [t.describe() for t in TASKS.values()]
    models = [
        {
            "name": m.name,
            "source": m.source,
            "target": m.target,
            "description": m.description,
            "outputs": builtin_outputs(m.name),
        }
        for m in available_models().values()
    ]
    if as_json:
        print_json({"tasks": tasks, "models": models})
        return
    table = Table(title=f"{len(tasks)} tasks")
    for column in ("task", "kind", "asks for", "data sub-path", "split", "metrics", "subsets"):
        table.add_column(column, overflow="fold")
    for t in tasks:
        table.add_row(
            t["name"],
            t["kind"],
            t["output"],
            t["data"]["subpath"],
            "/".join(t["data"]["splits"]),
            ", ".join(t["metrics"]),
            ", ".join(t["subset_keys"]),
        )
    err_console.print(table)
    table = Table(title=f"{len(models)} models")
    for column in ("model", "source", "answers", "description"):
        table.add_column(column, overflow="fold")
    for m in models:
        outputs = ", ".join(m["outputs"]) if m["outputs"] is not None else "?"
        table.add_row(m["name"], m["source"], outputs, m["description"] or m["target"])
    err_console.print(table)


@app.command("validate")
def validate(
    tasks: TasksOpt = None,
    data_root: DataRootOpt = None,
    data: DataOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Check each task: its data is found, its columns match the row schema, and its prompt
    renders on the first row. One line per task; exit 1 if any fails."""
    from medbench.evaluators.config import data_pairs
    from medbench.evaluators.tasks import UnknownTaskError, select_tasks
    from medbench.evaluators.tasks.data import data_root as resolve_root
    from medbench.evaluators.validate import check_task

    try:
        selected = select_tasks(tasks or "")
        overrides = data_pairs(data or [])
    except (UnknownTaskError, ValueError) as exc:
        raise _fail(str(exc)) from None
    root = resolve_root(data_root)
    checks = [check_task(t, root, overrides.get(t.name)) for t in selected]
    if as_json:
        print_json([c.as_dict() for c in checks])
    else:
        for c in checks:
            typer.echo(c.line())
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
