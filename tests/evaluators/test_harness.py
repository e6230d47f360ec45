"""The eval harness end to end on tiny synthetic shards: oracle and random baselines, outputs,
batch-size independence and the cache, parse failures, validate, ls and the model registry."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medbench.cli import app
from medbench.evaluators.config import RunConfig, load_config
from medbench.evaluators.models import available_models, load_model
from medbench.evaluators.models.base import BaseEvalModel, EvalRequest, parse_kv
from medbench.evaluators.models.hf_mllm import ModelUnavailable
from medbench.evaluators.runner import evaluate
from medbench.evaluators.synthetic import (
    vqa_rows,
    write_coco_ref,
    write_grounding,
    write_vgmed,
    write_vqa,
)
from medbench.evaluators.tasks import TASKS, get_task
from medbench.evaluators.tasks.grounding import parse_box
from medbench.llm.cache import ResponseCache

runner = CliRunner()
ALL_TASKS = list(TASKS)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval-data")
    write_vqa(root, n=10)
    write_vgmed(root, n=12)
    write_coco_ref(root, n=6)
    write_grounding(root, n=8)
    return root


def run_config(data_root: Path, tmp_path: Path, **kw) -> RunConfig:
    values = {
        "model": "oracle",
        "tasks": ALL_TASKS,
        "data_root": data_root,
        "cache": tmp_path / "cache.sqlite",
        "output_dir": tmp_path / "out",
        "bootstrap_resamples": 200,
        "plots": False,  # drawn in the outputs test only: ~0.3 s a chart
    }
    values.update(kw)
    return RunConfig(**values)


def read_samples(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]


# -------------------------------------------------------------------------- baselines


def test_oracle_reaches_every_metric_maximum_on_every_task(data_root, tmp_path):
    results, out = evaluate(run_config(data_root, tmp_path))
    assert set(results["tasks"]) == set(TASKS)
    for name, block in results["tasks"].items():
        # every declared metric was computed on some samples, and is 1 with a CI of [1, 1]
        # (attention tasks: divergences 0; the attention ratio's maximum, N / box tokens,
        # depends on the box and is checked in test_attention_eval.py; CNR has no maximum)
        assert set(block["metrics"]) == set(TASKS[name].metrics), name
        best = {"kl_divergence": 0.0, "js_divergence": 0.0}
        unbounded = {"attention_ratio", "cnr", "cnr_abs"}
        for metric, stats in block["metrics"].items():
            assert stats["n"] > 0
            if metric in unbounded:
                assert stats["ci_low"] > 1.0, (name, metric)
                continue
            want = best.get(metric, 1.0)
            assert stats["mean"] == stats["ci_low"] == stats["ci_high"] == want, (name, metric)
        assert block["counts"]["parse_failures"] == 0
        assert block["counts"]["request_errors"] == 0
        for values in block["subsets"].values():
            for group in values.values():
                assert all(
                    s["mean"] == best.get(m, 1.0)
                    for m, s in group["metrics"].items()
                    if m not in unbounded
                )
    # the grounding task asks the localization questions only (every 4th row is attribute)
    grounding = results["tasks"]["vgmed-grounding"]
    assert grounding["counts"]["samples"] == 9
    assert grounding["data"]["rows_filtered_out"] == 3


def test_random_scores_below_the_oracle_and_depends_only_on_seed(data_root, tmp_path):
    a, out_a = evaluate(run_config(data_root, tmp_path / "a", model="random", batch_size=1))
    b, out_b = evaluate(run_config(data_root, tmp_path / "b", model="random", batch_size=7))
    c, _ = evaluate(run_config(data_root, tmp_path / "c", model="random", seed=5))
    for name, block in a["tasks"].items():
        if TASKS[name].kind == "attention":  # chance: a divergence above 0
            assert block["metrics"]["kl_divergence"]["mean"] > 0.1, name
        else:
            primary = TASKS[name].metrics[0]
            assert block["metrics"][primary]["mean"] < 1.0, name
        assert block["metrics"] == b["tasks"][name]["metrics"]
        assert (out_a / f"samples_{name}.jsonl").read_bytes() == (
            out_b / f"samples_{name}.jsonl"
        ).read_bytes()
    raw_a = [s["raw_output"] for s in read_samples(out_a, "vqa-rad")]
    raw_c = [s["raw_output"] for s in read_samples(tmp_path / "c" / "out", "vqa-rad")]
    assert raw_a != raw_c
    assert c["model"]["fingerprint"] != a["model"]["fingerprint"]


# -------------------------------------------------------------------------- outputs


def test_outputs_results_json_with_cis_markdown_plots_and_samples(data_root, tmp_path):
    tasks = ["vqa-rad", "vgmed-grounding"]
    results, out = evaluate(
        run_config(data_root, tmp_path, model="random", seed=3, plots=True, tasks=tasks)
    )

    def no_nan(value):
        raise ValueError(f"non-JSON number {value}")

    loaded = json.loads((out / "results.json").read_text(), parse_constant=no_nan)
    assert loaded == json.loads(json.dumps(results))
    assert loaded["seed"] == 3 and loaded["config"]["seed"] == 3
    assert loaded["versions"]["medbench"] and loaded["versions"]["python"]
    assert "git" in loaded and "fingerprint" in loaded["model"]
    vqa = loaded["tasks"]["vqa-rad"]
    for stats in vqa["metrics"].values():
        assert stats["ci_low"] <= stats["mean"] <= stats["ci_high"]
    assert set(vqa["subsets"]) == set(TASKS["vqa-rad"].subset_keys)
    assert set(vqa["subsets"]["answer_type"]) == {"closed", "open"}
    assert vqa["subsets"]["answer_type"]["open"]["n_samples"] == 2
    assert vqa["task_fingerprint"] and vqa["data"]["fingerprint"] and vqa["prompt_hash"]

    md = (out / "results.md").read_text()
    assert "| vqa-rad | closed_accuracy |" in md and "## vgmed-grounding by modality" in md
    for name in tasks:
        assert (out / f"plot_{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = read_samples(out, "vgmed-grounding")
    assert len(lines) == 9
    first = lines[0]
    for key in ("sample_id", "prompt_hash", "raw_output", "parsed", "parse_ok", "metrics"):
        assert key in first
    assert set(first["subsets"]) == {"modality", "body_part", "dataset", "question_type"}


def test_vqa_prompts_follow_the_huatuogpt_and_llava_templates():
    task = get_task("vqa-rad")
    choice, yes_no_options, yes_no, _, open_ = vqa_rows("vqa-rad", 5)
    assert task.prompt(choice) == (
        f"{choice.question}\nA. {choice.options[0]}\nB. {choice.options[1]}\n"
        f"C. {choice.options[2]}\nD. {choice.options[3]}\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert task.prompt(yes_no_options).endswith(
        "A. yes\nB. no\nAnswer with the option's letter from the given choices directly."
    )
    for row in (yes_no, open_):
        assert task.prompt(row) == (
            f"{row.question}\nAnswer the question using a single word or phrase."
        )


def test_box_parser_pixels_normalised_points_and_failures():
    assert parse_box("[10, 20, 30, 40]", 100, 50).value["box"] == [10, 20, 30, 40]
    parsed = parse_box("The box is (0.1, 0.2, 0.5, 0.6).", 100, 50)
    assert parsed.value == {"box": [10.0, 10.0, 50.0, 30.0], "scale": "normalised"}
    assert parse_box("[0, 0, 1, 1]", 100, 50).value["scale"] == "pixel"
    assert parse_box("(30, 40), (10, 20)", 100, 50).value["box"] == [10, 20, 30, 40]
    assert parse_box("[30, 40, 10, 20]", 100, 50).value["box"] == [10, 20, 30, 40]
    for text in ("", "yes", "[1, 2, 3]", "somewhere left"):
        assert not parse_box(text, 100, 50).ok


# -------------------------------------------------------------------------- cache


class CountingModel(BaseEvalModel):
    """Answers like the oracle and records every request it was sent."""

    name = "counting"
    uses_reference = True
    calls: list[list[str]] = []

    def __init__(self, **args):
        self.model_id = "counting"

    def generate(self, batch):
        CountingModel.calls.append([r.sample_id for r in batch])
        return [r.reference for r in batch]


@pytest.fixture
def plugin(monkeypatch):
    """A fake outside package exposing CountingModel through the medbench.models group."""
    module = types.ModuleType("fake_medbench_plugin")
    module.CountingModel = CountingModel
    module.NotAModel = object
    monkeypatch.setitem(sys.modules, "fake_medbench_plugin", module)
    eps = [
        importlib.metadata.EntryPoint(
            "counting", "fake_medbench_plugin:CountingModel", "medbench.models"
        ),
        # a plug-in may not shadow a built-in
        importlib.metadata.EntryPoint(
            "oracle", "fake_medbench_plugin:NotAModel", "medbench.models"
        ),
    ]
    real = importlib.metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == "medbench.models":
            return eps
        return real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    CountingModel.calls = []
    return CountingModel


def test_batch_size_gives_identical_results_and_a_rerun_is_all_cache_hits(
    data_root, tmp_path, plugin
):
    tasks = ["vqa-rad", "vgmed-grounding"]
    cache = tmp_path / "cache.sqlite"
    # --limit 4 first: those answers are reused by the full run below
    evaluate(
        run_config(
            data_root,
            tmp_path / "l",
            model="counting",
            tasks=tasks,
            limit=4,
            cache=cache,
            batch_size=3,
        )
    )
    assert sorted(len(c) for c in plugin.calls) == [1, 1, 3, 3]
    plugin.calls.clear()
    first, out1 = evaluate(
        run_config(
            data_root, tmp_path / "a", model="counting", tasks=tasks, cache=cache, batch_size=1
        )
    )
    assert all(len(c) == 1 for c in plugin.calls)
    assert sum(len(c) for c in plugin.calls) == 10 + 9 - 8  # the limited run's 8 were cached
    assert first["tasks"]["vqa-rad"]["counts"]["cache_hits"] == 4
    plugin.calls.clear()
    second, out2 = evaluate(
        run_config(
            data_root, tmp_path / "b", model="counting", tasks=tasks, cache=cache, batch_size=5
        )
    )
    assert plugin.calls == []
    fresh, out3 = evaluate(
        run_config(
            data_root,
            tmp_path / "c",
            model="counting",
            tasks=tasks,
            cache=tmp_path / "other.sqlite",
            batch_size=5,
        )
    )
    assert [len(c) for c in plugin.calls] == [5, 5, 5, 4]
    for name in tasks:
        assert (
            second["tasks"][name]["counts"]["cache_hits"]
            == second["tasks"][name]["counts"]["samples"]
        )
        assert first["tasks"][name]["metrics"] == second["tasks"][name]["metrics"]
        assert first["tasks"][name]["metrics"] == fresh["tasks"][name]["metrics"]
        assert first["tasks"][name]["subsets"] == fresh["tasks"][name]["subsets"]
        samples = (out1 / f"samples_{name}.jsonl").read_bytes()
        assert samples == (out2 / f"samples_{name}.jsonl").read_bytes()
        assert samples == (out3 / f"samples_{name}.jsonl").read_bytes()
    with ResponseCache(cache) as c:
        assert len(c) == 19


def test_changed_generation_settings_or_data_miss_the_cache(data_root, tmp_path, plugin):
    cache = tmp_path / "cache.sqlite"
    kw = {"model": "counting", "tasks": ["vqa-rad"], "cache": cache}
    evaluate(run_config(data_root, tmp_path / "a", **kw))
    evaluate(run_config(data_root, tmp_path / "b", gen_kwargs="max_tokens=8", **kw))
    assert sum(len(c) for c in plugin.calls) == 20
    plugin.calls.clear()
    # temperature=0 on the command line is the task's 0.0: same key
    evaluate(run_config(data_root, tmp_path / "c", gen_kwargs="temperature=0", **kw))
    assert plugin.calls == []
    # one row rewritten (a new image): only that sample is asked again
    other = tmp_path / "data"
    rows = vqa_rows("vqa-rad", 10)
    rows[3] = rows[3].model_copy(update={"image": vqa_rows("vqa-rad", 10, seed=9)[3].image})
    from medbench.evaluators.synthetic import write_rows
    from medbench.schemas.vqa import VQA_ARROW_SCHEMA

    write_rows(other / "vqa-rad", "test", VQA_ARROW_SCHEMA, rows)
    evaluate(run_config(other, tmp_path / "d", **kw))
    assert plugin.calls == [[rows[3].sample_id]]


# -------------------------------------------------------------------------- parse failures


class GarbleModel(BaseEvalModel):
    """The oracle's answer for every other sample, an unparseable one for the rest."""

    name = "garble"
    uses_reference = True

    def __init__(self, **args):
        self.model_id = "garble"

    def generate(self, batch: list[EvalRequest]):
        return [r.reference if i % 2 == 0 else "I am not sure." for i, r in enumerate(batch)]


def test_parse_failures_are_counted_and_score_zero(data_root, tmp_path, monkeypatch):
    from medbench.evaluators import models

    monkeypatch.setitem(
        models.BUILTIN_MODELS,
        "garble",
        models.ModelInfo("garble", "builtin", f"{__name__}:GarbleModel"),
    )
    results, out = evaluate(
        run_config(data_root, tmp_path, model="garble", tasks=["vgmed-grounding"], batch_size=9)
    )
    block = results["tasks"]["vgmed-grounding"]
    assert block["counts"]["parse_failures"] == 4
    assert block["metrics"]["iou"]["n"] == 9  # failures stay in the denominator
    assert block["metrics"]["iou"]["mean"] == pytest.approx(5 / 9)
    failed = [s for s in read_samples(out, "vgmed-grounding") if not s["parse_ok"]]
    assert len(failed) == 4 and len(block["parse_failure_ids"]) == 4
    assert all(s["metrics"] == {"iou": 0.0, "acc@0.5": 0.0} for s in failed)
    assert all(s["raw_output"] == "I am not sure." and s["parse_note"] for s in failed)


# -------------------------------------------------------------------------- registry


def test_entry_point_models_are_listed_and_run_and_builtins_win(data_root, tmp_path, plugin):
    models = available_models()
    assert models["counting"].source.startswith("entry point")
    assert models["oracle"].source == "builtin"
    assert type(load_model("oracle")).__name__ == "OracleModel"
    result = runner.invoke(app, ["eval", "ls", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert "counting" in {m["name"] for m in listed["models"]}
    assert {t["name"] for t in listed["tasks"]} == set(TASKS)
    outputs = {m["name"]: m["outputs"] for m in listed["models"]}
    assert outputs["counting"] is None  # a plug-in is listed, never imported
    assert outputs["openai"] == ["text"]
    assert outputs["oracle"] == ["text", "attention", "heatmap"]
    asks = {t["name"]: t["output"] for t in listed["tasks"]}
    assert asks["vqa-rad"] == "text" and asks["vgmed-attention"] == "attention"
    assert asks["covid-rural-heatmap"] == "heatmap"
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "eval",
            "run",
            "--model",
            "counting",
            "--tasks",
            "vqa-rad",
            "--data-root",
            str(data_root),
            "--output-dir",
            str(out),
            "--cache",
            str(tmp_path / "c.sqlite"),
            "--limit",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"]["model_id"] == "counting"
    assert sum(len(c) for c in plugin.calls) == 3


def test_hf_mllm_without_torch_says_which_extra(data_root, tmp_path, monkeypatch):
    from medbench.evaluators.models import hf_mllm

    monkeypatch.setattr(hf_mllm, "missing_packages", lambda: ["torch", "transformers"])
    with pytest.raises(ModelUnavailable, match=r"medbench\[models\]"):
        load_model("hf-mllm", {"model": "llava-hf/llava-1.5-7b-hf"})
    result = runner.invoke(
        app,
        [
            "eval",
            "run",
            "--model",
            "hf-mllm",
            "--tasks",
            "vqa-rad",
            "--data-root",
            str(data_root),
            "--output-dir",
            str(tmp_path / "o"),
            "--no-cache",
        ],
    )
    assert result.exit_code == 2
    assert "models extra" in result.output


def test_unknown_model_and_task_are_one_line_errors(data_root, tmp_path):
    for args in (["--model", "nope", "--tasks", "vqa-rad"], ["--model", "oracle", "--tasks", "x"]):
        result = runner.invoke(
            app,
            [
                "eval",
                "run",
                *args,
                "--data-root",
                str(data_root),
                "--no-cache",
                "--output-dir",
                str(tmp_path),
            ],
        )
        assert result.exit_code == 2
        assert "unknown" in result.output


# -------------------------------------------------------------------------- validate, config


def test_validate_one_line_per_task_and_a_missing_folder_fails(data_root, tmp_path):
    result = runner.invoke(
        app,
        ["eval", "validate", "--tasks", "vqa-rad,vgmed-grounding", "--data-root", str(data_root)],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("ok") for line in lines)

    empty = tmp_path / "empty-root"
    empty.mkdir()
    result = runner.invoke(
        app,
        [
            "eval",
            "validate",
            "--tasks",
            "vqa-rad,vgmed-grounding",
            "--data-root",
            str(empty),
            "--data",
            f"vgmed-grounding={data_root / 'vgmed'}",
        ],
    )
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("FAIL") and "vqa-rad" in lines[0]
    assert str(empty / "vqa-rad") in lines[0] and "MEDBENCH_DATA_ROOT" in lines[0]
    assert lines[1].startswith("ok") and "vgmed-grounding" in lines[1]


def test_validate_reports_a_schema_mismatch(data_root, tmp_path):
    # VGMED shards where VQA rows are expected
    result = runner.invoke(
        app, ["eval", "validate", "--tasks", "slake", "--data", f"slake={data_root / 'vgmed'}"]
    )
    assert result.exit_code == 1
    assert "does not match VQARow" in result.stdout
    assert "missing column 'answer'" in result.stdout


def test_hub_location_reads_through_load_dataset(data_root, tmp_path):
    results, _ = evaluate(
        run_config(
            data_root,
            tmp_path,
            tasks=["pmc-vqa"],
            data={"pmc-vqa": f"hf:{data_root / 'pmc-vqa'}@test"},
        )
    )
    block = results["tasks"]["pmc-vqa"]
    assert block["data"]["location"].startswith("hf:")
    assert block["metrics"]["closed_accuracy"]["mean"] == 1.0


def test_config_file_with_command_line_overrides(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        "model: openai\nmodel_args: {model: m, concurrency: 2}\ntasks: [vqa-rad, slake]\n"
        "batch_size: 4\ndata: {slake: /x}\ngen_kwargs: {max_tokens: 16}\n"
    )
    settings = load_config(config, {"batch_size": 2, "data": ["vqa-rad=/y"], "seed": None})
    assert settings.batch_size == 2 and settings.seed == 0
    assert settings.tasks == ["vqa-rad", "slake"]
    assert settings.data == {"slake": "/x", "vqa-rad": "/y"}
    assert settings.model_args == {"model": "m", "concurrency": 2}
    assert settings.gen_kwargs == {"max_tokens": 16}
    assert parse_kv('model=a/b,prompt="x, y",n=3') == {"model": "a/b", "prompt": "x, y", "n": "3"}


def test_rows_that_cannot_be_scored_are_skipped_and_listed(tmp_path):
    from medbench.evaluators.synthetic import write_rows
    from medbench.schemas.vqa import VQA_ARROW_SCHEMA

    rows = vqa_rows("slake", 5)
    rows[0] = rows[0].model_copy(update={"answer": "not an option", "answer_index": None})
    rows[1] = rows[1].model_copy(update={"language": "zh"})  # filtered out: English only
    write_rows(tmp_path / "data" / "slake", "test", VQA_ARROW_SCHEMA, rows)
    results, _ = evaluate(run_config(tmp_path / "data", tmp_path, tasks=["slake"]))
    data = results["tasks"]["slake"]["data"]
    assert data["rows_in_split"] == 5 and data["rows_filtered_out"] == 1
    assert data["skipped"] == [
        {
            "sample_id": rows[0].sample_id,
            "reason": "answer 'not an option' is not among the options",
        }
    ]
    assert results["tasks"]["slake"]["counts"]["samples"] == 3


def test_a_bad_task_argument_value_is_one_line(data_root, tmp_path):
    from medbench.evaluators.tasks import configure_task

    with pytest.raises(ValueError) as err:
        configure_task(get_task("vgmed-grounding"), {"box_format": "percent"})
    assert "task 'vgmed-grounding': box_format:" in str(err.value)
    assert "\n" not in str(err.value)
    result = runner.invoke(
        app,
        [
            "eval", "run", "--model", "oracle", "--tasks", "vgmed-grounding",
            "--task-args", "vgmed-grounding:box_format=percent",
            "--data-root", str(data_root), "--output-dir", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1, result.output
