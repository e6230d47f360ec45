"""Attention-grounding evaluation (paper 001 sec. 2.2-2.4): the vgmed-attention and
coco-attention tasks, the baselines' maps, and hf-mllm's attention maps from a tiny LLaVA with
random weights, checked against transformers' own eager attention weights and the processor's
real pixel layout; per-sample values recomputed here with plain numpy."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from medbench.cli import app
from medbench.evaluators.config import RunConfig
from medbench.evaluators.models.base import AttentionMaps
from medbench.evaluators.runner import evaluate
from medbench.evaluators.synthetic import vgmed_rows, write_coco_ref, write_vgmed
from medbench.evaluators.tasks import configure_task, get_task

runner = CliRunner()
TASK = "vgmed-attention"


def covered_tokens(box, image_size, grid, layout):
    """Tokens a box overlaps with positive area, by testing each token's rectangle in
    original-image pixels (an independent formulation of the covering rule)."""
    (w, h), (rows, cols) = image_size, grid
    if layout == "pad":
        side = max(w, h)
        off_x, off_y = (side - w) // 2, (side - h) // 2
        tw, th = side / cols, side / rows
        x0, y0 = -off_x, -off_y
    elif layout == "crop":
        side = min(w, h)
        tw, th = side / cols, side / rows
        x0, y0 = (w - side) / 2, (h - side) / 2
    else:
        raise AssertionError(layout)
    bx1, by1 = max(box[0], 0), max(box[1], 0)
    bx2, by2 = min(box[2], w), min(box[3], h)
    out = np.zeros((rows, cols), dtype=bool)
    for r in range(rows):
        for c in range(cols):
            tx1, ty1 = x0 + c * tw, y0 + r * th
            overlap_x = min(bx2, tx1 + tw) - max(bx1, tx1)
            overlap_y = min(by2, ty1 + th) - max(by1, ty1)
            out[r, c] = overlap_x > 1e-9 and overlap_y > 1e-9
    return out


def kl_js(attn, mask):
    """KL(g || a) and JS in nats with g uniform on the mask, straight from the definitions."""
    a = attn / attn.sum()
    g = mask / mask.sum()
    kl = sum(gi * math.log(gi / ai) for gi, ai in zip(g.ravel(), a.ravel(), strict=True) if gi > 0)
    m = (a + g) / 2

    def kl_to_m(p):
        return sum(
            pi * math.log(pi / mi) for pi, mi in zip(p.ravel(), m.ravel(), strict=True) if pi > 0
        )

    return kl, 0.5 * kl_to_m(a) + 0.5 * kl_to_m(g)


def read_samples(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("attention-data")
    write_vgmed(root, n=12)
    write_coco_ref(root, n=6)
    return root


def config(data_root: Path, tmp_path: Path, **kw) -> RunConfig:
    values = {
        "model": "oracle",
        "tasks": [TASK, "coco-attention"],
        "data_root": data_root,
        "cache": tmp_path / "cache.sqlite",
        "output_dir": tmp_path / "out",
        "bootstrap_resamples": 200,
        "plots": False,
    }
    values.update(kw)
    return RunConfig(**values)


# -------------------------------------------------------------------------- baselines


def test_oracle_attention_is_perfect_per_sample(data_root, tmp_path):
    results, out = evaluate(config(data_root, tmp_path))
    rows = {r.sample_id: r for r in vgmed_rows(12)}
    samples = read_samples(out, TASK)
    assert len(samples) == 12  # every question type is scored, attribute ones included
    for s in samples:
        row = rows[s["sample_id"]]
        tokens = covered_tokens(row.bbox, (row.image_width, row.image_height), (24, 24), "pad")
        value = s["parsed"]
        assert value["tokens_in_box"] == tokens.sum()
        assert value["attention_ratio"] == pytest.approx([576 / tokens.sum()], rel=1e-9)
        assert value["kl_divergence"] == pytest.approx([0.0], abs=1e-12)
        assert value["js_divergence"] == pytest.approx([0.0], abs=1e-12)
    block = results["tasks"][TASK]
    assert block["metric_settings"]["layer"] == 0
    assert block["metric_units"] == dict.fromkeys(block["metrics"], "value")
    assert set(block["subsets"]["question_type"]) == {"localization", "attribute"}
    assert results["tasks"]["coco-attention"]["counts"]["samples"] == 6


def test_random_attention_is_chance_and_bounded(data_root, tmp_path):
    results, out = evaluate(config(data_root, tmp_path, model="random", plots=True))
    block = results["tasks"][TASK]
    per_layer = block["metric_settings"]["per_layer"]
    assert per_layer["layers"] == [0, 1, 2, 3]
    kl = per_layer["kl_divergence"]
    # the default layer is the one with the lowest mean KL, and its scores are that layer's
    assert block["metric_settings"]["layer"] == int(np.argmin(kl))
    assert block["metrics"]["kl_divergence"]["mean"] == pytest.approx(min(kl))
    for s in read_samples(out, TASK):
        assert all(v >= 0 for v in s["parsed"]["kl_divergence"])
        assert all(0 <= v <= math.log(2) for v in s["parsed"]["js_divergence"])
    assert 0.5 < block["metrics"]["attention_ratio"]["mean"] < 1.5
    assert (out / f"plot_{TASK}_layers.png").stat().st_size > 0
    assert "| vgmed-attention | kl_divergence |" in (out / "results.md").read_text()


def test_fixed_layer_scores_each_sample_and_is_not_in_the_cache_key(data_root, tmp_path):
    first, _ = evaluate(config(data_root, tmp_path, model="random", tasks=[TASK]))
    fixed, out = evaluate(
        config(data_root, tmp_path, model="random", tasks=[TASK], task_args={TASK: {"layer": 1}})
    )
    block = fixed["tasks"][TASK]
    assert block["counts"]["cache_hits"] == 12 and block["counts"]["generated"] == 0
    samples = read_samples(out, TASK)
    for s in samples:
        assert s["metrics"]["kl_divergence"] == s["parsed"]["kl_divergence"][1]
    mean = np.mean([s["parsed"]["kl_divergence"][1] for s in samples])
    assert block["metrics"]["kl_divergence"]["mean"] == pytest.approx(mean)
    assert block["metric_settings"]["layer"] == 1
    assert first["tasks"][TASK]["prompt_hash"] == block["prompt_hash"]


def test_settings_that_change_the_values_change_the_prompt_hash():
    task = get_task(TASK)
    assert configure_task(task, {"layer": "3"}).prompt_hash == task.prompt_hash
    for args in ({"normalise": "none"}, {"box_mapping": "vgrefine"}, {"token_rule": "centre"}):
        assert configure_task(task, args).prompt_hash != task.prompt_hash, args
    with pytest.raises(ValueError):
        configure_task(task, {"normalise": "sometimes"})


def test_a_box_cropped_away_is_a_listed_failure_not_a_score():
    task = get_task(TASK)
    row = vgmed_rows(1)[0].model_copy(
        update={"image_width": 200, "image_height": 100, "bbox": [0.0, 0.0, 40.0, 100.0]}
    )
    maps = AttentionMaps(np.ones((2, 4, 4)), np.ones((2, 4, 4)), (0, 1), "crop", (336, 336))
    parsed = task.parse(task.reduce(maps, row), row)
    assert not parsed.ok and "empty" in parsed.note
    assert task.score(parsed, row) == {}
    # the same box on the padded layout is on the grid
    padded = AttentionMaps(np.ones((2, 4, 4)), np.ones((2, 4, 4)), (0, 1), "pad", (336, 336))
    assert task.parse(task.reduce(padded, row), row).ok


def test_a_text_only_model_is_refused_in_one_line(data_root, tmp_path):
    result = runner.invoke(
        app,
        [
            "eval", "run", "--model", "openai", "--model-args",
            "base_url=http://127.0.0.1:9/v1,model=x", "--tasks", TASK,
            "--data-root", str(data_root), "--output-dir", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "vgmed-attention needs attention maps (attend())" in result.output
    assert len(result.output.strip().splitlines()) == 1


# -------------------------------------------------------------------------- hf-mllm


torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    from medbench.testing.tiny_models import build_tiny_llava

    root = tmp_path_factory.mktemp("attention-models")
    return {
        layout: build_tiny_llava(root / layout, image_size=84, image_layout=layout, num_layers=3)
        for layout in ("crop", "pad")
    }


def png(width: int, height: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def eager_reference(path: Path, prompt: str, image: bytes) -> np.ndarray:
    """transformers' own eager attention weights for one unpadded prompt: per layer and head,
    the last position's attention to the image tokens as a 6 x 6 grid."""
    model = transformers.LlavaForConditionalGeneration.from_pretrained(
        path, attn_implementation="eager"
    ).eval()
    processor = transformers.AutoProcessor.from_pretrained(path)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = processor(
        text=[text], images=[Image.open(io.BytesIO(image)).convert("RGB")], return_tensors="pt"
    )
    with torch.no_grad():
        outputs = model(**inputs, output_attentions=True)
    positions = (inputs["input_ids"][0] == model.config.image_token_id).nonzero().flatten()
    return np.stack([a[0, :, -1, positions].reshape(-1, 6, 6).numpy() for a in outputs.attentions])


def test_hf_mllm_maps_equal_transformers_eager_attention_in_a_padded_batch(tiny_models):  # noqa: E501
    from medbench.evaluators.models import load_model
    from medbench.evaluators.models.base import EvalRequest

    path = tiny_models["crop"]
    model = load_model("hf-mllm", {"pretrained": str(path)})
    image = png(120, 80, 1)
    prompts = ["Where is the liver?", "Is there a tumour in the left kidney of this patient?"]
    contrast = "Write a general description of the image."
    requests = [
        EvalRequest(
            f"s{i}",
            p,
            (image,),
            {},
            output="attention",
            contrast_prompt=contrast,
            attention_heads=i == 1,
        )
        for i, p in enumerate(prompts)
    ]
    maps = model.attend(requests)
    for i, (prompt, got) in enumerate(zip(prompts, maps, strict=True)):
        assert isinstance(got, AttentionMaps)
        assert got.layers == (0, 1, 2) and got.grid == (6, 6)
        assert got.preprocess == "crop" and got.input_size == (84, 84)
        reference = eager_reference(path, prompt, image)  # (layers, heads, 6, 6)
        np.testing.assert_allclose(got.maps, reference.mean(axis=1), atol=2e-6)
        np.testing.assert_allclose(
            got.contrast, eager_reference(path, contrast, image).mean(axis=1), atol=2e-6
        )
        if i == 1:
            np.testing.assert_allclose(got.head_maps, reference, atol=2e-6)
        else:
            assert got.head_maps is None
    assert model.model.config._attn_implementation != "eager"  # switched back after the pass
    model.close()


def test_pad_geometry_matches_the_processors_real_pixels(tiny_models):
    """With LLaVA's pad-to-square processor, the tokens that box_to_token_mask puts the whole
    image on are exactly the patches of pixel_values that hold image content, not padding."""
    from medbench.evaluators.metrics.attention import box_to_token_mask
    from medbench.evaluators.models import load_model

    model = load_model("hf-mllm", {"pretrained": str(tiny_models["pad"])})
    width, height = 120, 80
    white = Image.new("RGB", (width, height), (255, 255, 255))
    pixels = model.processor.image_processor(white, return_tensors="np")["pixel_values"][0]
    pad_value = pixels[:, 0, 0]  # a wide image: the top-left corner is padding
    diff = np.abs(pixels - pad_value[:, None, None]).mean(axis=0)  # (84, 84)
    content = diff.reshape(6, 14, 6, 14).mean(axis=(1, 3)) > diff.max() / 2
    grid, preprocess, _ = model._image_geometry({}, 0)
    assert preprocess == "pad"
    mask = box_to_token_mask([0, 0, width, height], (width, height), (6, 6), preprocess=preprocess)
    np.testing.assert_array_equal(mask, content)
    model.close()


def test_eval_run_hf_mllm_attention_end_to_end_then_from_cache(tiny_models, data_root, tmp_path):
    from medbench.evaluators.models import load_model
    from medbench.evaluators.models.base import EvalRequest

    path = tiny_models["crop"]
    args = [
        "eval", "run", "--model", "hf-mllm", "--model-args", f"pretrained={path}",
        "--tasks", TASK, "--data-root", str(data_root), "--limit", "5",
        "--cache", str(tmp_path / "cache.sqlite"), "--no-plots", "--batch-size", "2",
    ]  # fmt: skip
    first = runner.invoke(app, [*args, "--output-dir", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    results = json.loads((tmp_path / "a" / "results.json").read_text())
    block = results["tasks"][TASK]
    assert block["counts"]["generated"] == 5 and block["counts"]["parse_failures"] == 0
    assert block["metric_settings"]["per_layer"]["layers"] == [0, 1, 2]

    # one sample recomputed from the model's maps with the definitions written out here
    sample = read_samples(tmp_path / "a", TASK)[0]
    row = next(r for r in vgmed_rows(12) if r.sample_id == sample["sample_id"])
    model = load_model("hf-mllm", {"pretrained": str(path)})
    request = EvalRequest(
        row.sample_id,
        f"{row.question} Answer the question using a single word or phrase.",
        (row.image,),
        {},
        output="attention",
        contrast_prompt=get_task(TASK).contrast_prompt,
    )
    (maps,) = model.attend([request])
    model.close()
    mask = covered_tokens(row.bbox, (row.image_width, row.image_height), (6, 6), "crop")
    for layer in range(3):
        rel = maps.maps[layer].astype(float) / maps.contrast[layer].astype(float)
        ar = 36 * rel[mask].sum() / (rel.sum() * mask.sum())
        kl, js = kl_js(rel, mask.astype(float))
        assert sample["parsed"]["attention_ratio"][layer] == pytest.approx(ar, rel=1e-6)
        assert sample["parsed"]["kl_divergence"][layer] == pytest.approx(kl, rel=1e-6, abs=1e-9)
        assert sample["parsed"]["js_divergence"][layer] == pytest.approx(js, rel=1e-5, abs=1e-7)

    again = runner.invoke(app, [*args, "--output-dir", str(tmp_path / "b")])
    assert again.exit_code == 0, again.output
    counts = json.loads((tmp_path / "b" / "results.json").read_text())["tasks"][TASK]["counts"]
    assert counts["cache_hits"] == 5 and counts["generated"] == 0


def test_heads_are_scored_and_ranked_by_mean_kl(data_root, tmp_path):
    args = {TASK: {"heads": "true", "top_k": "5"}}
    results, out = evaluate(
        config(data_root, tmp_path, model="random", tasks=[TASK], task_args=args)
    )
    block = results["tasks"][TASK]
    samples = read_samples(out, TASK)
    kl = np.array([s["parsed"]["heads"]["kl_divergence"] for s in samples])  # (n, layers, heads)
    assert kl.shape == (12, 4, 3)
    mean = kl.mean(axis=0)
    ranked = sorted((mean[layer, head], layer, head) for layer in range(4) for head in range(3))[:5]
    top = block["metric_settings"]["top_heads"]
    assert [(t["layer"], t["head"]) for t in top] == [(layer, h) for _, layer, h in ranked]
    assert [t["kl_divergence"] for t in top] == pytest.approx([v for v, _, _ in ranked])
    assert get_task(TASK).prompt_hash != configure_task(get_task(TASK), args[TASK]).prompt_hash


def test_qwen2_vl_grid_comes_from_image_grid_thw():
    """Qwen2-VL's processor resizes to multiples of 28 px and merges 2 x 2 patches of 14 px
    into one token: a 1 x 16 x 24 patch grid is 8 x 12 tokens over a 336 x 224 input."""
    from types import SimpleNamespace

    from medbench.evaluators.models.hf_mllm import HFMLLMModel

    model = object.__new__(HFMLLMModel)  # only the geometry, no weights
    vision = SimpleNamespace(spatial_merge_size=2, patch_size=14)
    model.model = SimpleNamespace(config=SimpleNamespace(vision_config=vision))
    inputs = {"image_grid_thw": torch.tensor([[1, 20, 20], [1, 16, 24]])}
    assert model._image_geometry(inputs, 1) == ((8, 12), "resize", (336, 224))
    with pytest.raises(ValueError, match="temporal"):
        model._image_geometry({"image_grid_thw": torch.tensor([[2, 16, 24]])}, 0)


def test_the_last_row_probe_gives_the_eager_maps_with_padding(tiny_models):
    from medbench.evaluators.models import load_model
    from medbench.evaluators.models.base import EvalRequest

    path = str(tiny_models["pad"])
    image = png(90, 130, 2)
    requests = [
        EvalRequest(
            f"s{i}",
            prompt,
            (image,),
            {},
            output="attention",
            contrast_prompt="Write a general description of the image.",
            attention_heads=True,
        )
        for i, prompt in enumerate(["Where?", "Which organ is enlarged in this scan, if any?"])
    ]
    eager = load_model("hf-mllm", {"pretrained": path}).attend(requests)
    model = load_model("hf-mllm", {"pretrained": path, "attention_maps": "probe"})
    probe = model.attend(requests)
    for a, b in zip(eager, probe, strict=True):
        assert isinstance(b, AttentionMaps) and b.preprocess == "pad"
        np.testing.assert_allclose(b.maps, a.maps, atol=2e-6)
        np.testing.assert_allclose(b.contrast, a.contrast, atol=2e-6)
        np.testing.assert_allclose(b.head_maps, a.head_maps, atol=2e-6)
    # the model's own implementation is back, and text generation still works
    assert model.model.config._attn_implementation == "sdpa"
    assert isinstance(model.generate([EvalRequest("t", "Hi", (image,), {"max_tokens": 3})])[0], str)
    model.close()
