"""One case → candidate image–box pairs, with their slices rendered as 8-bit PNG.

Per label volume, the per-slice area of every label is computed in one pass; slices are
chosen by policy; each chosen slice is rendered once (shared by every label and box on
it) and resampled to square pixels together with its mask, so boxes are in pixels of the
stored image.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from medbench.builders.vgmed.case import CaseError, CaseRef, LoadedCase, Skip
from medbench.builders.vgmed.spec import SourceSpec
from medbench.hashing import stable_hash
from medbench.imaging.boxes import (
    MaskBox,
    box_area,
    clip_box,
    component_boxes,
    scale_box,
    union_box,
)
from medbench.imaging.errors import ImageReadError
from medbench.imaging.intensity import IntensityRange, intensity_for
from medbench.imaging.resample import resize_image, resize_mask, square_pixel_size
from medbench.imaging.slices import choose_slices, slice_label_areas
from medbench.imaging.volume import DisplayVolume


class ExtractConfig(BaseModel):
    """How slices and boxes are chosen. Part of the cache key of every case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slice_policy: Literal["largest", "spread"] = "largest"
    slices_per_structure: int = Field(1, ge=1, description="slices per structure for 'spread'")
    box_mode: Literal["union", "components"] = "union"
    min_pixels: int = Field(10, ge=0, description="drop boxes covering fewer mask pixels")
    min_fraction: float = Field(0.0, ge=0, le=1, description="drop boxes under this image share")
    channels: Literal["default", "all"] = Field(
        "default", description="multi-sequence sources: the spec's sequence per label, or all"
    )
    png_compress_level: int = Field(6, ge=0, le=9)
    seed: int = 0


@dataclass(frozen=True)
class Candidate:
    """One image–box pair that sampling may pick (everything but the pixels)."""

    pair_id: str
    dataset: str
    case_id: str
    label: str
    source_label: str
    channel: str
    slice_index: int
    num_slices: int
    box: tuple[float, float, float, float]
    box_mode: str
    area: int
    image_key: str
    image_width: int
    image_height: int
    image_bytes: int
    modality: str
    body_part: str
    source_path: str
    intensity: str
    spacing: tuple[float, float, float]
    source_size: tuple[int, int, int]
    slice_axis: str


@dataclass
class CaseResult:
    dataset: str
    case_id: str
    candidates: list[Candidate] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    error: str | None = None
    content_hash: str | None = None  # of the image voxels, to find one scan in two datasets


def encode_png(pixels: np.ndarray, compress_level: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


class _Renderer:
    """Renders (channel, slice) once, to uint8 with square pixels, and remembers it."""

    def __init__(self, case: LoadedCase, modality: str, ct_window: str | None, level: int):
        self.case, self.modality, self.ct_window, self.level = case, modality, ct_window, level
        self.ranges: dict[str, IntensityRange | None] = {}
        self.images: dict[str, bytes] = {}
        self.sizes: dict[str, tuple[int, int]] = {}

    def volume(self, channel: str) -> DisplayVolume:
        return self.case.images[channel]

    def intensity_tag(self, channel: str) -> str:
        mapping = self._range(channel)
        return "rgb" if mapping is None else mapping.tag

    def _range(self, channel: str) -> IntensityRange | None:
        if channel not in self.ranges:
            self.ranges[channel] = intensity_for(
                self.volume(channel).array, self.modality, self.ct_window
            )
        return self.ranges[channel]

    def target_size(self, channel: str) -> tuple[int, int]:
        volume = self.volume(channel)
        _, height, width = volume.array.shape[:3]
        return square_pixel_size(height, width, volume.spacing[1], volume.spacing[2])

    def render(self, channel: str, k: int) -> str:
        key = f"{channel}|{k}"
        if key not in self.images:
            pixels = self.volume(channel).array[k]
            mapping = self._range(channel)
            if mapping is not None:
                pixels = mapping.apply(pixels)
            elif pixels.dtype != np.uint8:
                pixels = np.clip(pixels, 0, 255).astype(np.uint8)
            pixels = resize_image(np.ascontiguousarray(pixels), self.target_size(channel))
            self.images[key] = encode_png(pixels, self.level)
            self.sizes[key] = (pixels.shape[1], pixels.shape[0])
        return key


def pick_channel(channels: list[str], seed: int, *parts: object) -> str:
    """One channel per (case, label), chosen by a seeded hash: stable and spread evenly."""
    if len(channels) == 1:
        return channels[0]
    return channels[int(stable_hash(seed, *parts), 16) % len(channels)]


def channels_for(
    spec: SourceSpec, channels: list[str], label: str, config: ExtractConfig, case_id: str
) -> list[str]:
    """Which sequences to render a structure on: all of them with ``channels='all'``;
    else the spec's sequence for that label, its default sequence, or a seeded pick."""
    if config.channels == "all" or len(channels) == 1:
        return channels
    for wanted in (spec.channel_for_label.get(label), spec.default_channel):
        if wanted in channels:
            return [wanted]
    return [pick_channel(channels, config.seed, spec.id, case_id, label)]


def extract_case(
    spec: SourceSpec, dataset_dir: Path, case: CaseRef, config: ExtractConfig
) -> CaseResult:
    """Load one case and turn it into candidates; errors become a one-line ``error``."""
    result = CaseResult(spec.id, case.case_id)
    spec = spec.resolve(dataset_dir)  # the layout's own channels and labels
    try:
        loaded = spec.load(dataset_dir, case)
        _extract(spec, case, loaded, config, result)
    except (CaseError, ImageReadError) as exc:
        result.error = str(exc)
    except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError) as exc:
        where = dataset_dir / case.files[0][1] if case.files else dataset_dir
        result.error = f"{where}: {type(exc).__name__}: {exc}"
    if result.error:
        result.candidates, result.images = [], {}
    return result


def _extract(
    spec: SourceSpec, case: CaseRef, loaded: LoadedCase, config: ExtractConfig, result: CaseResult
) -> None:
    modality = loaded.modality or spec.modality
    body_part = loaded.body_part or spec.body_part
    renderer = _Renderer(loaded, modality, spec.ct_window, config.png_compress_level)
    channels = sorted(loaded.images)
    result.skipped.extend(loaded.skipped)

    def skip(item: str, reason: str) -> None:
        result.skipped.append(Skip(spec.id, case.case_id, item, reason))

    first = loaded.images[channels[0]]
    shape = first.array.shape[:3]

    def add(label, source_label, channel, k, mask_box: MaskBox, mode, image_key):
        width, height = renderer.sizes[image_key]
        if mask_box.area < config.min_pixels:
            skip(f"{label}@{k}", f"{mask_box.area} px < {config.min_pixels} px minimum")
            return
        if mask_box.area < config.min_fraction * width * height:
            skip(f"{label}@{k}", f"under {config.min_fraction:g} of the image")
            return
        volume = renderer.volume(channel)
        index = sum(
            1
            for c in result.candidates
            if (c.label, c.channel, c.slice_index) == (label, channel, k)
        )
        result.candidates.append(
            Candidate(
                pair_id=stable_hash(spec.id, case.case_id, label, channel, k, mode, index),
                dataset=spec.id,
                case_id=case.case_id,
                label=label,
                source_label=source_label,
                channel=channel,
                slice_index=k,
                num_slices=volume.num_slices,
                box=tuple(float(v) for v in mask_box.box),
                box_mode=mode,
                area=mask_box.area,
                image_key=image_key,
                image_width=width,
                image_height=height,
                image_bytes=len(renderer.images[image_key]),
                modality=modality,
                body_part=body_part,
                source_path=loaded.source_path,
                intensity=renderer.intensity_tag(channel),
                spacing=tuple(float(s) for s in volume.spacing),
                source_size=tuple(int(s) for s in volume.array.shape[:3]),
                slice_axis=loaded.slice_axis,
            )
        )

    boxes_of = union_box if config.box_mode == "union" else component_boxes
    for layer in loaded.iter_layers():
        if layer.array.shape != shape:
            raise CaseError(
                f"{loaded.source_path}: label layer shape {layer.array.shape} differs from "
                f"image shape {shape}"
            )
        areas = slice_label_areas(layer.array)
        totals = areas.sum(axis=0)
        for value in np.flatnonzero(totals):
            if value != 0 and int(value) not in layer.names:
                skip(
                    f"value {value}",
                    f"label value {value} ({totals[value]} voxels) not in the label map",
                )
        for value, label in sorted(layer.names.items()):
            source_label = layer.source_labels.get(value, str(value))
            if value >= len(totals) or totals[value] == 0:
                skip(f"{label} ({source_label})", "structure absent (empty mask)")
                continue
            chosen = choose_slices(
                areas[:, value], config.slice_policy, config.slices_per_structure
            )
            for channel, k in itertools.product(
                channels_for(spec, channels, label, config, case.case_id), chosen
            ):
                mask = resize_mask(layer.array[k] == value, renderer.target_size(channel))
                image_key = renderer.render(channel, k)
                for mask_box in boxes_of(mask):
                    add(label, source_label, channel, k, mask_box, config.box_mode, image_key)
        del layer, areas  # let the next layer load without this one still held

    for native in loaded.native_boxes:
        channel = channels[0]
        image_key = renderer.render(channel, native.slice_index)
        width, height = renderer.sizes[image_key]
        source_h, source_w = renderer.volume(channel).array.shape[1:3]
        scale_x, scale_y = width / source_w, height / source_h
        box = clip_box(scale_box(native.box, scale_x, scale_y), width, height)
        if box_area(box) <= 0:
            skip(native.label, f"box {native.box} is empty or outside the image")
            continue
        add(
            native.label,
            native.source_label,
            channel,
            native.slice_index,
            MaskBox(box, round(box_area(box))),
            "native",
            image_key,
        )

    used = {c.image_key for c in result.candidates}
    result.images = {k: v for k, v in renderer.images.items() if k in used}
    result.content_hash = image_content_hash(loaded.images)


def image_content_hash(images: dict[str, DisplayVolume]) -> str:
    """Hash of one channel's voxels in display layout, independent of file format,
    orientation on disk and integer width: the same scan shipped by two datasets (FLARE22
    inside MSD-Pancreas, ISIC ids across years) hashes the same."""
    channel = min(images, key=lambda c: (c.lower(), c))
    array = images[channel].array
    kind = np.float32 if array.dtype.kind == "f" else np.int32
    digest = hashlib.sha256(repr((array.shape, np.dtype(kind).str)).encode())
    for k in range(array.shape[0]):  # slice by slice: never a full-volume copy
        digest.update(np.ascontiguousarray(array[k], dtype=kind).tobytes())
    return digest.hexdigest()[:32]
