"""COCO replica: the layout the official zips extract to, with planted truth.

``write(root)`` writes ``annotations/instances_val2017.json`` and ``val2017/<id:012d>.jpg``
(``year=2014``: ``instances_val2014.json`` and ``val2014/COCO_val2014_<id:012d>.jpg``). Every
image is a uniform background with uniform-colour rectangles exactly at the annotated boxes
(whole pixels, so a box's exclusive far edge is the rectangle's last pixel + 1), saved as
4:4:4 JPEG. It returns the boxes that a build must keep, as ``PlantedBox``.

Traps, each one annotation or image: a crowd region (``CROWD_ANNOTATION``), a box of
2 × 3 px (``TINY_ANNOTATION``), a box with negative width (``BAD_ANNOTATION``), an image entry
whose file is not there (``MISSING_IMAGE``, annotation ``MISSING_IMAGE_ANNOTATION``), a JPEG
tagged with EXIF orientation 6 whose boxes refer to its stored pixels (``EXIF_IMAGE``), and a
category with no annotations (toothbrush). NOT a VGMED source: not in ``REPLICAS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._files import save_json

BACKGROUND = (30, 30, 30)
JPEG_QUALITY = 95
CATEGORIES = [
    {"supercategory": "person", "id": 1, "name": "person"},
    {"supercategory": "vehicle", "id": 2, "name": "bicycle"},
    {"supercategory": "vehicle", "id": 3, "name": "car"},
    {"supercategory": "animal", "id": 17, "name": "cat"},
    {"supercategory": "animal", "id": 18, "name": "dog"},
    {"supercategory": "indoor", "id": 90, "name": "toothbrush"},
]
# as COCO's files list them (a subset)
LICENSES = [
    {
        "url": "http://creativecommons.org/licenses/by-nc-sa/2.0/",
        "id": 1,
        "name": "Attribution-NonCommercial-ShareAlike License",
    },
    {"url": "http://creativecommons.org/licenses/by/2.0/", "id": 4, "name": "Attribution License"},
]


@dataclass(frozen=True)
class _Ann:
    id: int
    category_id: int
    xywh: tuple[float, float, float, float]
    colour: tuple[int, int, int] | None  # None: not drawn
    iscrowd: int = 0


@dataclass(frozen=True)
class _Img:
    id: int
    width: int
    height: int
    license: int
    annotations: tuple[_Ann, ...]
    orientation: int | None = None
    written: bool = True


CROWD_ANNOTATION = 104
TINY_ANNOTATION = 103
BAD_ANNOTATION = 203
MISSING_IMAGE = 776
MISSING_IMAGE_ANNOTATION = 501
EXIF_IMAGE = 724

IMAGES = (
    _Img(
        139,
        96,
        64,
        4,
        (
            _Ann(101, 1, (8, 8, 16, 40), (220, 200, 190)),
            _Ann(102, 18, (40, 12, 32, 24), (130, 150, 110)),
            _Ann(TINY_ANNOTATION, 17, (84, 50, 2, 3), None),
            _Ann(CROWD_ANNOTATION, 1, (4, 52, 40, 10), None, iscrowd=1),
        ),
    ),
    _Img(
        285,
        80,
        80,
        1,
        (
            _Ann(201, 3, (8, 6, 40, 20), (200, 110, 70)),
            _Ann(202, 2, (20, 40, 48, 30), (90, 160, 220)),
            _Ann(BAD_ANNOTATION, 17, (5, 5, -3, 4), None),
        ),
    ),
    _Img(
        632,
        64,
        96,
        4,
        (
            _Ann(301, 17, (6, 8, 32, 24), (240, 240, 120)),
            _Ann(302, 18, (10, 50, 44, 36), (160, 100, 200)),
        ),
    ),
    _Img(EXIF_IMAGE, 72, 56, 1, (_Ann(401, 1, (20, 10, 24, 30), (230, 230, 230)),), orientation=6),
    _Img(
        MISSING_IMAGE,
        64,
        64,
        4,
        (_Ann(MISSING_IMAGE_ANNOTATION, 18, (10, 10, 20, 20), (200, 200, 200)),),
        written=False,
    ),
)


@dataclass(frozen=True)
class PlantedBox:
    """A box a build must keep: where its rectangle is and what colour it has."""

    image_id: int
    annotation_id: int
    file_name: str  # relative to the COCO root, e.g. "val2017/000000000139.jpg"
    label: str
    supercategory: str
    box: tuple[float, float, float, float]  # [x1, y1, x2, y2], far edges exclusive
    colour: tuple[int, int, int]
    background: tuple[int, int, int]


def split_name(year: int, split: str = "val") -> str:
    return f"{split}{year}"


def file_name_for(image_id: int, year: int, split: str = "val") -> str:
    if year == 2014:
        return f"COCO_{split}{year}_{image_id:012d}.jpg"
    return f"{image_id:012d}.jpg"


def _pixels(image: _Img) -> np.ndarray:
    rgb = np.empty((image.height, image.width, 3), dtype=np.uint8)
    rgb[...] = BACKGROUND
    for ann in image.annotations:
        if ann.colour is not None:
            x, y, w, h = (int(v) for v in ann.xywh)
            rgb[y : y + h, x : x + w] = ann.colour
    return rgb


def _save(image: _Img, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(_pixels(image))
    extra = {}
    if image.orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = image.orientation
        extra["exif"] = exif.tobytes()
    pil.save(path, format="JPEG", quality=JPEG_QUALITY, subsampling=0, **extra)


def write(root: Path, year: int = 2017, split: str = "val") -> list[PlantedBox]:
    """Write the replica under ``root`` (the COCO root) and return the boxes to keep."""
    root = Path(root)
    name = split_name(year, split)
    categories = {c["id"]: c for c in CATEGORIES}
    images, annotations, planted = [], [], []
    for image in IMAGES:
        file_name = file_name_for(image.id, year, split)
        if image.written:
            _save(image, root / name / file_name)
        images.append(
            {
                "license": image.license,
                "file_name": file_name,
                "coco_url": f"http://images.cocodataset.org/{name}/{file_name}",
                "height": image.height,
                "width": image.width,
                "date_captured": "2013-11-14 17:02:52",
                "flickr_url": f"http://farm1.staticflickr.com/1/{image.id}_replica_z.jpg",
                "id": image.id,
            }
        )
        for ann in image.annotations:
            x, y, w, h = (float(v) for v in ann.xywh)
            entry = {
                "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
                "area": abs(w * h),
                "iscrowd": ann.iscrowd,
                "image_id": image.id,
                "bbox": [x, y, w, h],
                "category_id": ann.category_id,
                "id": ann.id,
            }
            if ann.iscrowd:
                entry["segmentation"] = {
                    "counts": [0, int(w * h)],
                    "size": [image.height, image.width],
                }
            annotations.append(entry)
            keep = (
                image.written
                and not ann.iscrowd
                and ann.colour is not None
                and ann.id not in (TINY_ANNOTATION, BAD_ANNOTATION)
            )
            if keep:
                category = categories[ann.category_id]
                planted.append(
                    PlantedBox(
                        image.id,
                        ann.id,
                        f"{name}/{file_name}",
                        category["name"],
                        category["supercategory"],
                        (x, y, x + w, y + h),
                        ann.colour,  # type: ignore[arg-type]
                        BACKGROUND,
                    )
                )
    instances = {
        "info": {
            "description": "medbench COCO replica",
            "version": "1.0",
            "year": year,
            "contributor": "medbench",
            "date_created": "2017/09/01",
        },
        "licenses": LICENSES,
        "images": images,
        "annotations": annotations,
        "categories": CATEGORIES,
    }
    save_json(instances, root / "annotations" / f"instances_{name}.json", indent=None)
    return planted
