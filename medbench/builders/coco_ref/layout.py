"""A COCO download as its zips extract, and the image–box candidates of one split.

::

    <root>/annotations/instances_{train,val}{2014,2017}.json
    <root>/{train,val}{2014,2017}/<file_name>   2017: 000000000139.jpg
                                                2014: COCO_val2014_000000000139.jpg

Every annotation becomes a candidate or a ``CocoSkip`` with its reason: crowd regions, boxes
under the minimum area, boxes that are malformed or outside their image, and annotations
whose image file is missing (one line per image, counting the annotations it takes along).
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from medbench.hashing import stable_hash
from medbench.imaging.boxes import clip_box, xywh_to_xyxy

# the default --split is the first of these that is present
KNOWN_SPLITS = ("val2017", "val2014", "train2017", "train2014")
ANNOTATIONS_DIR = "annotations"
DATASET = "COCO"
# A box must cover at least this many pixels (w × h after clipping), VGMED's default for
# mask pixels (ExtractConfig.min_pixels): a 3 × 3 box says nothing about grounding.
DEFAULT_MIN_PIXELS = 10.0

Progress = Callable[[str, int, int], None]


class LayoutError(Exception):
    """No usable COCO split under the root (message is one line)."""


@dataclass(frozen=True)
class CocoSplit:
    name: str  # e.g. "val2017"
    root: Path

    @property
    def annotations(self) -> Path:
        return self.root / ANNOTATIONS_DIR / f"instances_{self.name}.json"

    @property
    def images_dir(self) -> Path:
        return self.root / self.name


def find_splits(root: Path) -> list[CocoSplit]:
    """The splits whose instances file is present, in ``KNOWN_SPLITS`` order."""
    return [
        CocoSplit(name, root)
        for name in KNOWN_SPLITS
        if CocoSplit(name, root).annotations.is_file()
    ]


def choose_split(root: Path, wanted: str | None) -> tuple[CocoSplit, list[str]]:
    """The split to build (``wanted``, else the first found) and the names of all found."""
    splits = find_splits(root)
    names = [s.name for s in splits]
    if not splits:
        raise LayoutError(
            f"no COCO instances file under {root}: expected "
            f"{root / ANNOTATIONS_DIR}/instances_{{train,val}}{{2014,2017}}.json"
        )
    if wanted is None:
        return splits[0], names
    for split in splits:
        if split.name == wanted:
            return split, names
    raise LayoutError(
        f"split {wanted!r} not found under {root} "
        f"(expected {CocoSplit(wanted, root).annotations}); found: {', '.join(names)}"
    )


@dataclass(frozen=True)
class CocoSkip:
    """An annotation or image left out, and why. ``kind`` groups the reasons for counting."""

    image_id: int | None
    annotation_id: int | None
    item: str  # the image file (relative to the COCO root) or the annotation's position
    kind: str  # iscrowd | tiny_box | missing_image | bad_annotation | bad_image
    reason: str

    def line(self) -> str:
        who = []
        if self.image_id is not None:
            who.append(f"image {self.image_id}")
        if self.annotation_id is not None:
            who.append(f"annotation {self.annotation_id}")
        return f"{', '.join(who) or self.item} ({self.item}): {self.reason}"


@dataclass(frozen=True)
class CocoCandidate:
    """One image–box pair that sampling may pick. ``dataset``, ``case_id`` and
    ``slice_index`` are the fields VGMED's ``stratified_sample`` orders and spreads by: picks
    inside a category rotate over images (``case_id`` is the zero-padded image id)."""

    pair_id: str
    case_id: str
    label: str
    supercategory: str
    image_id: int
    annotation_id: int
    category_id: int
    box: tuple[float, float, float, float]  # [x1, y1, x2, y2], clipped to the image
    coco_bbox: tuple[float, float, float, float]  # [x, y, w, h] as shipped
    area: float
    file_name: str  # relative to the COCO root: "<split>/<file_name>"
    image_width: int  # as the annotations say; checked against the file before writing
    image_height: int
    license_id: int | None
    flickr_url: str
    dataset: str = DATASET
    slice_index: int = 0


@dataclass
class Instances:
    """One split's instances file, read."""

    split: CocoSplit
    candidates: list[CocoCandidate]
    skipped: list[CocoSkip]
    annotations: int  # annotations in the file
    images: int  # image entries in the file
    categories: dict[int, tuple[str, str]]  # id -> (name, supercategory)
    licenses: dict[int, tuple[str, str]]  # id -> (name, url)
    candidates_by_category: dict[str, int] = field(default_factory=dict)


def pair_id_for(image_id: int, annotation_id: int) -> str:
    return stable_hash(DATASET, image_id, annotation_id)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _int_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _safe_relative(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def _image_files(images_dir: Path) -> set[str]:
    try:
        return set(os.listdir(images_dir))
    except OSError:
        return set()


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class _Problem:
    kind: str
    reason: str


Box4 = tuple[float, float, float, float]


def _check_box(
    ann: dict, width: int, height: int, min_pixels: float
) -> tuple[Box4, Box4] | _Problem:
    """The annotation's clipped [x1, y1, x2, y2] box and its [x, y, w, h], or why it is out."""
    if ann.get("iscrowd"):
        return _Problem("iscrowd", "iscrowd=1: a crowd region, not one object")
    raw = ann.get("bbox")
    values = [_number(v) for v in raw] if isinstance(raw, list) else []
    numbers = [v for v in values if v is not None]
    if len(numbers) != 4 or len(values) != 4 or numbers[2] <= 0 or numbers[3] <= 0:
        return _Problem("bad_annotation", f"bad bbox {raw!r}: needs [x, y, width > 0, height > 0]")
    coco_bbox = (numbers[0], numbers[1], numbers[2], numbers[3])
    box = clip_box(xywh_to_xyxy(coco_bbox), width, height)
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    if box_w <= 0 or box_h <= 0:
        return _Problem("bad_annotation", f"bbox {raw!r} lies outside the {width}×{height} image")
    if box_w * box_h < min_pixels:
        return _Problem(
            "tiny_box",
            f"tiny box: {_fmt(box_w)}×{_fmt(box_h)} = {_fmt(box_w * box_h)} px² "
            f"< {_fmt(min_pixels)} (--min-pixels)",
        )
    return box, coco_bbox


def read_instances(
    split: CocoSplit, min_pixels: float = DEFAULT_MIN_PIXELS, progress: Progress | None = None
) -> Instances:
    """Read ``instances_<split>.json`` into candidates and skips. A file that is not a COCO
    instances file raises ``LayoutError``; a bad entry inside it is one skip."""
    progress = progress or (lambda stage, done, total: None)
    try:
        with open(split.annotations, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise LayoutError(f"{split.annotations}: unreadable ({exc})") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), list) for key in ("images", "annotations", "categories")
    ):
        raise LayoutError(
            f"{split.annotations}: not a COCO instances file "
            "(needs 'images', 'annotations' and 'categories' lists)"
        )
    skipped: list[CocoSkip] = []
    prefix = f"{ANNOTATIONS_DIR}/{split.annotations.name}"

    categories: dict[int, tuple[str, str]] = {}
    for index, cat in enumerate(data["categories"]):
        cat_id = _int_id(cat.get("id")) if isinstance(cat, dict) else None
        name = cat.get("name") if isinstance(cat, dict) else None
        if cat_id is None or not isinstance(name, str) or not name.strip():
            skipped.append(
                CocoSkip(
                    None,
                    None,
                    f"{prefix}#categories[{index}]",
                    "bad_annotation",
                    "bad category entry (needs an integer id and a name)",
                )
            )
            continue
        supercategory = cat.get("supercategory")
        categories[cat_id] = (
            " ".join(name.split()),
            supercategory.strip()
            if isinstance(supercategory, str) and supercategory.strip()
            else "unspecified",
        )

    licenses: dict[int, tuple[str, str]] = {}
    for lic in data.get("licenses") or []:
        if isinstance(lic, dict) and _int_id(lic.get("id")) is not None:
            licenses[lic["id"]] = (str(lic.get("name") or ""), str(lic.get("url") or ""))

    images: dict[int, dict] = {}
    for index, image in enumerate(data["images"]):
        image_id = _int_id(image.get("id")) if isinstance(image, dict) else None
        ok = (
            image_id is not None
            and _safe_relative(image.get("file_name"))
            and _int_id(image.get("width")) is not None
            and _int_id(image.get("height")) is not None
            and image["width"] > 0
            and image["height"] > 0
        )
        if not ok:
            skipped.append(
                CocoSkip(
                    image_id,
                    None,
                    f"{prefix}#images[{index}]",
                    "bad_image",
                    "bad image entry (needs an integer id, a relative file_name and a "
                    "positive integer width and height)",
                )
            )
            continue
        if image_id in images:
            skipped.append(
                CocoSkip(
                    image_id,
                    None,
                    f"{prefix}#images[{index}]",
                    "bad_image",
                    "duplicate image id: the first entry is used",
                )
            )
            continue
        images[image_id] = image

    files = _image_files(split.images_dir)
    annotations = data["annotations"]
    candidates: list[CocoCandidate] = []
    missing: dict[int, int] = defaultdict(int)  # image id -> annotations left out with it
    seen_ids: set[int] = set()
    for index, ann in enumerate(annotations):
        if index % 10_000 == 0:
            progress("read annotations", index, len(annotations))
        ann_id = _int_id(ann.get("id")) if isinstance(ann, dict) else None
        image_id = _int_id(ann.get("image_id")) if isinstance(ann, dict) else None
        image = images.get(image_id) if image_id is not None else None
        item = f"{split.name}/{image['file_name']}" if image else f"{prefix}#annotations[{index}]"
        if ann_id is None or ann_id in seen_ids:
            why = "without an integer id" if ann_id is None else "id repeated: the first is used"
            skipped.append(CocoSkip(image_id, ann_id, item, "bad_annotation", f"annotation {why}"))
            continue
        seen_ids.add(ann_id)
        if image is None:
            reason = f"unknown image id {ann.get('image_id')!r}"
            skipped.append(CocoSkip(image_id, ann_id, item, "bad_annotation", reason))
            continue
        category = categories.get(_int_id(ann.get("category_id")))  # type: ignore[arg-type]
        if category is None:
            reason = f"unknown category id {ann.get('category_id')!r}"
            skipped.append(CocoSkip(image_id, ann_id, item, "bad_annotation", reason))
            continue
        checked = _check_box(ann, image["width"], image["height"], min_pixels)
        if isinstance(checked, _Problem):
            skipped.append(CocoSkip(image_id, ann_id, item, checked.kind, checked.reason))
            continue
        file_name = image["file_name"]
        if not (
            file_name in files or ("/" in file_name and (split.images_dir / file_name).is_file())
        ):
            missing[image_id] += 1
            continue
        box, coco_bbox = checked
        area = _number(ann.get("area"))
        candidates.append(
            CocoCandidate(
                pair_id=pair_id_for(image_id, ann_id),
                case_id=f"{image_id:012d}",
                label=category[0],
                supercategory=category[1],
                image_id=image_id,
                annotation_id=ann_id,
                category_id=ann["category_id"],
                box=box,
                coco_bbox=coco_bbox,
                area=(box[2] - box[0]) * (box[3] - box[1]) if area is None else area,
                file_name=f"{split.name}/{file_name}",
                image_width=image["width"],
                image_height=image["height"],
                license_id=_int_id(image.get("license")),
                flickr_url=str(image.get("flickr_url") or ""),
            )
        )
    progress("read annotations", len(annotations), len(annotations))
    for image_id in sorted(missing):
        file_name = images[image_id]["file_name"]
        skipped.append(
            CocoSkip(
                image_id,
                None,
                f"{split.name}/{file_name}",
                "missing_image",
                f"missing image file: its {missing[image_id]} annotation(s) are left out",
            )
        )
    by_category: dict[str, int] = defaultdict(int)
    for candidate in candidates:
        by_category[candidate.label] += 1
    return Instances(
        split=split,
        candidates=candidates,
        skipped=skipped,
        annotations=len(annotations),
        images=len(data["images"]),
        categories=categories,
        licenses=licenses,
        candidates_by_category=dict(sorted(by_category.items())),
    )
