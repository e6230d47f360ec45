"""The ``hf-mllm`` model end to end with a tiny LLaVA built from a config (random weights, a
byte-level tokenizer built locally), saved to a folder and loaded back through
``from_pretrained``: the demo VGMED shard and the VQA-RAD replica through ``medbench eval
run``, batch-size independence (left padding), the cache, generation settings, the fingerprint
and one-line errors. Skipped without torch and transformers (the ``models`` extra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from typer.testing import CliRunner  # noqa: E402

from medbench.cli import app  # noqa: E402
from medbench.evaluators.models import load_model, model_fingerprint  # noqa: E402
from medbench.evaluators.synthetic import vgmed_rows, vqa_rows, write_vgmed, write_vqa  # noqa: E402
from medbench.evaluators.tasks import get_task  # noqa: E402
from medbench.testing.tiny_models import (  # noqa: E402
    build_tiny_causal_lm,
    build_tiny_llava,
    build_tiny_llava_next,
)

runner = CliRunner()
TASKS = ["vgmed-grounding", "vqa-rad"]


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory) -> Path:
    return build_tiny_llava(tmp_path_factory.mktemp("models") / "tiny-llava")


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> dict[str, Path]:
    """The demo VGMED shard (one small 2D dataset) and the VQA-RAD layout replica."""
    root = tmp_path_factory.mktemp("demo")
    vgmed, vqa = root / "vgmed", root / "vqa"
    built = runner.invoke(
        app,
        ["build", "vgmed", "--demo", "-d", "BUSI", "--target", "4", "--out", str(vgmed)],
    )
    assert built.exit_code == 0, built.output
    built = runner.invoke(app, ["build", "vqa", "--demo", "-b", "vqa-rad", "--out", str(vqa)])
    assert built.exit_code == 0, built.output
    return {"vgmed-grounding": vgmed, "vqa-rad": vqa / "vqa-rad"}


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    write_vqa(root, benchmarks=["vqa-rad"], n=10)
    write_vgmed(root, n=12)  # 9 localization rows
    return root


@pytest.fixture
def generate_calls(monkeypatch) -> list[dict]:
    """Every real ``generate`` call of the LLaVA class: its input ids and attention mask."""
    cls = transformers.LlavaForConditionalGeneration
    real = cls.generate
    calls: list[dict] = []

    def counting(self, *args, **kwargs):
        calls.append({"input_ids": kwargs["input_ids"], "attention_mask": kwargs["attention_mask"]})
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, "generate", counting)
    return calls


def eval_run(model_args: str, out: Path, *extra: str, tasks=TASKS) -> object:
    return runner.invoke(
        app,
        [
            "eval",
            "run",
            "--model",
            "hf-mllm",
            "--model-args",
            model_args,
            "--tasks",
            ",".join(tasks),
            "--output-dir",
            str(out),
            "--no-plots",
            *extra,
        ],
    )


def read_samples(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]


def no_nan(value):
    raise ValueError(f"non-JSON number {value}")


# -------------------------------------------------------------------------- end to end


def test_demo_shards_end_to_end_then_all_from_cache(
    tiny_llava, demo_data, tmp_path, generate_calls
):
    data = [arg for task in TASKS for arg in ("--data", f"{task}={demo_data[task]}")]
    cache = ["--cache", str(tmp_path / "cache.sqlite")]
    first = eval_run(f"pretrained={tiny_llava}", tmp_path / "a", *data, *cache, "--json")
    assert first.exit_code == 0, first.output
    results = json.loads((tmp_path / "a" / "results.json").read_text(), parse_constant=no_nan)
    assert results == json.loads(first.stdout)
    assert results["model"]["model_id"] == f"hf-mllm:{tiny_llava}"
    assert generate_calls, "the model was never asked"
    assert sum(c["input_ids"].shape[0] for c in generate_calls) == sum(
        b["counts"]["samples"] for b in results["tasks"].values()
    )
    for task in TASKS:
        block = results["tasks"][task]
        samples = read_samples(tmp_path / "a", task)
        assert len(samples) == block["counts"]["samples"] == block["counts"]["generated"] > 0
        # random weights answer garbage: every sample has an answer, failures are counted
        assert all(isinstance(s["raw_output"], str) for s in samples)
        failures = [s for s in samples if not s["parse_ok"]]
        assert block["counts"]["parse_failures"] == len(failures)
        assert block["counts"]["request_errors"] == 0
        assert all(s["parse_note"] for s in failures)
    # garbage never parses as a box: every grounding answer is a counted failure scoring 0
    grounding = results["tasks"]["vgmed-grounding"]
    assert grounding["counts"]["parse_failures"] == grounding["counts"]["samples"]
    assert grounding["metrics"]["iou"]["mean"] == 0.0

    generate_calls.clear()
    second = eval_run(f"pretrained={tiny_llava}", tmp_path / "b", *data, *cache)
    assert second.exit_code == 0, second.output
    assert generate_calls == []
    again = json.loads((tmp_path / "b" / "results.json").read_text())
    for task in TASKS:
        counts = again["tasks"][task]["counts"]
        assert counts["cache_hits"] == counts["samples"] and counts["generated"] == 0
        assert read_samples(tmp_path / "a", task) == read_samples(tmp_path / "b", task)


def test_batch_size_one_and_four_give_identical_answers(
    tiny_llava, synthetic_root, tmp_path, generate_calls
):
    args = f"pretrained={tiny_llava},max_new_tokens=12"
    common = ["--data-root", str(synthetic_root), "--no-cache"]
    raw = {}
    for batch_size in (1, 4):
        generate_calls.clear()
        out = tmp_path / f"bs{batch_size}"
        result = eval_run(args, out, *common, "--batch-size", str(batch_size))
        assert result.exit_code == 0, result.output
        rows = [c["input_ids"].shape[0] for c in generate_calls]
        assert rows == ([1] * 19 if batch_size == 1 else [4, 4, 1, 4, 4, 2])
        raw[batch_size] = {t: [s["raw_output"] for s in read_samples(out, t)] for t in TASKS}
        if batch_size == 4:
            # the prompts differ in length, so batches were padded, on the left
            masks = [c["attention_mask"] for c in generate_calls]
            assert any(bool((m[:, 0] == 0).any()) for m in masks)
            assert all(bool((m[:, -1] == 1).all()) for m in masks)
    assert raw[1] == raw[4]
    assert all(len(raw[1][t]) == n for t, n in zip(TASKS, (9, 10), strict=True))


def test_llava_next_anyres_answers_batched_as_unbatched_and_refuses_attention(
    synthetic_root, tmp_path
):
    """LLaVA-NeXT's tiled images give each row its own number of image tokens (the images
    differ in aspect ratio): batches still answer as single requests do. Its attention has no
    single token grid, so an attention task lists every sample as a request error."""
    path = build_tiny_llava_next(tmp_path / "tiny-llava-next")
    args = f"pretrained={path},max_new_tokens=8"
    raw = {}
    for batch_size in (1, 4):
        out = tmp_path / f"bs{batch_size}"
        common = ["--data-root", str(synthetic_root), "--no-cache", "--batch-size"]
        result = eval_run(args, out, *common, str(batch_size), tasks=["vgmed-grounding"])
        assert result.exit_code == 0, result.output
        raw[batch_size] = [s["raw_output"] for s in read_samples(out, "vgmed-grounding")]
    assert raw[1] == raw[4] and len(raw[1]) == 9
    sizes = {(r.image_width, r.image_height) for r in vgmed_rows(12)}
    assert len(sizes) > 1  # several aspect ratios: several tile layouts in one batch
    out = tmp_path / "attention"
    result = eval_run(
        args, out, "--data-root", str(synthetic_root), "--no-cache", tasks=["vgmed-attention"]
    )
    assert result.exit_code == 1  # requests without an answer
    samples = read_samples(out, "vgmed-attention")
    assert samples and all("not supported" in s["error"] for s in samples)


# -------------------------------------------------------------------------- the adapter


def test_prompt_generation_settings_stop_and_sampling(tiny_llava):
    task = get_task("vqa-rad")
    row = vqa_rows("vqa-rad", 1)[0]
    model = load_model("hf-mllm", {"pretrained": str(tiny_llava), "batch_size": "3"})
    assert model.default_batch_size == 3
    request = task.request(row, {"temperature": 0.0, "max_tokens": 10})
    assert model.prompt_text(request) == f"USER: <image>\n{request.prompt} ASSISTANT:"

    config, stop, seed = model.generation_config({"temperature": 0.0, "max_tokens": 7})
    assert (config.do_sample, config.max_new_tokens, stop, seed) == (False, 7, [], None)
    config, _, seed = model.generation_config({"temperature": 0.7, "top_p": 0.9, "seed": 3})
    assert (config.do_sample, config.temperature, config.top_p, seed) == (True, 0.7, 0.9, 3)
    with pytest.raises(ValueError, match="presence_penalty"):
        model.generation_config({"presence_penalty": 0.5})

    answer = model.generate([request])[0]
    assert isinstance(answer, str) and answer == model.generate([request])[0]
    stop_at = answer[len(answer) // 2 :][:2]
    stopped = model.generate([task.request(row, {**request.generation, "stop": [stop_at]})])[0]
    assert stopped == answer[: answer.index(stop_at)].strip()
    sampling = {"temperature": 1.0, "max_tokens": 10, "seed": 7}
    sampled = model.generate([task.request(row, sampling)])[0]
    assert sampled == model.generate([task.request(row, sampling)])[0]

    capped = load_model("hf-mllm", {"pretrained": str(tiny_llava), "max_new_tokens": "4"})
    config, _, _ = capped.generation_config({"max_tokens": 128})
    assert config.max_new_tokens == 4
    system = load_model("hf-mllm", {"pretrained": str(tiny_llava), "system_prompt": "Be brief."})
    assert system.prompt_text(request).startswith("Be brief.\nUSER: <image>\n")


def test_fingerprint_follows_weights_dtype_and_answer_changing_args(tiny_llava, tmp_path):
    def fp(path, **args):
        return model_fingerprint(load_model("hf-mllm", {"pretrained": str(path), **args}))

    base = fp(tiny_llava)
    assert fp(tiny_llava, batch_size="2", device="cpu") == base  # not answer-changing
    changed = {
        fp(tiny_llava, dtype="bfloat16"),
        fp(tiny_llava, max_new_tokens="5"),
        fp(tiny_llava, system_prompt="x"),
    }
    assert base not in changed and len(changed) == 3
    # the same path with other weights is another model
    other = tmp_path / "m"
    build_tiny_llava(other, seed=0)
    before = fp(other)
    build_tiny_llava(other, seed=1)
    assert fp(other) != before
    # bfloat16 runs on CPU too
    task = get_task("vqa-rad")
    model = load_model("hf-mllm", {"pretrained": str(tiny_llava), "dtype": "bf16"})
    assert model.dtype == torch.bfloat16
    request = task.request(vqa_rows("vqa-rad", 1)[0], {"temperature": 0.0, "max_tokens": 4})
    assert isinstance(model.generate([request])[0], str)


def test_bad_models_and_arguments_are_one_line_errors(tiny_llava, synthetic_root, tmp_path):
    text_only = build_tiny_causal_lm(tmp_path / "llama")
    (tmp_path / "empty").mkdir()
    cases = {
        f"pretrained={tmp_path / 'nope'}": "does not exist",
        f"pretrained={text_only}": "is not an image-text-to-text model",
        f"pretrained={tmp_path / 'empty'}": "no config.json",
        "max_new_tokens=3": "needs pretrained=",
        f"pretrained={tiny_llava},colour=blue": "colour: unknown argument",
        f"pretrained={tiny_llava},dtype=int3": "dtype must be one of",
    }
    for args, message in cases.items():
        result = eval_run(
            args, tmp_path / "out", "--data-root", str(synthetic_root), "--no-cache",
            tasks=["vqa-rad"],
        )  # fmt: skip
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.output
        assert message in lines[0], (args, lines[0])
    assert not (tmp_path / "out").exists()
