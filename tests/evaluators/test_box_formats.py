"""Box coordinate conventions of the grounding tasks (``box_format`` / ``box_frame``): answers
read in pixels, 0-1 fractions or a 0-1000 grid of the image, of LLaVA's padded square or of
Qwen2-VL's resized input; Qwen / InternVL box-tag syntax; the oracle scoring 1 in every
convention; and re-scoring a cached run in another convention without new answers.

Every expected box below is worked out by hand in the comment next to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medbench.evaluators.config import RunConfig
from medbench.evaluators.runner import evaluate
from medbench.evaluators.synthetic import vgmed_rows, write_grounding, write_vgmed
from medbench.evaluators.tasks import configure_task, get_task
from medbench.evaluators.tasks.grounding import (
    BOX_FORMATS,
    BOX_FRAMES,
    BoxConvention,
    format_box,
    parse_box,
    smart_resize,
)
from medbench.evaluators.tasks.set_grounding import parse_boxes

ALL_CONVENTIONS = [(f, fr) for f in BOX_FORMATS for fr in BOX_FRAMES]


def box(text: str, width: float, height: float, fmt="pixel", frame="image") -> list[float]:
    parsed = parse_box(text, width, height, BoxConvention(fmt, frame))
    assert parsed.ok, parsed.note
    return parsed.value["box"]


# -------------------------------------------------------------------------- conversions


def test_square_pad_norm1_wide_image():
    # 200x100 padded to a 200x200 square, the image pasted at (0, (200 - 100) // 2) = (0, 50):
    # x = 0.25 * 200 - 0 = 50, y = 0.25 * 200 - 50 = 0, x2 = 0.75 * 200 = 150,
    # y2 = 0.75 * 200 - 50 = 100
    assert box("[0.25, 0.25, 0.75, 0.75]", 200, 100, "norm1", "square-pad") == [50, 0, 150, 100]


def test_square_pad_norm1000_tall_image():
    # 100x300 padded to 300x300, pasted at ((300 - 100) // 2, 0) = (100, 0):
    # x1 = 400 / 1000 * 300 - 100 = 20, y1 = 100 / 1000 * 300 = 30,
    # x2 = 600 / 1000 * 300 - 100 = 80, y2 = 900 / 1000 * 300 = 270
    got = box("(400, 100), (600, 900)", 100, 300, "norm1000", "square-pad")
    assert got == [20, 30, 80, 270]


def test_square_pad_pixel_odd_padding_floors_the_offset():
    # 101x50 padded to 101x101: expand2square's offset (101 - 50) // 2 = 25, not 25.5
    assert box("[10, 30, 60, 70]", 101, 50, "pixel", "square-pad") == [10, 5, 60, 45]


def test_norm1000_and_norm1_of_the_image():
    # 640x480: x = v / 1000 * 640, y = v / 1000 * 480
    assert box("[250, 100, 750, 900]", 640, 480, "norm1000") == [160, 48, 480, 432]
    # norm1 reads [0, 0, 1, 1] as the whole image (the default reads it as one pixel)
    assert box("[0, 0, 1, 1]", 640, 480, "norm1") == [0, 0, 640, 480]
    assert box("[0, 0, 1, 1]", 640, 480) == [0, 0, 1, 1]
    # an explicit format has no heuristic: 0.5 px in pixel-of-square-pad stays 0.5 px + offset
    assert box("[0.5, 0.5, 0.75, 0.75]", 640, 480, "norm1", "image") == [320, 240, 480, 360]


def test_resized_frame_qwen25_pixels():
    # 200 wide x 100 high: smart_resize rounds 100 / 28 = 3.57 -> 4 -> 112 and
    # 200 / 28 = 7.14 -> 7 -> 196 (21,952 px, inside [3136, 1003520]).
    # x = v * 200 / 196, y = v * 100 / 112: [49, 28, 147, 84] -> [50, 25, 150, 75]
    assert box("[49, 28, 147, 84]", 200, 100, "pixel", "resized") == [50, 25, 150, 75]
    # norm1000 of the resized frame is norm1000 of the image (the scale cancels)
    assert box("[250, 250, 750, 750]", 200, 100, "norm1000", "resized") == [50, 25, 150, 75]


@pytest.mark.parametrize(
    ("height", "width", "kwargs", "expected"),
    [
        # 100 / 28 = 3.57 -> 4 * 28 = 112; 200 / 28 = 7.14 -> 7 * 28 = 196
        (100, 200, {}, (112, 196)),
        # Python's round halves to even: 70 / 28 = 2.5 -> 2 (56), 98 / 28 = 3.5 -> 4 (112)
        (70, 98, {}, (56, 112)),
        # 1988 x 2996 > 1,003,520 px: beta = sqrt(6e6 / 1003520) = 2.44519;
        # 2000 / 2.44519 / 28 = 29.2 -> 29 * 28 = 812; 3000 / 2.44519 / 28 = 43.8 -> 1204
        (2000, 3000, {}, (812, 1204)),
        # 28 x 28 = 784 < 3136 px: beta = sqrt(3136 / 600) = 2.28619;
        # 20 * 2.28619 / 28 = 1.63 -> 2 * 28 = 56; 30 * 2.28619 / 28 = 2.45 -> 3 * 28 = 84
        (20, 30, {}, (56, 84)),
        # the task arguments: a 14-px factor, at most 100 x 100 px
        # 300 / 14 = 21.4 -> 21 * 14 = 294 (twice), 86,436 > 10,000 px: beta = 3;
        # 300 / 3 / 14 = 7.14 -> 7 * 14 = 98
        (300, 300, {"factor": 14, "max_pixels": 10_000}, (98, 98)),
    ],
)
def test_smart_resize_hand_cases(height, width, kwargs, expected):
    assert smart_resize(height, width, **kwargs) == expected


# -------------------------------------------------------------------------- syntax


def test_qwen2_vl_box_tokens():
    text = (
        "<|object_ref_start|>the liver<|object_ref_end|>"
        "<|box_start|>(250,100),(750,900)<|box_end|><|im_end|>"
    )
    assert box(text, 640, 480, "norm1000") == [160, 48, 480, 432]
    # inside tags, earlier bracketed numbers elsewhere in the answer are not a box
    text = "In 2024 [1, 2, 3, 4] was ... <|box_start|>(10,20),(30,40)<|box_end|>"
    assert box(text, 640, 480) == [10, 20, 30, 40]


def test_ref_box_tags_qwen_vl_and_internvl():
    # Qwen-VL: <ref>...</ref><box>(x1,y1),(x2,y2)</box>, 0-1000 grid
    assert box("<ref>lung</ref><box>(0,0),(500,1000)</box>", 640, 480, "norm1000") == [
        0,
        0,
        320,
        480,
    ]
    # InternVL: <box>[[x1, y1, x2, y2]]</box>
    assert box("<ref>lung</ref><box>[[100, 200, 300, 400]]</box>", 1000, 1000, "norm1000") == [
        100,
        200,
        300,
        400,
    ]
    # a tag without a box inside falls back to the whole answer
    assert box("<box></box> so [1, 2, 3, 4]", 10, 10) == [1, 2, 3, 4]


def test_qwen25_json_answer():
    text = '```json\n[{"bbox_2d": [49, 28, 147, 84], "label": "liver"}]\n```'
    assert box(text, 200, 100, "pixel", "resized") == [50, 25, 150, 75]


def test_set_grounding_reads_every_tagged_box():
    text = "<|box_start|>(250,100),(750,900)<|box_end|> and <|box_start|>(0,0),(500,500)<|box_end|>"
    parsed = parse_boxes(text, 640, 480, BoxConvention("norm1000"))
    # second box: 0.5 * 640 = 320, 0.5 * 480 = 240
    assert parsed.value["boxes"] == [[160, 48, 480, 432], [0, 0, 320, 240]]
    assert parsed.value["scale"] == "norm1000"
    assert parse_boxes("[]", 640, 480, BoxConvention("norm1")).value["boxes"] == []


def test_unusable_numbers_are_parse_failures():
    for text in ("[1e999, 0, 1, 2]", "<box>nothing</box>", "left lung"):
        assert not parse_box(text, 10, 10, BoxConvention("norm1000")).ok, text
    # finite as written, 6.4e310 px once scaled: beyond a float
    assert not parse_box("[1e308, 0, 1, 2]", 640, 480, BoxConvention("norm1")).ok
    # an exponent far beyond a float's is read through float (0), not as 10**-99999999
    assert box("[1e-99999999, 0, 1, 2]", 10, 10) == [0, 0, 1, 2]


# -------------------------------------------------------------------------- oracle


@pytest.mark.parametrize(("fmt", "frame"), ALL_CONVENTIONS)
def test_oracle_box_parses_back_exactly(fmt, frame):
    convention = BoxConvention(fmt, frame)
    # awkward sizes: odd padding, a side that is no multiple of 28, float coordinates
    for width, height, truth in [
        (200, 100, [50.0, 0.0, 150.0, 100.0]),
        (101, 333, [0.0, 12.345678901234567, 100.99999, 333.0]),
        (640, 480, [1.0 / 3.0, 2.0 / 7.0, 639.5, 479.25]),
    ]:
        text = format_box(truth, width, height, convention)
        parsed = parse_box(text, width, height, convention)
        # exact, except where an exact decimal does not exist: 0 after an offset whose frame
        # fraction does not terminate (e.g. 50 / 300) comes back within 1e-30 px
        assert parsed.value["box"] == pytest.approx(truth, rel=0, abs=1e-30), text


def test_configure_task_checks_the_arguments():
    task = get_task("vgmed-grounding")
    configured = configure_task(task, {"box_format": "norm1000", "box_frame": "resized"})
    assert configured.box_convention == BoxConvention("norm1000", "resized")
    assert configured.prompt_hash == task.prompt_hash  # the prompt never changes
    assert configure_task(task, {"resize_max_pixels": "1000", "box_frame": "resized"})
    with pytest.raises(ValueError, match="box_format"):
        configure_task(task, {"box_format": "percent"})
    with pytest.raises(ValueError, match="resize_factor: only with box_frame=resized"):
        configure_task(task, {"resize_factor": "14"})
    set_task = configure_task(get_task("ms-cxr-grounding"), {"box_frame": "square-pad"})
    assert set_task.box_convention.frame == "square-pad"


# -------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("box-data")
    write_vgmed(root, n=12)  # 64x48, 48x64 and 40x40 images, float boxes
    write_grounding(root, n=8)
    return root


TASKS = ["vgmed-grounding", "ms-cxr-grounding"]


def run(data_root: Path, out: Path, fmt: str, frame: str, **kw):
    args = {"box_format": fmt, "box_frame": frame}
    config = RunConfig(
        model=kw.pop("model", "oracle"),
        tasks=TASKS,
        data_root=data_root,
        output_dir=out,
        task_args={t: args for t in TASKS},
        bootstrap_resamples=50,
        plots=False,
        **({"no_cache": True} if "cache" not in kw else {}),
        **kw,
    )
    results, _ = evaluate(config)
    return results


@pytest.mark.parametrize(("fmt", "frame"), ALL_CONVENTIONS)
def test_oracle_scores_one_in_every_convention(data_root, tmp_path, fmt, frame):
    results = run(data_root, tmp_path / "out", fmt, frame)
    vgmed = results["tasks"]["vgmed-grounding"]
    assert vgmed["counts"]["parse_failures"] == 0
    assert vgmed["metrics"]["iou"]["mean"] == 1.0
    assert vgmed["metrics"]["acc@0.5"]["mean"] == 1.0
    settings = vgmed["metric_settings"]["box_answers"]
    assert (settings["box_format"], settings["box_frame"]) == (fmt, frame)
    cxr = results["tasks"]["ms-cxr-grounding"]
    assert cxr["counts"]["parse_failures"] == 0
    for metric in ("precision_at_f1", "center_hit_f1", "mask_iou", "mask_iou_cum"):
        assert cxr["metrics"][metric]["mean"] == 1.0, metric


def test_a_cached_run_is_rescored_in_another_convention(data_root, tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = run(data_root, tmp_path / "a", "pixel", "image", cache=cache)
    generated = first["tasks"]["vgmed-grounding"]["counts"]["generated"]
    assert generated > 0
    second = run(data_root, tmp_path / "b", "norm1000", "square-pad", cache=cache)
    vgmed = second["tasks"]["vgmed-grounding"]
    assert (vgmed["counts"]["generated"], vgmed["counts"]["cache_hits"]) == (0, generated)
    # the cached answers (the oracle's pixels) re-read on the 0-1000 grid of the padded
    # square: x = v / 1000 * side - (side - width) // 2, y likewise
    rows = {r.sample_id: r for r in vgmed_rows(12)}
    lines = (tmp_path / "b" / "samples_vgmed-grounding.jsonl").read_text().splitlines()
    assert len(lines) == generated
    for sample in map(json.loads, lines):
        row = rows[sample["sample_id"]]
        raw = json.loads(sample["raw_output"])
        assert raw == pytest.approx(list(row.bbox))  # the first run's answer, not a new one
        w, h = row.image_width, row.image_height
        side = max(w, h)
        ox, oy = (side - w) // 2, (side - h) // 2
        expected = [
            raw[0] / 1000 * side - ox,
            raw[1] / 1000 * side - oy,
            raw[2] / 1000 * side - ox,
            raw[3] / 1000 * side - oy,
        ]
        assert sample["parsed"]["box"] == pytest.approx(expected)
    assert vgmed["metrics"]["iou"]["mean"] < 0.5
