"""The row model, its derived HF features / Arrow schema, and the shard writers (planned and
streaming)."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Features, Image, List, Value, load_dataset
from pydantic import ValidationError

from medbench.builders.shards import (
    MAX_SHARD_BYTES,
    TEXT_ROW_BYTES,
    TEXT_ROW_GROUP_SIZE,
    ShardWriter,
    plan_shards,
    shard_name,
    write_split,
)
from medbench.schemas import VGMED_ARROW_SCHEMA, VGMED_FEATURES, VGMEDRow
from medbench.schemas.fields import to_arrow_row
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA, CleanupStep, GroundingRow


def row(i: int, image: bytes) -> VGMEDRow:
    return VGMEDRow(
        sample_id=f"s{i}",
        pair_id=f"p{i}",
        image=image,
        image_width=4,
        image_height=3,
        bbox=[0.0, 0.0, 2.0, 1.0],
        label="spleen",
        question="Is there a spleen in the image?",
        question_type="localization",
        question_source="template",
        modality="CT",
        body_part="abdomen",
        dataset="MSD-Spleen",
        case_id="spleen_2",
        source_path="Task09_Spleen/imagesTr/spleen_2.nii.gz",
        source_label="1",
        channel="",
        slice_axis="axial",
        slice_index=i,
        num_slices=10,
        intensity="ct:abdomen:40/400",
        spacing_mm=[5.0, 0.8, 0.8],
        source_size=[10, 3, 4],
        box_mode="union",
        structure_area_px=2,
    )


def png_bytes() -> bytes:
    import io

    import numpy as np
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_features_are_derived_from_the_model():
    assert list(VGMED_FEATURES) == list(VGMEDRow.model_fields)
    assert isinstance(VGMED_FEATURES["image"], Image)
    assert VGMED_FEATURES["bbox"] == List(Value("float32"), length=4)
    assert VGMED_FEATURES["slice_index"] == Value("int32")
    assert VGMED_FEATURES["question_type"] == Value("string")
    # the Arrow schema is the one datasets derives, including the footer metadata
    assert VGMED_ARROW_SCHEMA.field("bbox").type == pa.list_(pa.float32(), 4)
    meta = json.loads(VGMED_ARROW_SCHEMA.metadata[b"huggingface"])
    assert Features.from_dict(meta["info"]["features"]) == VGMED_FEATURES


def test_row_model_rejects_bad_rows():
    good = row(0, b"x").model_dump()
    with pytest.raises(ValidationError):
        VGMEDRow(**{**good, "bbox": [1.0, 2.0, 3.0]})
    with pytest.raises(ValidationError):
        VGMEDRow(**{**good, "question_type": "counting"})


def test_plan_shards_by_hand():
    assert plan_shards([4, 4, 4, 4, 4], max_bytes=10) == [range(0, 2), range(2, 4), range(4, 5)]
    assert plan_shards([30, 1], max_bytes=10) == [range(0, 1), range(1, 2)]
    assert plan_shards([], max_bytes=10) == [range(0, 0)]
    assert shard_name("test", 0, 3) == "test-00000-of-00003.parquet"


def test_write_split_hub_layout_row_groups_and_load_dataset(tmp_path):
    image = png_bytes()
    rows = [to_arrow_row(row(i, image)) for i in range(250)]
    sizes = [len(image) + 600] * len(rows)
    max_bytes = sizes[0] * 120  # → 3 shards of 120, 120, 10 rows
    shards = write_split(
        tmp_path,
        "test",
        VGMED_ARROW_SCHEMA,
        sizes,
        lambda r: (rows[i] for i in r),
        max_bytes=max_bytes,
    )
    assert [s.path for s in shards] == [f"data/test-0000{i}-of-00003.parquet" for i in range(3)]
    assert [s.num_rows for s in shards] == [120, 120, 10]
    first = pq.ParquetFile(tmp_path / shards[0].path)
    assert [first.metadata.row_group(i).num_rows for i in range(2)] == [100, 20]
    assert b"huggingface" in first.schema_arrow.metadata
    ds = load_dataset(str(tmp_path), split="test")
    assert len(ds) == 250
    assert ds[5]["image"].size == (4, 3)  # decoded to a PIL image
    assert ds[5]["bbox"] == [0.0, 0.0, 2.0, 1.0]
    assert not list((tmp_path / ".work" / "staging").iterdir())


def test_rewrite_with_fewer_shards_removes_stale_ones(tmp_path):
    image = png_bytes()
    rows = [to_arrow_row(row(i, image)) for i in range(30)]
    sizes = [100] * 30
    write_split(
        tmp_path, "test", VGMED_ARROW_SCHEMA, sizes, lambda r: (rows[i] for i in r), max_bytes=1000
    )
    assert len(list((tmp_path / "data").glob("*.parquet"))) == 3
    write_split(tmp_path, "test", VGMED_ARROW_SCHEMA, sizes, lambda r: (rows[i] for i in r))
    assert [p.name for p in (tmp_path / "data").glob("*.parquet")] == [
        "test-00000-of-00001.parquet"
    ]


def test_an_empty_split_is_refused_not_written(tmp_path):
    with pytest.raises(ValueError, match="split 'test' has no rows"):
        write_split(tmp_path, "test", VGMED_ARROW_SCHEMA, [], lambda r: iter(()))
    assert not list(tmp_path.rglob("*.parquet"))


# --- the streaming writer ------------------------------------------------------------------------


def grounding_rows(n: int, seed: int = 0) -> tuple[list[dict], list[int]]:
    """Varied GroundingRow dicts (0-3 boxes, 0-2 trail steps, some with image bytes) and a size
    estimate per row."""
    import random

    rng = random.Random(seed)
    rows, sizes = [], []
    for i in range(n):
        k = rng.randint(0, 3)
        image = bytes(rng.getrandbits(8) for _ in range(rng.randint(50, 300))) if i % 5 else None
        row = GroundingRow(
            sample_id=f"s{i:05d}",
            dataset="gmpg-imagenome",
            image_id=f"d{i // 7}",
            split="train",
            image_path=f"files/p10/p1/s1/d{i // 7}.jpg",
            image=image,
            image_width=100,
            image_height=120,
            image_size_source="jpg-header",
            sentence="word " * rng.randint(1, 30),
            boxes=[[1.0, 2.0, 30.0 + j, 40.0] for j in range(k)],
            box_names=[f"r{j}" for j in range(k)],
            groundable=bool(k),
            attributes=["anatomicalfinding|yes|lung opacity"] * (i % 2),
            cleanup=[CleanupStep(stage="s", removed=["x"], decided_by="rule")] * rng.randint(0, 2),
        )
        rows.append(to_arrow_row(row))
        sizes.append(TEXT_ROW_BYTES + (len(image) if image else 0))
    return rows, sizes


def stream(out, rows, sizes, split="train", **options) -> list:
    with ShardWriter(out, split, GROUNDING_ARROW_SCHEMA, **options) as writer:
        for row, size in zip(rows, sizes, strict=True):
            writer.add(row, size)
        return writer.close()


@pytest.mark.parametrize("as_tuples", [False, True])
@pytest.mark.parametrize(
    "options",
    [
        {"max_bytes": 40_000},  # several shards, one batch each
        {"max_bytes": 40_000, "batch_rows": 100},  # a flush at every row group
        {"max_bytes": 40_000, "batch_bytes": 3_000},  # flushes by bytes
        {},  # one shard
    ],
)
def test_shard_writer_writes_what_write_split_writes(tmp_path, options, as_tuples):
    """Same rows and sizes: the streamed shards are byte for byte write_split's, whether the
    rows come as dicts or as tuples in column order."""
    rows, sizes = grounding_rows(700)
    names = GROUNDING_ARROW_SCHEMA.names
    streamed_rows = [tuple(r[n] for n in names) for r in rows] if as_tuples else rows
    planned = write_split(
        tmp_path / "planned",
        "train",
        GROUNDING_ARROW_SCHEMA,
        sizes,
        lambda r: (rows[i] for i in r),
        max_bytes=options.get("max_bytes", MAX_SHARD_BYTES),
    )
    streamed = stream(tmp_path / "streamed", streamed_rows, sizes, **options)
    assert streamed == planned  # names, row counts, sizes and sha256
    if "max_bytes" in options:
        assert len(streamed) > 3
    assert not list((tmp_path / "streamed" / ".work" / "staging").iterdir())


def test_shard_writer_boundaries_row_groups_and_load_dataset(tmp_path):
    image = png_bytes()
    rows = [to_arrow_row(row(i, image)) for i in range(250)]
    size = len(image) + 600
    # the writer_split test's numbers, by hand: 120 rows per shard -> 120, 120, 10 rows;
    # row groups of 100 rows within each shard
    writer = ShardWriter(tmp_path, "test", VGMED_ARROW_SCHEMA, max_bytes=size * 120, batch_rows=200)
    for r in rows:
        writer.add(r, size)
    staged = sorted(p.name for p in (tmp_path / ".work" / "staging").iterdir())
    assert staged == ["test-00000.parquet.partial", "test-00001.parquet.partial"]
    assert not (tmp_path / "data").exists()  # nothing under data/ before close()
    shards = writer.close()
    assert [s.path for s in shards] == [f"data/test-0000{i}-of-00003.parquet" for i in range(3)]
    assert [s.num_rows for s in shards] == [120, 120, 10]
    groups = [
        [f.metadata.row_group(g).num_rows for g in range(f.num_row_groups)]
        for f in (pq.ParquetFile(tmp_path / s.path) for s in shards)
    ]
    assert groups == [[100, 20], [100, 20], [10]]
    assert b"huggingface" in pq.read_schema(tmp_path / shards[0].path).metadata
    ds = load_dataset(str(tmp_path), split="test", download_mode="force_redownload")
    assert len(ds) == 250 and ds[249]["slice_index"] == 249
    assert ds[5]["image"].size == (4, 3)


def test_shard_writer_flushes_image_rows_by_bytes_at_row_group_ends(tmp_path):
    rows, _ = grounding_rows(300)
    big = [{**r, "image": {"bytes": b"\0" * 1000, "path": None}} for r in rows]
    writer = ShardWriter(tmp_path, "train", GROUNDING_ARROW_SCHEMA, batch_bytes=50_000)
    staged = tmp_path / ".work" / "staging" / "train-00000.parquet.partial"
    for i, r in enumerate(big[:150]):
        writer.add(r, 1000)
        # 50 rows pass batch_bytes, but a batch ends only where a row group does
        assert staged.exists() == (i >= 99), i
    shards = writer.close()
    parquet = pq.ParquetFile(tmp_path / shards[0].path)
    assert [parquet.metadata.row_group(g).num_rows for g in range(2)] == [100, 50]


def test_shard_writer_rows_are_all_dicts_or_all_full_tuples(tmp_path):
    rows, sizes = grounding_rows(3)
    writer = ShardWriter(tmp_path, "train", GROUNDING_ARROW_SCHEMA)
    writer.add(rows[0], sizes[0])
    with pytest.raises(ValueError, match="mix tuples and mappings"):
        writer.add(tuple(rows[1].values()), sizes[1])
    writer = ShardWriter(tmp_path, "test", GROUNDING_ARROW_SCHEMA)
    writer.add(tuple(rows[0].values())[:-1], sizes[0])  # one value short
    with pytest.raises(ValueError, match="the schema has 19 columns"):
        writer.close()


def test_shard_writer_refuses_an_empty_split(tmp_path):
    writer = ShardWriter(tmp_path, "valid", GROUNDING_ARROW_SCHEMA)
    with pytest.raises(ValueError, match="split 'valid' has no rows"):
        writer.close()
    assert not list(tmp_path.rglob("*.parquet*"))


def test_an_interrupted_stream_leaves_data_as_it_was(tmp_path):
    rows, sizes = grounding_rows(400)
    before = stream(tmp_path, rows[:50], sizes[:50])  # an earlier build's shard
    first = (tmp_path / before[0].path).read_bytes()
    with (
        pytest.raises(KeyboardInterrupt),
        ShardWriter(
            tmp_path, "train", GROUNDING_ARROW_SCHEMA, max_bytes=30_000, batch_rows=100
        ) as writer,
    ):
        for i, (r, size) in enumerate(zip(rows, sizes, strict=True)):
            writer.add(r, size)
            if i == 300:
                raise KeyboardInterrupt
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["train-00000-of-00001.parquet"]
    assert (tmp_path / before[0].path).read_bytes() == first
    assert not list((tmp_path / ".work" / "staging").iterdir())  # staged files removed


KILLED_WRITER = """
import os, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_shards_and_schema import grounding_rows
from medbench.builders.shards import ShardWriter
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA
rows, sizes = grounding_rows(400)
writer = ShardWriter(Path({out!r}), "train", GROUNDING_ARROW_SCHEMA, max_bytes=30_000,
                     batch_rows=100)
for i, (row, size) in enumerate(zip(rows, sizes)):
    writer.add(row, size)
    if i == 300:
        os._exit(9)  # killed: no cleanup runs
"""


def test_a_killed_stream_leaves_no_shard_and_the_next_one_cleans_up(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    code = KILLED_WRITER.format(tests=str(Path(__file__).parent), out=str(tmp_path))
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").iterdir())
    leftovers = sorted(p.name for p in (tmp_path / ".work" / "staging").iterdir())
    assert leftovers and all(name.endswith(".parquet.partial") for name in leftovers)
    rows, sizes = grounding_rows(400)
    shards = stream(tmp_path, rows, sizes, max_bytes=30_000)
    assert not list((tmp_path / ".work" / "staging").iterdir())
    expected = write_split(
        tmp_path / "planned",
        "train",
        GROUNDING_ARROW_SCHEMA,
        sizes,
        lambda r: (rows[i] for i in r),
        max_bytes=30_000,
    )
    assert shards == expected


def test_shard_writer_text_row_groups(tmp_path):
    schema = pa.schema([("i", pa.int64())])
    writer = ShardWriter(tmp_path, "train", schema, row_group_size=TEXT_ROW_GROUP_SIZE)
    for i in range(25_000):
        writer.add({"i": i}, 8)
    (shard,) = writer.close()
    parquet = pq.ParquetFile(tmp_path / shard.path)
    sizes = [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)]
    assert sizes == [10_000, 10_000, 5_000]
    assert parquet.read().column("i").to_pylist() == list(range(25_000))
    with pytest.raises(ValueError, match="not a multiple of 100"):
        ShardWriter(tmp_path, "x", schema, batch_rows=150)
