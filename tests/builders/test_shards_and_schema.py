"""The row model, its derived HF features / Arrow schema, and the shard writer."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Features, Image, List, Value, load_dataset
from pydantic import ValidationError

from medbench.builders.shards import plan_shards, shard_name, write_split
from medbench.schemas import VGMED_ARROW_SCHEMA, VGMED_FEATURES, VGMEDRow
from medbench.schemas.fields import to_arrow_row


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
