"""Generalised (zero / one / many box) grounding tasks on GroundingRow shards, and the optional
BERTScore of the open-ended VQA tasks: parsing, per-sample metrics, the corpus-level cumulative
mask IoU, images from an image root, missing images as request errors, oracle and random."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from medbench.evaluators.config import RunConfig
from medbench.evaluators.metrics import vqa as vqa_metrics
from medbench.evaluators.runner import evaluate, row_digest
from medbench.evaluators.synthetic import (
    GROUNDING_DATASETS,
    grounding_rows,
    write_grounding,
    write_rows,
    write_vqa,
)
from medbench.evaluators.tasks import (
    TASKS,
    Parsed,
    RequestUnavailable,
    configure_task,
    get_task,
)
from medbench.evaluators.tasks.grounding import parse_box
from medbench.evaluators.tasks.set_grounding import GroundingEvalRow, parse_boxes, ratio_summary
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA

SET_TASKS = [f"{d}-grounding" for d in GROUNDING_DATASETS]
ENV_VARS = ("MEDBENCH_IMAGE_ROOT", "MEDBENCH_IMAGE_ROOT_MS_CXR")


@pytest.fixture(autouse=True)
def no_image_root_env(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("grounding-data")
    write_grounding(root, n=8)
    return root


def run_config(data_root: Path, tmp_path: Path, **kw) -> RunConfig:
    values = {
        "model": "oracle",
        "tasks": SET_TASKS,
        "data_root": data_root,
        "no_cache": True,
        "output_dir": tmp_path / "out",
        "bootstrap_resamples": 200,
        "plots": False,
    }
    values.update(kw)
    return RunConfig(**values)


def read_samples(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]


def eval_row(row, image: bytes | None = None) -> GroundingEvalRow:
    data = row.model_dump()
    data["image"] = None if image is None else {"bytes": image, "path": None}
    return GroundingEvalRow.model_validate(data)


# -------------------------------------------------------------------------- registry


def test_the_five_tasks_are_registered_on_the_build_output_folders():
    for dataset, name in zip(GROUNDING_DATASETS, SET_TASKS, strict=True):
        task = TASKS[name]
        assert task.kind == "set-grounding"
        assert task.data.subpath == dataset and task.data.filters == {"dataset": dataset}
        assert task.subset_keys == ("label", "box_count", "split")
        assert task.metrics == (
            "precision_at_f1",
            "n_acc",
            "t_acc",
            "center_hit_f1",
            "mask_iou",
            "mask_iou_cum",
            "mask_iou_acc@0.5",
        )
    assert TASKS["rsna-pneumonia-grounding"].data.splits == ("train",)


# -------------------------------------------------------------------------- parsing


def test_box_list_parser():
    two = parse_boxes("[[10, 20, 30, 40], [1, 2, 5, 6]]", 100, 50)
    assert two.value == {"boxes": [[10, 20, 30, 40], [1, 2, 5, 6]], "scale": "pixel"}
    # one scale per answer: [0, 0, 1, 1] next to a fractional box is normalised too
    norm = parse_boxes("Boxes: (0.1, 0.2, 0.5, 0.6) and (0, 0, 1, 1).", 100, 50)
    assert norm.value["scale"] == "normalised"
    assert norm.value["boxes"] == [[10.0, 10.0, 50.0, 30.0], [0.0, 0.0, 100.0, 50.0]]
    points = parse_boxes("(30, 40), (10, 20); (5, 6), (7, 8)", 100, 50)
    assert points.value["boxes"] == [[10, 20, 30, 40], [5, 6, 7, 8]]
    for text in ("[]", "[[]]", "None.", "none of the regions"):
        assert parse_boxes(text, 100, 50) == Parsed(True, {"boxes": [], "scale": None}), text
    for text in ("", "yes", "[1, 2, 3]", "somewhere left", "nonetheless", "[inf, 0, 1, 2]"):
        assert not parse_boxes(text, 100, 50).ok, text
    # a single box reads exactly as vgmed-grounding's parser reads it
    for text in ("[10, 20, 30, 40]", "(0.1, 0.2, 0.5, 0.6)", "[0, 0, 1, 1]", "(3, 4), (1, 2)"):
        single = parse_box(text, 100, 50).value
        assert parse_boxes(text, 100, 50).value == {
            "boxes": [single["box"]],
            "scale": single["scale"],
        }


def test_oracle_answer_parses_back_to_the_exact_boxes():
    task = get_task("padchest-gr-grounding")
    for row, _ in grounding_rows("padchest-gr", 8):
        parsed = task.parse(task.oracle_answer(row), row)
        assert parsed.ok and parsed.value["boxes"] == [list(b) for b in row.boxes]
    empty = next(row for row, _ in grounding_rows("padchest-gr", 4) if not row.boxes)
    assert task.oracle_answer(empty) == "[]"


# -------------------------------------------------------------------------- per-sample metrics


def _row(boxes, width=20, height=20):
    (row, _), *_ = grounding_rows("ms-cxr", 1)
    return eval_row(
        row.model_copy(
            update={
                "boxes": boxes,
                "box_names": ["x"] * len(boxes),
                "groundable": bool(boxes),
                "image_width": width,
                "image_height": height,
            }
        )
    )


def test_per_sample_metrics_by_hand():
    task = get_task("ms-cxr-grounding")
    row = _row([[0, 0, 10, 10], [10, 10, 20, 20]])
    # one exact box, one small box inside the second target: F1 = 2*1/(2+2) -> not correct;
    # both centres hit -> CH-F1 1; masks 104 px of 200 -> IoU 0.52
    scores = task.score(task.parse("[[0, 0, 10, 10], [12, 12, 14, 14]]", row), row)
    assert scores == {
        "precision_at_f1": 0.0,
        "t_acc": 1.0,
        "center_hit_f1": 1.0,
        "mask_iou": pytest.approx(0.52),
        "mask_iou_acc@0.5": 1.0,
        "mask_intersection_px": 104,
        "mask_union_px": 200,
    }
    exact = task.score(task.parse("[[10, 10, 20, 20], [0, 0, 10, 10]]", row), row)
    assert exact["precision_at_f1"] == exact["center_hit_f1"] == exact["mask_iou"] == 1.0
    # a targeted sample answered [] : every metric 0, T-acc 0; no N-acc (not applicable)
    none = task.score(task.parse("[]", row), row)
    assert none["t_acc"] == none["precision_at_f1"] == none["mask_iou"] == 0.0
    assert "n_acc" not in none and none["mask_union_px"] == 200
    # a parse failure scores 0 and still adds the target's area to the cumulative union
    failed = task.score(task.parse("I cannot tell", row), row)
    assert failed["precision_at_f1"] == failed["t_acc"] == failed["center_hit_f1"] == 0.0
    assert (failed["mask_intersection_px"], failed["mask_union_px"]) == (0, 200)


def test_no_target_samples():
    task = get_task("ms-cxr-grounding")
    row = _row([])
    right = task.score(task.parse("none", row), row)
    assert right == {
        "precision_at_f1": 1.0,
        "n_acc": 1.0,
        "center_hit_f1": 1.0,
        "mask_iou": 1.0,
        "mask_iou_acc@0.5": 1.0,
        "mask_intersection_px": 0,
        "mask_union_px": 0,
    }
    wrong = task.score(task.parse("[[0, 0, 5, 5]]", row), row)
    assert wrong["n_acc"] == wrong["precision_at_f1"] == wrong["mask_iou"] == 0.0
    assert wrong["mask_union_px"] == 25 and "t_acc" not in wrong
    # a failed parse is not an abstention
    assert task.score(task.parse("", row), row)["n_acc"] == 0.0


def test_cumulative_mask_iou_is_a_ratio_of_sums_with_a_bootstrap_ci():
    block = ratio_summary([104, 0, 0], [200, 25, 0], n_resamples=500, seed=1)
    assert block["mean"] == pytest.approx(104 / 225) and block["n"] == 3
    assert block["ci_low"] <= block["mean"] <= block["ci_high"]
    assert ratio_summary([0, 0], [0, 0]) is None  # no pixel anywhere: undefined
    assert ratio_summary([3, 3], [3, 3])["ci_low"] == 1.0

    task = get_task("ms-cxr-grounding")
    samples = [
        {"metrics": {"mask_intersection_px": i, "mask_union_px": u}, "subsets": s}
        for i, u, s in [
            (104, 200, {"label": "a", "box_count": "2+", "split": "test"}),
            (0, 25, {"label": None, "box_count": "0", "split": "test"}),
            (0, 0, {"label": "a", "box_count": "0", "split": "test"}),
        ]
    ]
    out = task.summary_metrics(samples, n_resamples=100, seed=0)
    assert out["metrics"]["mask_iou_cum"]["mean"] == pytest.approx(104 / 225)
    assert out["subsets"]["box_count"]["0"]["mask_iou_cum"]["mean"] == 0.0
    assert out["subsets"]["label"]["a"]["mask_iou_cum"]["mean"] == pytest.approx(104 / 200)
    assert set(out["subsets"]["label"]) == {"a"}  # a row without a label is in no group


# -------------------------------------------------------------------------- end to end


def test_oracle_reaches_every_metric_maximum(data_root, tmp_path):
    results, out = evaluate(run_config(data_root, tmp_path))
    for name in SET_TASKS:
        block = results["tasks"][name]
        assert list(block["metrics"]) == list(TASKS[name].metrics), name
        for metric, stats in block["metrics"].items():
            assert stats["n"] > 0
            assert stats["mean"] == stats["ci_low"] == stats["ci_high"] == 1.0, (name, metric)
        assert block["metrics"]["n_acc"]["n"] == 2 and block["metrics"]["t_acc"]["n"] == 6
        assert block["counts"]["parse_failures"] == block["counts"]["request_errors"] == 0
        assert block["counts"]["empty_answers"] == 2
        assert set(block["subsets"]) == {"label", "box_count", "split"}
        assert set(block["subsets"]["box_count"]) == {"0", "1", "2+"}
        assert block["subsets"]["box_count"]["2+"]["n_samples"] == 4
        for groups in block["subsets"].values():
            for group in groups.values():
                assert all(s["mean"] == 1.0 for s in group["metrics"].values())
    split = results["tasks"]["rsna-pneumonia-grounding"]["subsets"]["split"]
    assert list(split) == ["train"]
    first = read_samples(out, "ms-cxr-grounding")[1]
    assert first["target"]["boxes"] and first["parsed"]["boxes"] == first["target"]["boxes"]
    assert "chest X-ray" in first["prompt"] and '"There is' in first["prompt"]


def test_random_scores_below_the_oracle(data_root, tmp_path):
    results, _ = evaluate(run_config(data_root, tmp_path, model="random", seed=3))
    for name in SET_TASKS:
        metrics = results["tasks"][name]["metrics"]
        for metric in ("precision_at_f1", "mask_iou", "mask_iou_cum", "center_hit_f1"):
            assert metrics[metric]["mean"] < 1.0, (name, metric)
        assert metrics["n_acc"]["mean"] == 0.0  # the random model always answers one box


def test_rows_that_disagree_with_themselves_are_skipped_and_listed(tmp_path):
    rows = [row.model_copy(update={"image": png}) for row, png in grounding_rows("covid-rural", 4)]
    rows[1] = rows[1].model_copy(update={"groundable": False})  # but it has a box
    write_rows(tmp_path / "d" / "covid-rural", "test", GROUNDING_ARROW_SCHEMA, rows)
    config = run_config(tmp_path / "d", tmp_path, tasks=["covid-rural-grounding"])
    results, _ = evaluate(config)
    block = results["tasks"]["covid-rural-grounding"]
    assert block["counts"]["samples"] == 3 and block["metrics"]["precision_at_f1"]["mean"] == 1
    assert block["data"]["skipped"] == [
        {"sample_id": rows[1].sample_id, "reason": "groundable is False but the row has 1 boxes"}
    ]


# -------------------------------------------------------------------------- images


def test_images_come_from_the_image_root_when_not_embedded(tmp_path, monkeypatch):
    images = tmp_path / "store"
    write_grounding(tmp_path / "d", datasets=("ms-cxr",), n=4, image_root=images)
    pairs = grounding_rows("ms-cxr", 4)
    task = get_task("ms-cxr-grounding")
    row = eval_row(pairs[0][0])
    assert row.image is None
    with pytest.raises(RequestUnavailable, match="no embedded image and no image root"):
        task.images(row)
    configured = configure_task(task, {"image_root": str(images / "ms-cxr")})
    assert configured.images(row) == (pairs[0][1],)
    assert task.image_root is None  # the registered task is unchanged
    # the run-wide image root, and the per-dataset environment variable
    assert configure_task(task, image_root=images / "ms-cxr").images(row) == (pairs[0][1],)
    monkeypatch.setenv("MEDBENCH_IMAGE_ROOT_MS_CXR", str(images / "ms-cxr"))
    assert task.images(row) == (pairs[0][1],)
    # the digest of a row without bytes covers its fields, never fails
    assert row_digest(task, row) != row_digest(task, eval_row(pairs[0][0], pairs[0][1]))

    results, _ = evaluate(run_config(tmp_path / "d", tmp_path, tasks=["ms-cxr-grounding"]))
    block = results["tasks"]["ms-cxr-grounding"]
    assert block["counts"]["request_errors"] == 0 and block["metrics"]["mask_iou"]["mean"] == 1.0


def test_a_missing_image_is_a_request_error_not_a_crash(tmp_path, monkeypatch):
    images = tmp_path / "store"
    write_grounding(tmp_path / "d", datasets=("ms-cxr",), n=4, image_root=images)
    row = grounding_rows("ms-cxr", 4)[1][0]
    (images / "ms-cxr" / row.image_path).unlink()
    monkeypatch.setenv("MEDBENCH_IMAGE_ROOT", str(images / "ms-cxr"))
    results, out = evaluate(
        run_config(tmp_path / "d", tmp_path, tasks=["ms-cxr-grounding"], model="random")
    )
    block = results["tasks"]["ms-cxr-grounding"]
    assert block["counts"]["samples"] == 4 and block["counts"]["request_errors"] == 1
    assert block["counts"]["generated"] == 3
    (failed,) = block["failed_requests"]
    assert failed["sample_id"] == row.sample_id and "image not found" in failed["reason"]
    record = next(s for s in read_samples(out, "ms-cxr-grounding") if "error" in s)
    assert record["metrics"]["precision_at_f1"] == record["metrics"]["t_acc"] == 0.0
    assert record["raw_output"] is None


def test_task_arguments_are_checked():
    with pytest.raises(ValueError, match="takes image_root"):
        configure_task(get_task("ms-cxr-grounding"), {"bertscore_model": "x"})
    vqa = get_task("vqa-rad")
    assert configure_task(vqa, image_root="/images") is vqa  # not an image-root task
    assert configure_task(vqa, {"bertscore_model": "m"}).bertscore_model == "m"


# -------------------------------------------------------------------------- BERTScore


@pytest.fixture(scope="module")
def vqa_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vqa-data")
    write_vqa(root, benchmarks=("vqa-rad",), n=10)
    return root


def test_bertscore_not_available_is_reported_not_computed(vqa_root, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "bert_score", None)  # import fails: not installed
    results, _ = evaluate(run_config(vqa_root, tmp_path, tasks=["vqa-rad"]))
    block = results["tasks"]["vqa-rad"]
    assert block["not_computed"] == {"bertscore": "bert_score package not installed"}
    assert "bertscore" not in block["metrics"]
    assert list(block["metrics"]) == list(TASKS["vqa-rad"].metrics)


def test_bertscore_is_computed_with_a_local_model(vqa_root, tmp_path, monkeypatch):
    calls = []

    def score(cands, refs, **kw):
        calls.append((list(cands), list(refs), kw))
        return (np.ones(len(cands)), np.ones(len(cands)), np.array([0.5] * len(cands)))

    fake = types.ModuleType("bert_score")
    fake.utils = types.SimpleNamespace(model2layers={"roberta-large": 17})
    fake.score = score
    monkeypatch.setitem(sys.modules, "bert_score", fake)
    monkeypatch.setattr(vqa_metrics, "_local_model_dir", lambda name: tmp_path)
    results, _ = evaluate(run_config(vqa_root, tmp_path, tasks=["vqa-rad"]))
    block = results["tasks"]["vqa-rad"]
    assert block["not_computed"] == {}
    assert block["metrics"]["bertscore"]["mean"] == 0.5
    assert block["metrics"]["bertscore"]["n"] == 2  # the two open questions
    assert block["subsets"]["answer_type"]["open"]["metrics"]["bertscore"]["n"] == 2
    assert "bertscore" not in block["subsets"]["answer_type"]["closed"]["metrics"]
    assert block["metric_settings"]["bertscore"]["num_layers"] == 17
    ((cands, refs, kw),) = calls  # one batch for the task
    assert cands == refs and kw["model_type"] == str(tmp_path)


def test_cli_takes_the_image_store_per_task(tmp_path, no_image_root_env):
    """`--task-args TASK:image_root=...` reaches the task; the oracle then scores 1.0."""
    import json as _json

    from typer.testing import CliRunner

    from medbench.cli import app

    images = tmp_path / "store"
    write_grounding(tmp_path / "d", datasets=("ms-cxr",), n=4, image_root=images)
    args = ["eval", "run", "--model", "oracle", "--tasks", "ms-cxr-grounding"]
    args += ["--data-root", str(tmp_path / "d"), "--output-dir", str(tmp_path / "out")]
    args += ["--no-cache", "--no-plots", "--json"]
    ok = CliRunner().invoke(
        app, [*args, "--task-args", f"ms-cxr-grounding:image_root={images / 'ms-cxr'}"]
    )
    assert ok.exit_code == 0, ok.output
    results = _json.loads((tmp_path / "out" / "results.json").read_text())
    task = next(iter(results["tasks"].values())) if isinstance(results["tasks"], dict) else None
    assert task is not None and task["metrics"]["precision_at_f1"]["mean"] == 1.0
    wrong = CliRunner().invoke(app, [*args, "--task-args", "slake:image_root=/x"])
    assert wrong.exit_code == 2 and "--task-args for tasks not run: slake" in wrong.output
