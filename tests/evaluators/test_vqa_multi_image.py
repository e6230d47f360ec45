"""MMMU questions with several images, from the MMMU layout replica (``build vqa --demo``)
to the model: the shard row carries them in ``image`` + ``extra_images``, the VQA task's
request sends them in placeholder order (``<image k>`` is the k-th), and the OpenAI-compatible
model puts them into one message in that order. Expected bytes are read from the replica's
Parquet with pyarrow, not through the reader."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from medbench.builders.vqa.build import VQABuildConfig, build_vqa
from medbench.demo.vqa import write_all
from medbench.evaluators.config import RunConfig
from medbench.evaluators.runner import evaluate, row_digest
from medbench.evaluators.tasks import get_task
from medbench.evaluators.tasks.data import data_root as resolve_root
from medbench.evaluators.tasks.data import open_rows, resolve_location, to_row
from medbench.testing.openai_standin import StandInServer, last_user_message, message_text

TWO_IMAGES = "validation_Clinical_Medicine_2"  # "Compare <image 1> and <image 2>. ..."


@pytest.fixture(scope="module")
def replica(tmp_path_factory) -> Path:
    return write_all(tmp_path_factory.mktemp("mmmu-src"), only=("mmmu-med",))


@pytest.fixture(scope="module")
def data_root(replica, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mmmu-data")
    build_vqa(VQABuildConfig(source_root=replica, out=out, benchmarks=["mmmu-med"]))
    return out


def replica_images(replica: Path) -> dict[str, list[bytes]]:
    """source id -> the bytes of image_1, image_2, ... as the replica ships them."""
    out = {}
    for path in sorted((replica / "mmmu-med" / "MMMU").glob("*/validation-*.parquet")):
        for record in pq.read_table(path).to_pylist():
            out[record["id"]] = [
                record[f"image_{i}"]["bytes"] for i in range(1, 8) if record[f"image_{i}"]
            ]
    return out


def rows(data_root: Path) -> list:
    task = get_task("mmmu-med")
    source = open_rows(task, resolve_location(task, resolve_root(data_root)))
    return [to_row(task, raw) for batch in source.batches() for raw in batch]


def test_the_request_sends_the_images_in_placeholder_order(data_root, replica):
    expected = replica_images(replica)
    task = get_task("mmmu-med")
    by_id = {row.source_id: row for row in rows(data_root)}
    assert set(by_id) == {
        "validation_Clinical_Medicine_1",
        TWO_IMAGES,
        "validation_Pharmacy_1",
    }
    for source_id, row in by_id.items():
        request = task.request(row, task.generation)
        assert request.images == tuple(expected[source_id]), source_id
    two = by_id[TWO_IMAGES]
    assert len(expected[TWO_IMAGES]) == 2 and expected[TWO_IMAGES][0] != expected[TWO_IMAGES][1]
    assert "<image 1>" in two.question and "<image 2>" in two.question  # placeholders kept
    assert task.request(two, task.generation).prompt.startswith(
        "Compare <image 1> and <image 2>. Which shows edema?\nA. Left\nB. Right\n"
    )


def test_a_one_image_row_digests_as_before_extra_images_existed(data_root):
    # the digest formula of rows without the column: canonical JSON of the fields, the image
    # by its sha256; the same value keeps cached answers of earlier runs valid
    task = get_task("mmmu-med")
    source = open_rows(task, resolve_location(task, resolve_root(data_root)))
    for raw in (r for batch in source.batches() for r in batch):
        fields = {k: v for k, v in raw.items() if k not in ("image", "extra_images")}
        if raw["extra_images"]:
            continue
        fields["image"] = hashlib.sha256(raw["image"]["bytes"]).hexdigest()
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert row_digest(task, to_row(task, raw)) == expected


def test_the_oracle_scores_one_on_every_row(data_root, tmp_path):
    config = RunConfig(
        model="oracle",
        tasks=["mmmu-med"],
        data_root=data_root,
        no_cache=True,
        output_dir=tmp_path / "out",
        bootstrap_resamples=50,
        plots=False,
    )
    results, _ = evaluate(config)
    block = results["tasks"]["mmmu-med"]
    assert block["counts"]["samples"] == 3 and block["data"]["rows_skipped"] == 0
    assert all(s["mean"] == 1.0 for s in block["metrics"].values())


def test_the_openai_model_gets_every_image_in_order(data_root, replica, tmp_path):
    expected = replica_images(replica)
    task = get_task("mmmu-med")
    # prompt text -> (sha256 of each image in order, the right answer)
    table = {
        task.prompt(row): (
            [hashlib.sha256(b).hexdigest() for b in expected[row.source_id]],
            task.oracle_answer(row),
        )
        for row in rows(data_root)
    }

    def respond(request: dict) -> str:
        content = last_user_message(request)["content"]
        urls = [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]
        digests = [hashlib.sha256(base64.b64decode(u.partition(",")[2])).hexdigest() for u in urls]
        want, answer = table[message_text(last_user_message(request))]
        # right only when every image arrived, byte for byte and in order
        return answer if digests == want else "?"

    with StandInServer(model="stand-in", responder=respond) as server:
        config = RunConfig(
            model="openai",
            model_args=f"model=stand-in,base_url={server.base_url},timeout_s=10",
            tasks=["mmmu-med"],
            data_root=data_root,
            no_cache=True,
            output_dir=tmp_path / "out",
            bootstrap_resamples=50,
            plots=False,
        )
        results, _ = evaluate(config)
        log = server.request_log
    assert sorted(
        sum(p.get("type") == "image_url" for p in last_user_message(r)["content"]) for r in log
    ) == [1, 1, 2]
    block = results["tasks"]["mmmu-med"]
    assert block["counts"]["request_errors"] == 0
    assert all(s["mean"] == 1.0 for s in block["metrics"].values())


def test_a_hub_style_dataset_keeps_the_extra_images_encoded(data_root, replica):
    """Read through ``datasets.load_dataset`` (the hf: route), the list column arrives as
    encoded cells, not decoded PIL images, and rows validate with the images in order."""
    expected = replica_images(replica)
    task = get_task("mmmu-med")
    location = resolve_location(task, resolve_root(data_root), f"hf:{data_root / 'mmmu-med'}")
    source = open_rows(task, location)
    hub_rows = [to_row(task, raw) for batch in source.batches() for raw in batch]
    (row,) = [r for r in hub_rows if r.source_id == TWO_IMAGES]
    assert [row.image, *row.extra_images] == expected[TWO_IMAGES]
    assert {r.sample_id: row_digest(task, r) for r in hub_rows} == {
        r.sample_id: row_digest(task, r) for r in rows(data_root)
    }


def test_shards_from_before_the_extra_images_column_still_load(data_root, tmp_path):
    """A column added later with a default is optional: an older shard without it runs."""
    old = tmp_path / "old" / "mmmu-med" / "data"
    old.mkdir(parents=True)
    for path in sorted((data_root / "mmmu-med" / "data").glob("*.parquet")):
        table = pq.read_table(path)
        pq.write_table(table.drop(["extra_images"]), old / path.name)
    config = RunConfig(
        model="oracle",
        tasks=["mmmu-med"],
        data_root=tmp_path / "old",
        output_dir=tmp_path / "out",
        no_cache=True,
        plots=False,
        bootstrap_resamples=100,
    )
    results, _ = evaluate(config)
    block = results["tasks"]["mmmu-med"]
    assert block["counts"]["samples"] > 0
    assert all(m["mean"] == 1.0 for m in block["metrics"].values())
