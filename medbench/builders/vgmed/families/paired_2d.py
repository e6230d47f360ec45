"""Family G: 2D image files with mask files found by a path template (ISIC, Kvasir, BUSI...).

Optionally, boxes the source ships next to its masks (Kvasir-SEG ``kavsir_bboxes.json``) are
cross-checked against the mask: rows keep the mask boxes, and every disagreement between
the two is listed in the build report as a ``cross-check:`` line (no row is dropped by it).
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from medbench.builders.vgmed.case import CaseError, CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import glob_files, rel, unused_neighbours
from medbench.builders.vgmed.spec import SourceSpec, is_junk
from medbench.imaging.boxes import box_area, component_boxes
from medbench.imaging.raster import binary_mask, inverted_binary_mask, read_raster
from medbench.imaging.volume import display_from_2d

MaskDecoder = Literal["binary", "inverted"]
CROSS_CHECK = "cross-check"  # every reason this check writes starts with it


class NativeBoxCheck(BaseModel):
    """Boxes shipped by the source, compared with the mask's connected components.

    ``format`` ``xyxy_by_stem``: a JSON object ``{stem: {"height": H, "width": W, "bbox":
    [{"label": ..., "xmin": ..., "ymin": ..., "xmax": ..., "ymax": ...}, ...]}}`` in image
    pixels (``height``/``width`` optional). Each native box is matched to at most one
    component (greedy by IoU, best pairs first) and counts as agreeing at ``min_iou`` or
    more; components under ``min_component_pixels`` (JPEG specks) are not compared.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str  # relative to the dataset folder
    format: Literal["xyxy_by_stem"] = "xyxy_by_stem"
    min_iou: float = Field(0.5, gt=0, le=1)
    min_component_pixels: int = Field(10, ge=1)


class Paired2DSource(SourceSpec):
    """``image_globs`` find images (relative to the dataset folder). ``mask`` is a template
    relative to the dataset folder with ``{stem}`` (image name without extension) and
    ``{parent}`` (the image's folder, relative); a glob in it (``{stem}_mask*.png``) makes
    each matching file one instance of the structure. ``native_box_check`` cross-checks
    boxes shipped by the source against the masks (rows still take the mask boxes)."""

    family: ClassVar[str] = "G"
    family_name: ClassVar[str] = "paired 2D image and mask files"

    image_globs: list[str]
    mask: str
    decoder: MaskDecoder = "binary"
    label: str
    native_box_check: NativeBoxCheck | None = None

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        images, skipped = [], []
        for pattern in self.image_globs:
            found, junk = glob_files(dataset_dir, pattern, self.id)
            images += found
            skipped += junk
        native, native_skips = self._read_native_boxes(dataset_dir)
        skipped += native_skips
        cases, used = [], list(images)
        for image in images:
            image_rel = rel(image, dataset_dir)
            # names like "benign (4)" or "[1]" must not act as glob syntax
            pattern = self.mask.format(
                stem=glob.escape(image.stem), parent=glob.escape(rel(image.parent, dataset_dir))
            )
            masks = [m for m in sorted(dataset_dir.glob(pattern)) if m.is_file() and not is_junk(m)]
            if not masks:
                skipped.append(Skip(self.id, image.stem, image_rel, f"no mask {pattern}"))
                continue
            used += masks
            files = [("image", image_rel)] + [("mask", rel(m, dataset_dir)) for m in masks]
            extra: tuple[tuple[str, object], ...] = ()
            if native is not None:
                entry = native.get(image.stem)
                if entry is None:
                    skipped.append(
                        Skip(
                            self.id,
                            image.stem,
                            image_rel,
                            f"{CROSS_CHECK}: image {image.stem} has no entry in "
                            f"{self.native_box_check.path}; its mask boxes are not checked",
                        )
                    )
                else:
                    extra = (("native_size", entry[0]), ("native_boxes", entry[1]))
            cases.append(CaseRef(image.stem, tuple(files), extra))
        if native is not None:
            skipped += self._orphan_stems(native, {p.stem for p in images})
            skipped.append(self._summary(cases))
        skipped += unused_neighbours(dataset_dir, used, self.id, only_in={p.parent for p in images})
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        image_path = dataset_dir / case.file("image")
        pixels = read_raster(image_path)
        decode = binary_mask if self.decoder == "binary" else inverted_binary_mask
        union = np.zeros(pixels.shape[:2], dtype=bool)
        for _, mask_rel in case.files_for("mask"):
            mask = decode(read_raster(dataset_dir / mask_rel))
            if mask.shape != union.shape:
                raise CaseError(
                    f"{dataset_dir / mask_rel}: mask size {mask.shape} differs from image "
                    f"size {union.shape}"
                )
            union |= mask
        if pixels.ndim == 3 and pixels.shape[2] == 4:
            pixels = pixels[..., :3]
        layer = LabelLayer(union[np.newaxis].view(np.uint8), {1: self.label}, {1: "mask"})
        return LoadedCase(
            images={"": display_from_2d(pixels)},
            layers=[layer],
            source_path=case.file("image"),
            slice_axis="none",
            skipped=self._cross_check(case, union),
        )

    # -- native box cross-check ---------------------------------------------------------
    def _read_native_boxes(
        self, dataset_dir: Path
    ) -> tuple[dict[str, tuple[object, tuple]] | None, list[Skip]]:
        """stem → ((height, width) or None, ((label, box), ...)); None when not checked."""
        check = self.native_box_check
        if check is None:
            return None, []
        path = dataset_dir / check.path

        def listed(case_id: str, reason: str) -> Skip:
            return Skip(self.id, case_id, check.path, f"{CROSS_CHECK}: {reason}")

        if not path.is_file():
            return None, [listed("", f"{check.path} not found; native boxes are not checked")]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return None, [listed("", f"{check.path} is not valid JSON ({exc}); not checked")]
        if not isinstance(data, dict):
            return None, [listed("", f"{check.path} is not a JSON object by stem; not checked")]
        native, skipped = {}, []
        for stem, entry in data.items():
            try:
                size = None
                if "height" in entry or "width" in entry:
                    size = (int(entry["height"]), int(entry["width"]))
                boxes = tuple(
                    (
                        str(b.get("label", "")),
                        tuple(float(b[k]) for k in ("xmin", "ymin", "xmax", "ymax")),
                    )
                    for b in entry["bbox"]
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                reason = f"malformed entry for {stem} in {check.path} ({exc!r}); not checked"
                skipped.append(listed(str(stem), reason))
                continue
            native[str(stem)] = (size, boxes)
        return native, skipped

    def _orphan_stems(self, native: dict, image_stems: set[str]) -> list[Skip]:
        path = self.native_box_check.path
        return [
            Skip(
                self.id,
                stem,
                path,
                f"{CROSS_CHECK}: {path} has an entry for {stem} but there is no image {stem}",
            )
            for stem in sorted(set(native) - image_stems)
        ]

    def _summary(self, cases: list[CaseRef]) -> Skip:
        """One line with what was compared: cases with no other cross-check line agree."""
        check = self.native_box_check
        checked = [c for c in cases if c.get("native_boxes") is not None]
        boxes = sum(len(c.get("native_boxes")) for c in checked)
        return Skip(
            self.id,
            "",
            check.path,
            f"{CROSS_CHECK}: {boxes} native boxes of {len(checked)} of {len(cases)} images "
            f"compared with their mask components at IoU >= {check.min_iou:g}; each "
            "disagreement is a line of its own, the rest agree (no row is dropped by the check)",
        )

    def _cross_check(self, case: CaseRef, mask: np.ndarray) -> list[Skip]:
        check, natives = self.native_box_check, case.get("native_boxes")
        if check is None or natives is None:
            return []
        path, stem, skipped = check.path, case.case_id, []

        def listed(item: str, reason: str) -> None:
            skipped.append(Skip(self.id, stem, item, f"{CROSS_CHECK}: {reason}"))

        size = case.get("native_size")
        if size is not None and tuple(size) != mask.shape:
            listed(
                path,
                f"{path} gives {stem} a size of {size[0]}x{size[1]} (height x width), the "
                f"image is {mask.shape[0]}x{mask.shape[1]}",
            )
        components = [c for c in component_boxes(mask) if c.area >= check.min_component_pixels]
        ious = np.array([[iou(box, c.box) for c in components] for _, box in natives])
        ious = ious.reshape(len(natives), len(components))
        pairs = sorted(
            ((-ious[i, j], i, j) for i in range(len(natives)) for j in range(len(components))),
        )
        native_free, component_free = set(range(len(natives))), set(range(len(components)))
        for negative, i, j in pairs:
            if -negative < check.min_iou:
                break
            if i in native_free and j in component_free:
                native_free.discard(i)
                component_free.discard(j)
        for i in sorted(native_free):
            label, box = natives[i]
            best = float(ious[i].max()) if components else 0.0
            listed(
                f"{label or '?'} {_fmt(box)} (native box)",
                f"native box {_fmt(box)} of {stem} in {path} matches no mask component "
                + _why(best, check.min_iou, "component", "native box"),
            )
        for j in sorted(component_free):
            component = components[j]
            best = float(ious[:, j].max()) if natives else 0.0
            listed(
                f"{self.label} {_fmt(component.box)} (mask component)",
                f"mask component {_fmt(component.box)} ({component.area} px) of {stem} has no "
                f"native box in {path} " + _why(best, check.min_iou, "native box", "component"),
            )
        return skipped


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two [x1, y1, x2, y2] boxes (0 when both are empty)."""
    inter = box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def _fmt(box: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"


def _why(best: float, min_iou: float, other: str, rival: str) -> str:
    if best < min_iou:
        return f"(best IoU {best:.2f} < {min_iou:g})"
    return f"(its best {other}, IoU {best:.2f}, is matched to another {rival})"
