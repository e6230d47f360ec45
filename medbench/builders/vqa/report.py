"""``manifest.json`` and ``report/skipped.csv`` of one Med-VQA benchmark folder.

The manifest holds no timestamps, so two builds of the same files write the same bytes
(paths of the source root and output folder aside, which are recorded as given).
"""

from __future__ import annotations

from collections import Counter

from medbench import __version__
from medbench.builders.outputs import package_versions, write_csv, write_json_atomic
from medbench.builders.shards import sha256_file
from medbench.builders.vqa.build import BenchmarkBuild, VQABuildConfig
from medbench.builders.vqa.layout import relative_name

SKIP_COLUMNS = ["benchmark", "split", "source_id", "reason"]


def _sorted_counts(values) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def counts(build: BenchmarkBuild) -> dict:
    rows = build.rows
    closed = [r for r in rows if r.answer_type == "closed"]
    return {
        "rows": len(rows),
        "questions_read": len(build.read.questions) + len(build.read.skipped),
        "skipped": len(build.skipped),
        "excluded": dict(sorted(build.read.excluded.items())),
        "by_answer_type": _sorted_counts(r.answer_type for r in rows),
        "closed_yes_no": sum(1 for r in closed if r.options == ["yes", "no"]),
        "closed_multiple_choice": sum(
            1 for r in closed if r.options and r.options != ["yes", "no"]
        ),
        # the benchmark labels these closed but ships no options (e.g. "left or right?")
        "closed_without_options": sum(1 for r in closed if not r.options),
        "by_subset": _sorted_counts(r.subset for r in rows if r.subset),
        "by_question_type": _sorted_counts(r.question_type for r in rows if r.question_type),
        "by_modality": _sorted_counts(r.modality for r in rows if r.modality),
        "by_body_part": _sorted_counts(r.body_part for r in rows if r.body_part),
        "by_language": _sorted_counts(r.language for r in rows),
        "by_image_format": dict(sorted(build.image_formats.items())),
    }


def write_manifest(build: BenchmarkBuild, config: VQABuildConfig) -> dict:
    root = config.source_root
    manifest = {
        "name": f"vqa/{build.benchmark}",
        "benchmark": build.benchmark,
        "split": build.split,
        "medbench_version": __version__,
        "config": config.public_dict(),
        "input": {
            "kind": build.input_kind,
            "source_root": str(root),
            "files": [
                {"path": relative_name(p, root), "sha256": sha256_file(p)}
                for p in build.read.input_files
            ],
        },
        "packages": package_versions(),
        "counts": counts(build),
        "notes": dict(sorted(build.read.notes.items())),
        "shards": [vars(s) for s in build.shards],
        "skipped": [{"source_id": s.source_id, "reason": s.reason} for s in build.skipped],
    }
    write_json_atomic(build.out / "manifest.json", manifest)
    return manifest


def write_skipped_csv(build: BenchmarkBuild) -> None:
    report = build.out / "report"
    report.mkdir(exist_ok=True)
    write_csv(
        report / "skipped.csv",
        SKIP_COLUMNS,
        [[build.benchmark, build.split, s.source_id, s.reason] for s in build.skipped],
    )
