"""Intensity to 8-bit: CT windows by body region, percentile clipping, RGB passthrough."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (level, width) in HU. Soft-tissue/lung/brain/bone values as used by MedSAM and
# BiomedParse (research/conversion-anchors.md §2); head-neck and pelvis are soft tissue.
CT_WINDOWS: dict[str, tuple[float, float]] = {
    "abdomen": (40.0, 400.0),
    "soft_tissue": (40.0, 400.0),
    "pelvis": (40.0, 400.0),
    "head_neck": (40.0, 400.0),
    "mediastinum": (50.0, 350.0),
    "liver": (60.0, 160.0),
    "lung": (-600.0, 1500.0),
    "brain": (40.0, 80.0),
    "bone": (400.0, 1800.0),
}

PERCENTILES = (0.5, 99.5)
# Percentiles of very large volumes are taken on every n-th slice: the estimate moves by
# far less than one grey level and it keeps MR/PET rendering off the critical path.
_PERCENTILE_SAMPLE = 2_000_000


@dataclass(frozen=True)
class IntensityRange:
    """Map [low, high] linearly onto 0..255, clipping outside. ``tag`` goes into provenance."""

    low: float
    high: float
    tag: str

    def apply(self, pixels: np.ndarray) -> np.ndarray:
        if self.high <= self.low:
            return np.zeros(pixels.shape, dtype=np.uint8)
        scaled = (pixels.astype(np.float32) - self.low) * (255.0 / (self.high - self.low))
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def ct_window(region: str) -> IntensityRange:
    if region not in CT_WINDOWS:
        raise KeyError(f"unknown CT window {region!r}; known: {', '.join(sorted(CT_WINDOWS))}")
    level, width = CT_WINDOWS[region]
    return IntensityRange(level - width / 2, level + width / 2, f"ct:{region}:{level:g}/{width:g}")


def nonzero_percentiles(volume: np.ndarray, percentiles=PERCENTILES) -> IntensityRange:
    """0.5–99.5 percentile of the non-zero voxels (MR, PET, grey X-ray/US)."""
    step = -(-volume.size // _PERCENTILE_SAMPLE)
    if step > 1 and volume.ndim >= 3 and volume.shape[0] > 1:
        volume = volume[:: min(step, volume.shape[0])]  # every n-th slice of a big volume
    flat = np.ravel(volume)
    values = flat[flat != 0]
    if values.size == 0:
        return IntensityRange(0.0, 0.0, "percentile:empty")
    low, high = np.percentile(values.astype(np.float64), percentiles)
    if high <= low and values.min() < values.max():
        # a small bright region on a flat background (under 0.5% of voxels) would render
        # black: the full range keeps it visible
        return IntensityRange(float(values.min()), float(values.max()), "minmax:nonzero")
    tag = f"percentile:{percentiles[0]:g}-{percentiles[1]:g}"
    return IntensityRange(float(low), float(high), tag)


def intensity_for(
    volume: np.ndarray, modality: str, ct_region: str | None
) -> IntensityRange | None:
    """The mapping for a whole volume; None means 8-bit data passed through unchanged."""
    if modality == "CT":
        return ct_window(ct_region or "abdomen")
    if volume.dtype == np.uint8 and (volume.ndim == 4 or modality in _EIGHT_BIT_PHOTOS):
        return None
    return nonzero_percentiles(volume)


# Photographic modalities come as 8-bit images and are stored as they are.
_EIGHT_BIT_PHOTOS = {"endoscopy", "dermoscopy", "fundus", "ultrasound"}
