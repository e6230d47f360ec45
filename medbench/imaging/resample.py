"""Resample a slice to square pixels so anatomy is not stretched."""

from __future__ import annotations

import numpy as np
from PIL import Image

# Spacing ratios closer to 1 than this are treated as square: no resampling.
SQUARE_TOLERANCE = 1e-3


def square_pixel_size(height: int, width: int, dy: float, dx: float) -> tuple[int, int]:
    """Target (height, width): the coarser axis is upsampled to the finer spacing."""
    if dy <= 0 or dx <= 0 or abs(dy / dx - 1.0) <= SQUARE_TOLERANCE:
        return height, width
    finest = min(dy, dx)
    return max(1, round(height * dy / finest)), max(1, round(width * dx / finest))


def resize_image(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a uint8 (H, W) or (H, W, 3) image to ``size`` = (H, W)."""
    if pixels.shape[:2] == size:
        return pixels
    image = Image.fromarray(pixels)
    return np.asarray(image.resize((size[1], size[0]), Image.Resampling.BILINEAR))


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a boolean mask, so labels never blend."""
    if mask.shape == size:
        return mask
    image = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(image.resize((size[1], size[0]), Image.Resampling.NEAREST)) > 127
