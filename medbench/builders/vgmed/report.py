"""``manifest.json`` and ``report/``: what was built, from what, and what was left out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from medbench import __version__
from medbench.builders.outputs import bar_chart, package_versions, write_csv, write_json_atomic
from medbench.builders.vgmed.build import BuildConfig, BuildResult
from medbench.builders.vgmed.questions import LOCALIZATION_FILE
from medbench.llm.template_backend import ATTRIBUTE_TEMPLATES_FILE
from medbench.prompts import load_prompt


def write_manifest(
    result: BuildResult, config: BuildConfig, attribute_tag: str, llm: dict | None = None
) -> dict:
    pairs_by_dataset = Counter(c.dataset for c in result.selected)
    manifest = {
        "name": "vgmed",
        "medbench_version": __version__,
        "config": config.public_dict(),
        "packages": package_versions(),
        "prompts": {
            name: load_prompt(name).sha256 for name in (LOCALIZATION_FILE, ATTRIBUTE_TEMPLATES_FILE)
        },
        "attribute_question_source": attribute_tag,
        # requests made for attribute questions: one per unique (modality, label)
        "llm": llm or {},
        "counts": {
            "image_box_pairs": len(result.selected),
            "rows": result.rows,
            "cases": result.cases_total,
            "failed_cases": len(result.errors),
            "duplicate_cases": sum(s.duplicates for s in result.sources),
            "skipped_items": len(result.skipped),
            "by_question_type": result.question_counts,
            "by_dataset": dict(sorted(pairs_by_dataset.items())),
            "by_modality": dict(sorted(Counter(c.modality for c in result.selected).items())),
            "by_body_part": dict(sorted(Counter(c.body_part for c in result.selected).items())),
        },
        "sources": [
            {
                "id": s.spec.id,
                "title": s.spec.title,
                "family": s.spec.family,
                "modality": s.spec.modality,
                "body_part": s.spec.body_part,
                "license": s.spec.license,
                "homepage": s.spec.homepage,
                "credentialed": s.spec.credentialed,
                "redistributable": s.spec.redistributable,
                "found": s.dataset_dir is not None,
                "cases": s.cases,
                "failed_cases": s.failed,
                "duplicate_cases": s.duplicates,
                "candidates": s.candidates,
                "pairs": pairs_by_dataset.get(s.spec.id, 0),
                "problem": s.problem,
            }
            for s in result.sources
        ],
        "shards": [vars(s) for s in result.shards],
        "errors": [{"dataset": d, "case_id": c, "error": e} for d, c, e in result.errors],
        "skipped": [vars(s) for s in result.skipped],
    }
    write_json_atomic(result.out / "manifest.json", manifest)
    return manifest


def _distribution_chart(path: Path, modality: Counter, body_part: Counter) -> None:
    """Two rings, modality and body part, like paper 001 fig. 2b."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 6.5))
    for ax, counts, title in ((axes[0], modality, "Modality"), (axes[1], body_part, "Body part")):
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        total = sum(v for _, v in items) or 1
        wedges, _ = ax.pie(
            [v for _, v in items],
            startangle=90,
            counterclock=False,
            wedgeprops={"width": 0.4, "edgecolor": "white"},
        )
        # a legend, not wedge labels: small shares would print on top of each other
        ax.legend(
            wedges,
            [f"{k} ({100 * v / total:.1f}%)" for k, v in items],
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            fontsize=9,
            frameon=False,
        )
        ax.set_title(f"{title} (n = {total})")
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def write_report(result: BuildResult) -> None:
    report = result.out / "report"
    report.mkdir(exist_ok=True)
    selected = result.selected
    by_dataset = Counter(c.dataset for c in selected)
    status_rows = [
        [
            s.spec.id,
            s.spec.modality,
            s.spec.body_part,
            s.cases,
            s.failed,
            s.duplicates,
            s.candidates,
            by_dataset.get(s.spec.id, 0),
            2 * by_dataset.get(s.spec.id, 0),
            s.problem or "",
        ]
        for s in result.sources
    ]
    write_csv(
        report / "counts_by_dataset.csv",
        [
            "dataset",
            "modality",
            "body_part",
            "cases",
            "failed_cases",
            "duplicate_cases",
            "candidates",
            "pairs",
            "rows",
            "problem",
        ],
        status_rows,
    )
    for key in ("modality", "body_part", "label"):
        counts = Counter(getattr(c, key) for c in selected)
        write_csv(report / f"counts_by_{key}.csv", [key, "pairs"], sorted(counts.items()))
    write_csv(
        report / "skipped.csv",
        ["dataset", "case_id", "item", "reason"],
        [[s.dataset, s.case_id, s.item, s.reason] for s in result.skipped],
    )
    write_csv(
        report / "errors.csv", ["dataset", "case_id", "error"], [list(e) for e in result.errors]
    )
    bar_chart(report / "counts_by_dataset.png", by_dataset, "VGMED pairs per source dataset")
    _distribution_chart(
        report / "distribution.png",
        Counter(c.modality for c in selected),
        Counter(c.body_part for c in selected),
    )
    bar_chart(
        report / "counts_by_modality.png",
        Counter(c.modality for c in selected),
        "VGMED pairs per modality",
    )
    bar_chart(
        report / "counts_by_body_part.png",
        Counter(c.body_part for c in selected),
        "VGMED pairs per body part",
    )


__all__ = ["package_versions", "write_csv", "write_json_atomic", "write_manifest", "write_report"]
