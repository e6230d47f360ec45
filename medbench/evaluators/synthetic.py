"""Tiny synthetic task data in the real row schemas, for tests, demos and the harness's own
overhead benchmark: Med-VQA shards (``VQARow``), a VGMED shard (``VGMEDRow``), a COCO
reference shard (``CocoRefRow``) and the generalised grounding shards of the CXR benchmarks
(``GroundingRow``), written as Hub-layout Parquet with ``medbench.builders.shards.write_split``.

The rows are random but seeded; the images are small PNGs of seeded noise (each row's image
differs), the questions cover every scoring path of the VQA tasks: multiple choice, yes/no
with and without options, closed without options, and open.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image

from medbench.builders.shards import write_split
from medbench.hashing import stable_hash
from medbench.schemas.coco_ref import COCO_REF_ARROW_SCHEMA, CocoRefRow
from medbench.schemas.fields import to_arrow_row
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA, GroundingRow
from medbench.schemas.vgmed import VGMED_ARROW_SCHEMA, VGMEDRow
from medbench.schemas.vqa import BENCHMARKS, VQA_ARROW_SCHEMA, VQARow

MODALITIES = ("CT", "MR", "X-ray", "ultrasound")
BODY_PARTS = ("abdomen", "brain", "chest")
LABELS = ("liver", "spleen", "left kidney", "tumour", "lung")
SPLIT_OF = {"mmmu-med": "validation"}


def png(seed: int, width: int = 16, height: int = 16) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def vqa_rows(benchmark: str, n: int, seed: int = 0) -> list[VQARow]:
    """``n`` rows of one benchmark, cycling through the five question styles."""
    rng = random.Random(stable_hash("vqa", benchmark, seed))
    split = SPLIT_OF.get(benchmark, "test")
    rows = []
    for i in range(n):
        style = i % 5
        organ = rng.choice(LABELS)
        common = {
            "sample_id": stable_hash(benchmark, split, i),
            "benchmark": benchmark,
            "split": split,
            "source_id": str(i),
            "image": png(rng.randrange(1 << 30)),
            "image_name": f"img_{i:04d}.png",
            "modality": MODALITIES[i % len(MODALITIES)],
            "body_part": BODY_PARTS[i % len(BODY_PARTS)],
            "subset": f"subset-{i % 2}",
        }
        if style == 0:  # multiple choice
            options = [f"{organ} {word}" for word in ("cyst", "mass", "stone", "normal")]
            k = rng.randrange(len(options))
            row = VQARow(
                **common,
                question=f"What is seen in the {organ}? (case {i})",
                options=options,
                answer=options[k],
                answer_index=k,
                answer_type="closed",
                question_type="abnormality",
            )
        elif style == 1:  # yes/no with options
            yes = rng.random() < 0.5
            row = VQARow(
                **common,
                question=f"Is the {organ} enlarged? (case {i})",
                options=["yes", "no"],
                answer="yes" if yes else "no",
                answer_index=0 if yes else 1,
                answer_type="closed",
                question_type="presence",
            )
        elif style == 2:  # yes/no without options
            row = VQARow(
                **common,
                question=f"Is there a lesion in the {organ}? (case {i})",
                options=[],
                answer=rng.choice(["yes", "no"]),
                answer_type="closed",
                question_type="presence",
            )
        elif style == 3:  # closed, no options, not yes/no
            row = VQARow(
                **common,
                question=f"Which side is the {organ} lesion on? (case {i})",
                options=[],
                answer=rng.choice(["left", "right"]),
                answer_type="closed",
                question_type="position",
            )
        else:  # open
            row = VQARow(
                **common,
                question=f"What organ is shown? (case {i})",
                options=[],
                answer=f"the {organ} with a small cyst",
                answer_type="open",
                question_type="organ",
            )
        rows.append(row)
    return rows


def write_rows(out: Path, split: str, schema, rows) -> Path:
    arrow_rows = [to_arrow_row(r) for r in rows]
    sizes = [len(r["image"]["bytes"]) + 512 if r.get("image") else 512 for r in arrow_rows]
    write_split(out, split, schema, sizes, lambda r: (arrow_rows[i] for i in r))
    return out


def write_vqa(root: Path, benchmarks=BENCHMARKS, n: int = 10, seed: int = 0) -> Path:
    """``<root>/<benchmark>/data/<split>-00000-of-00001.parquet`` for each benchmark."""
    for benchmark in benchmarks:
        rows = vqa_rows(benchmark, n, seed)
        write_rows(
            Path(root) / benchmark, rows[0].split if rows else "test", VQA_ARROW_SCHEMA, rows
        )
    return Path(root)


def vgmed_rows(n: int, seed: int = 0, attribute_every: int = 4) -> list[VGMEDRow]:
    """``n`` rows; every ``attribute_every``-th is an attribute question (the grounding task
    filters those out)."""
    rng = random.Random(stable_hash("vgmed", seed))
    rows = []
    for i in range(n):
        width, height = rng.choice([(64, 48), (48, 64), (40, 40)])
        x1, y1 = rng.uniform(0, width / 2), rng.uniform(0, height / 2)
        x2, y2 = rng.uniform(x1 + 4, width), rng.uniform(y1 + 4, height)
        label = rng.choice(LABELS)
        kind = (
            "attribute"
            if attribute_every and i % attribute_every == attribute_every - 1
            else "localization"
        )
        question = (
            f"Is there a {label} in the image?"
            if kind == "localization"
            else f"What is the shape of the {label}?"
        )
        pair = stable_hash("pair", seed, i)
        rows.append(
            VGMEDRow(
                sample_id=stable_hash(pair, kind),
                pair_id=pair,
                image=png(rng.randrange(1 << 30), width, height),
                image_width=width,
                image_height=height,
                bbox=[x1, y1, x2, y2],
                label=label,
                question=question,
                question_type=kind,
                question_source="template",
                modality=MODALITIES[i % len(MODALITIES)],
                body_part=BODY_PARTS[i % len(BODY_PARTS)],
                dataset=f"dataset-{i % 3}",
                case_id=f"case-{i}",
                source_path=f"case-{i}/image.png",
                source_label="1",
                channel="",
                slice_axis="none",
                slice_index=0,
                num_slices=1,
                intensity="png",
                spacing_mm=[1.0, 1.0, 1.0],
                source_size=[1, height, width],
                box_mode="union",
                structure_area_px=int((x2 - x1) * (y2 - y1)),
            )
        )
    return rows


def write_vgmed(
    root: Path, n: int = 12, seed: int = 0, subpath: str = "vgmed", attribute_every: int = 4
) -> Path:
    """``<root>/<subpath>/data/test-00000-of-00001.parquet``."""
    rows = vgmed_rows(n, seed, attribute_every)
    write_rows(Path(root) / subpath, "test", VGMED_ARROW_SCHEMA, rows)
    return Path(root)


COCO_CATEGORIES = (("dog", "animal", 18), ("car", "vehicle", 3), ("chair", "furniture", 62))


def coco_ref_rows(n: int, seed: int = 0) -> list[CocoRefRow]:
    """``n`` COCO reference rows, alternating localization and attribute questions, built
    from the VGMED rows' images and boxes."""
    out = []
    for i, row in enumerate(vgmed_rows(n, seed, attribute_every=2)):
        name, supercategory, category_id = COCO_CATEGORIES[i % len(COCO_CATEGORIES)]
        x1, y1, x2, y2 = row.bbox
        out.append(
            CocoRefRow(
                sample_id=row.sample_id,
                pair_id=row.pair_id,
                image=row.image,
                image_width=row.image_width,
                image_height=row.image_height,
                bbox=row.bbox,
                label=name,
                supercategory=supercategory,
                question=row.question.replace(row.label, name),
                question_type=row.question_type,
                question_source="template",
                coco_split="val2017",
                coco_image_id=1000 + i,
                coco_annotation_id=5000 + i,
                coco_category_id=category_id,
                coco_bbox=[x1, y1, x2 - x1, y2 - y1],
                coco_area=float((x2 - x1) * (y2 - y1)),
                file_name=f"val2017/{1000 + i:012d}.jpg",
                image_format="PNG",
                image_note="synthetic",
                image_license="synthetic",
                image_license_url="",
                flickr_url="",
            )
        )
    return out


def write_coco_ref(root: Path, n: int = 8, seed: int = 0, subpath: str = "coco-ref") -> Path:
    """``<root>/<subpath>/data/test-00000-of-00001.parquet``."""
    write_rows(Path(root) / subpath, "test", COCO_REF_ARROW_SCHEMA, coco_ref_rows(n, seed))
    return Path(root)


GROUNDING_DATASETS = ("gmpg-imagenome", "ms-cxr", "padchest-gr", "rsna-pneumonia", "covid-rural")
GROUNDING_SPLIT_OF = {"rsna-pneumonia": "train"}
FINDINGS = ("cardiomegaly", "pleural effusion", "pneumonia", "opacity")


def grounding_rows(dataset: str, n: int, seed: int = 0) -> list[tuple[GroundingRow, bytes]]:
    """``n`` rows of one grounding dataset with their PNG images (not embedded), cycling
    through 0, 1, 2 and 3 boxes (a zero-box row is not groundable). Box corners are multiples
    of 0.5 px, at least 4 px apart, well inside the image."""
    rng = random.Random(stable_hash("grounding", dataset, seed))
    split = GROUNDING_SPLIT_OF.get(dataset, "test")
    out = []
    for i in range(n):
        width, height = rng.choice([(64, 48), (48, 64), (56, 56)])
        boxes = []
        for _ in range(i % 4):
            x1 = rng.randrange(2, width // 2) + rng.choice([0.0, 0.5])
            y1 = rng.randrange(2, height // 2) + rng.choice([0.0, 0.5])
            x2 = rng.randrange(int(x1) + 4, width - 1) + rng.choice([0.0, 0.5])
            y2 = rng.randrange(int(y1) + 4, height - 1) + rng.choice([0.0, 0.5])
            boxes.append([x1, y1, x2, y2])
        label = FINDINGS[i % len(FINDINGS)] if i % 5 else ""
        image_id = f"img-{i:04d}"
        row = GroundingRow(
            sample_id=stable_hash(dataset, seed, i),
            dataset=dataset,
            image_id=image_id,
            split=split,
            image_path=f"p{i % 3}/{image_id}.png",
            image=None,
            image_width=width,
            image_height=height,
            sentence=f"There is {label or 'something'} here (case {i})."
            if boxes
            else "No finding.",
            boxes=boxes,
            box_names=[label or "region"] * len(boxes),
            groundable=bool(boxes),
            label=label,
        )
        out.append((row, png(rng.randrange(1 << 30), width, height)))
    return out


def write_grounding(
    root: Path,
    datasets=GROUNDING_DATASETS,
    n: int = 8,
    seed: int = 0,
    image_root: Path | None = None,
) -> Path:
    """``<root>/<dataset>/data/<split>-00000-of-00001.parquet`` for each dataset, as the
    build commands write them. Images embedded (``--embed-images``), or, with ``image_root``,
    written to ``<image_root>/<dataset>/<image_path>`` and left out of the rows."""
    for dataset in datasets:
        pairs = grounding_rows(dataset, n, seed)
        rows = []
        for row, image in pairs:
            if image_root is None:
                rows.append(row.model_copy(update={"image": image}))
                continue
            path = Path(image_root) / dataset / row.image_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(image)
            rows.append(row)
        split = rows[0].split if rows else "test"
        write_rows(Path(root) / dataset, split, GROUNDING_ARROW_SCHEMA, rows)
    return Path(root)
