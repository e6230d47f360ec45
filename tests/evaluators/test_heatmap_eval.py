"""Heat-map grounding tasks (paper 000's WSVG benchmark: MS-CXR, RSNA Pneumonia, COVID Rural):
the oracle and random maps through the harness, per-sample CNR recomputed here from its
definition, resizing of maps smaller than the image, and the cache key."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from medbench.evaluators.config import RunConfig
from medbench.evaluators.runner import evaluate
from medbench.evaluators.synthetic import grounding_rows, write_grounding
from medbench.evaluators.tasks import configure_task, get_task
from medbench.evaluators.tasks.heatmap import fit_to_image

TASKS = ["ms-cxr-heatmap", "rsna-pneumonia-heatmap", "covid-rural-heatmap"]


def centre_mask(boxes, width, height):
    """Pixels whose centre lies in a box, by explicit loops."""
    mask = np.zeros((height, width), dtype=bool)
    for x1, y1, x2, y2 in boxes:
        for r in range(height):
            for c in range(width):
                if x1 <= c + 0.5 < x2 and y1 <= r + 0.5 < y2:
                    mask[r, c] = True
    return mask


def read_samples(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("heatmap-data")
    write_grounding(root, datasets=["ms-cxr", "rsna-pneumonia", "covid-rural"], n=8)
    return root


def config(data_root: Path, tmp_path: Path, **kw) -> RunConfig:
    values = {
        "model": "oracle",
        "tasks": TASKS,
        "data_root": data_root,
        "cache": tmp_path / "cache.sqlite",
        "output_dir": tmp_path / "out",
        "bootstrap_resamples": 200,
        "plots": False,
    }
    values.update(kw)
    return RunConfig(**values)


def test_oracle_maps_hit_every_box_and_cnr_matches_its_definition(data_root, tmp_path):
    results, out = evaluate(config(data_root, tmp_path))
    rows = {r.sample_id: r for r, _ in grounding_rows("ms-cxr", 8)}
    block = results["tasks"]["ms-cxr-heatmap"]
    # rows without a box are skipped and listed, not scored
    negatives = [r for r in rows.values() if not r.boxes]
    assert block["data"]["rows_skipped"] == len(negatives) > 0
    assert all("no box" in s["reason"] for s in block["data"]["skipped"])
    samples = read_samples(out, "ms-cxr-heatmap")
    assert len(samples) == len(rows) - len(negatives)
    for s in samples:
        row = rows[s["sample_id"]]
        inside = centre_mask(row.boxes, row.image_width, row.image_height)
        r, c = np.indices(inside.shape)
        heat = inside + 0.05 * ((r + c) % 2)
        a, b = heat[inside], heat[~inside]
        expected = (a.mean() - b.mean()) / math.sqrt(a.var() + b.var())
        assert s["metrics"]["cnr"] == pytest.approx(expected, rel=1e-5)
        assert s["metrics"]["pointing_game"] == s["metrics"]["dice"] == s["metrics"]["iou"] == 1
    for name in TASKS:
        metrics = results["tasks"][name]["metrics"]
        assert metrics["dice"]["mean"] == metrics["iou"]["mean"] == 1.0
        assert results["tasks"][name]["metric_units"]["cnr"] == "value"
        assert results["tasks"][name]["metric_units"]["dice"] == "fraction"


def test_random_maps_are_at_chance(data_root, tmp_path):
    results, _ = evaluate(config(data_root, tmp_path, model="random", tasks=["ms-cxr-heatmap"]))
    metrics = results["tasks"]["ms-cxr-heatmap"]["metrics"]
    assert abs(metrics["cnr"]["mean"]) < 0.5
    assert metrics["dice"]["mean"] < 0.6


def test_a_smaller_map_of_the_same_aspect_is_resized_to_the_image():
    task = get_task("ms-cxr-heatmap")
    row = next(r for r, _ in grounding_rows("ms-cxr", 8) if r.boxes)
    row = row.model_copy(
        update={"image_width": 64, "image_height": 48, "boxes": [[16.0, 8.0, 48.0, 40.0]]}
    )
    small = np.zeros((12, 16), dtype=np.float32)  # a quarter of each side
    small[2:10, 4:12] = 1.0  # the box in quarter pixels: x 4..12, y 2..10
    value = json.loads(task.reduce(small, row))
    assert value["pointing_game"] == 1.0
    assert value["map_shape"] == [12, 16]
    assert value["iou"] > 0.7  # bilinear edges blur by about a pixel
    # a constant map has no CNR (undefined), the rest still scores
    flat = json.loads(task.reduce(np.ones((48, 64)), row))
    assert flat["cnr"] is None and flat["dice"] == 0.0
    # a map of another aspect ratio is refused for this sample only
    assert "aspect" in task.parse(task.reduce(np.ones((10, 10)), row), row).note


def test_fit_to_image_keeps_values_of_a_linear_ramp():
    # bilinear resizing reproduces a linear function away from the borders
    cols = np.arange(8, dtype=np.float32)
    ramp = np.tile(cols, (4, 1))
    fitted = fit_to_image(ramp, 16, 8)
    assert fitted.shape == (8, 16)
    centres = (np.arange(16) + 0.5) / 2 - 0.5  # output pixel centres in input coordinates
    np.testing.assert_allclose(fitted[3, 2:14], centres[2:14], atol=1e-5)
    with pytest.raises(ValueError):
        fit_to_image(np.ones(5), 4, 4)


def test_threshold_is_part_of_the_cache_key():
    task = get_task("covid-rural-heatmap")
    assert configure_task(task, {"threshold": "0.3"}).prompt_hash != task.prompt_hash
    assert configure_task(task, {"threshold": "0.5"}).prompt_hash == task.prompt_hash
    with pytest.raises(ValueError):
        configure_task(task, {"threshold": "1.5"})
