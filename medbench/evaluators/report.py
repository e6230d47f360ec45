"""What a run leaves in its output folder: results.json, results.md and per-subset bar charts.

``results.json``::

    {"format": 1, "run_id", "created", "model": {name, model_id, args, fingerprint},
     "seed", "config": {...}, "versions": {...}, "git": {commit, dirty} | null,
     "tasks": {task: {"metrics": {m: {mean, ci_low, ci_high, n}},
                      "subsets": {key: {value: {n_samples, metrics}}},
                      "counts": {samples, parse_failures, request_errors, cache_hits, ...},
                      "data": {location, split, fingerprint, ...}, "task_fingerprint", ...}}}

CIs are percentile-bootstrap 95% intervals of the mean (``metrics.aggregate``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAX_BARS = 25  # subset values per chart (most samples first)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_results_json(results: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / "results.json"
    _atomic_write(path, json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return path


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def _plain(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _cell(stats: dict[str, Any], units: str = "fraction") -> str:
    fmt = _pct if units == "fraction" else _plain
    return f"{fmt(stats['mean'])} [{fmt(stats['ci_low'])}, {fmt(stats['ci_high'])}]"


def markdown(results: dict[str, Any]) -> str:
    """Results as Markdown: one table of every task's scores, then per-subset tables."""
    model = results["model"]
    lines = [
        f"# {model['model_id']} — medbench eval",
        "",
        f"Run `{results['run_id']}`, seed {results['seed']}; scores in % (attention tasks: "
        "plain values) with bootstrap 95% CIs.",
        "",
        "| task | metric | score [95% CI] | n | parse failures | request errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, task in results["tasks"].items():
        counts = task["counts"]
        units = task.get("metric_units", {})
        for metric, stats in task["metrics"].items():
            lines.append(
                f"| {name} | {metric} | {_cell(stats, units.get(metric, 'fraction'))} | "
                f"{stats['n']} | "
                f"{counts['parse_failures']} | {counts['request_errors']} |"
            )
        if not task["metrics"]:
            lines.append(f"| {name} | — | no samples | 0 | 0 | 0 |")
    for name, task in results["tasks"].items():
        for key, groups in task["subsets"].items():
            if not groups:
                continue
            metrics = list(task["metrics"])
            lines += ["", f"## {name} by {key}", ""]
            lines.append(f"| {key} | n | " + " | ".join(metrics) + " |")
            lines.append("|---|---|" + "---|" * len(metrics))
            units = task.get("metric_units", {})
            for value, block in groups.items():
                cells = [
                    _cell(block["metrics"][m], units.get(m, "fraction"))
                    if m in block["metrics"]
                    else "—"
                    for m in metrics
                ]
                lines.append(f"| {value} | {block['n_samples']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(results: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / "results.md"
    _atomic_write(path, markdown(results))
    return path


def plot_task(name: str, task: dict[str, Any], out_dir: Path) -> Path | None:
    """``plot_<task>.png``: one panel per subset key, bars per metric with CI whiskers."""
    panels = [(k, g) for k, g in task["subsets"].items() if g]
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(task["metrics"])
    heights = [
        max(1.5, 0.32 * min(len(g), MAX_BARS) * max(1, len(metrics)) + 1.0) for _, g in panels
    ]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, sum(heights)), gridspec_kw={"height_ratios": heights}
    )
    axes = [axes] if len(panels) == 1 else list(axes)
    width = 0.8 / max(1, len(metrics))
    for ax, (key, groups) in zip(axes, panels, strict=True):
        values = sorted(groups, key=lambda v: -groups[v]["n_samples"])[:MAX_BARS]
        for j, metric in enumerate(metrics):
            ys, means, lo, hi = [], [], [], []
            for i, value in enumerate(values):
                stats = groups[value]["metrics"].get(metric)
                if stats is None or stats["mean"] is None:
                    continue
                ys.append(i + (j - (len(metrics) - 1) / 2) * width)
                means.append(stats["mean"])
                lo.append(stats["mean"] - stats["ci_low"])
                hi.append(stats["ci_high"] - stats["mean"])
            if ys:
                ax.barh(
                    ys, means, height=width, xerr=[lo, hi], capsize=2, label=metric, color=f"C{j}"
                )
        ax.set_yticks(range(len(values)))
        ax.set_yticklabels([f"{v} (n={groups[v]['n_samples']})" for v in values], fontsize=8)
        ax.invert_yaxis()
        if all(u == "fraction" for u in task.get("metric_units", {}).values()):
            ax.set_xlim(0, 1)
        ax.set_title(f"{name} by {key}", fontsize=10)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path = out_dir / f"plot_{name}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_layers(name: str, task: dict[str, Any], out_dir: Path) -> Path | None:
    """``plot_<task>_layers.png`` for an attention task: each metric's mean per model layer
    (paper 001 fig. 3), the scored layer marked."""
    per_layer = task.get("metric_settings", {}).get("per_layer")
    if not per_layer:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    layers = per_layer["layers"]
    metrics = [m for m in per_layer if m != "layers"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3), squeeze=False)
    chosen = task["metric_settings"].get("layer")
    for ax, metric in zip(axes[0], metrics, strict=True):
        ax.plot(layers, per_layer[metric], marker="o", markersize=3)
        if chosen is not None:
            ax.axvline(chosen, color="C1", linestyle="--", linewidth=1, label=f"layer {chosen}")
            ax.legend(fontsize=7)
        ax.set_xlabel("layer")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(metric, fontsize=10)
    fig.suptitle(f"{name}: mean over samples per layer", fontsize=10)
    fig.tight_layout()
    path = out_dir / f"plot_{name}_layers.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
