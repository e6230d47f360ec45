"""Ordinary raster images (PNG, JPEG, TIFF, BMP) via Pillow, and mask decoders.

``read_raster`` normalises Pillow's many modes to a few array layouts: grey (H, W) as
uint8/uint16 (or int32/float32 for 'I'/'F'), colour (H, W, 3) uint8, alpha dropped.
EXIF orientation is deliberately ignored so pixels line up with masks stored beside them.
Multi-page TIFFs yield their first page.

The mask decoders are pure functions on those arrays.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import Image

from medbench.imaging.errors import ImageReadError

_GREY_MODES = {"L": None, "I;16": np.uint16, "I;16L": np.uint16, "I;16B": np.uint16}
# Modes whose alpha we drop by converting; anything else unknown goes through RGB.
_TO_GREY = {"LA", "La"}


def _to_array(img: Image.Image, palette_indices: bool) -> np.ndarray:
    mode = img.mode
    if mode in _GREY_MODES:
        arr = np.asarray(img)
        dtype = _GREY_MODES[mode]
        return arr if dtype is None else arr.astype(np.dtype(dtype).newbyteorder("="))
    if mode in ("I", "F"):
        return np.asarray(img)  # 32-bit int / float: keep values as stored
    if mode == "1":
        return np.asarray(img, dtype=np.uint8) * np.uint8(255)
    if mode == "P" and palette_indices:
        return np.asarray(img)  # label masks stored as palette indices
    if mode == "RGB":
        return np.asarray(img)
    if mode in _TO_GREY:
        return np.asarray(img.convert("L"))
    # RGBA, RGBa, P, PA, CMYK, YCbCr, LAB, HSV, ...: Pillow's conversion drops alpha.
    return np.asarray(img.convert("RGB"))


def read_raster(path: Path, *, palette_indices: bool = False) -> np.ndarray:
    """Read a 2D raster image as an array (see module doc for layouts).

    ``palette_indices=True`` returns a palette ('P') image's indices (H, W) uint8 instead of
    its RGB colours, for label masks saved with a palette.
    """
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()  # decode now so truncation surfaces here, not later
            arr = _to_array(img, palette_indices)
    except FileNotFoundError as exc:
        raise ImageReadError(path, "file not found") from exc
    # Pillow signals bad data with OSError (incl. UnidentifiedImageError), SyntaxError
    # (broken PNG chunks), ValueError, EOFError, struct.error, or a decompression-bomb error.
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
        Image.DecompressionBombError,
    ) as exc:
        raise ImageReadError(path, f"cannot read image ({type(exc).__name__}: {exc})") from exc
    return np.array(arr)  # own a writable copy, detached from Pillow's buffer


def _colour_channels(arr: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) -> (H, W, C'), without a trailing alpha channel."""
    if arr.ndim == 2:
        return arr[..., np.newaxis]
    if arr.ndim != 3:
        raise ValueError(f"mask must be (H, W) or (H, W, C), got shape {arr.shape}")
    if arr.shape[-1] in (2, 4):  # LA / RGBA: alpha is opacity, not mask content
        return arr[..., :-1]
    return arr


def binary_mask(arr: np.ndarray, threshold: int = 127) -> np.ndarray:
    """Foreground where any colour channel exceeds ``threshold`` -> bool (H, W).

    Thresholding (not ``!= 0``) absorbs JPEG ringing; "any channel" handles coloured masks.
    """
    chans = _colour_channels(np.asarray(arr))
    if chans.dtype == bool:
        return chans.any(axis=-1)
    return (chans > threshold).any(axis=-1)


def inverted_binary_mask(arr: np.ndarray, threshold: int = 127) -> np.ndarray:
    """Foreground where no channel exceeds ``threshold`` (masks drawn black on white)."""
    return ~binary_mask(arr, threshold)


def intensity_ranges_to_labels(arr: np.ndarray, ranges: dict[int, tuple[int, int]]) -> np.ndarray:
    """Grey-level coded masks -> uint8 label map: pixels in [lo, hi] (inclusive) get the id.

    Pixels in no range are 0. Ranges must not overlap and ids must be in 1..255.
    """
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise ValueError(f"intensity-coded mask must be greyscale (H, W), got shape {arr.shape}")
    spans = sorted((lo, hi, label) for label, (lo, hi) in ranges.items())
    for lo, hi, label in spans:
        if not 1 <= label <= 255:
            raise ValueError(f"label id {label} out of 1..255")
        if lo > hi:
            raise ValueError(f"empty range ({lo}, {hi}) for label {label}")
    for (_, hi_a, la), (lo_b, _, lb) in zip(spans, spans[1:], strict=False):
        if lo_b <= hi_a:
            raise ValueError(f"ranges of labels {la} and {lb} overlap")
    out = np.zeros(arr.shape, dtype=np.uint8)
    for lo, hi, label in spans:
        out[(arr >= lo) & (arr <= hi)] = label
    return out
