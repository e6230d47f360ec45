"""Run-length codecs for Kaggle-style mask strings. Both number pixels column-major:
down the first column, then down the second, ... (Fortran order over (H, W)).

* relative (SIIM-ACR pneumothorax): "offset length offset length ...", each offset
  counted from the END of the previous run (the first from 0), 0-indexed; "-1" = empty.
* kaggle (Ultrasound Nerve Segmentation): "start length ...", absolute 1-indexed starts,
  sorted and non-overlapping; "" = empty.
"""

from __future__ import annotations

import numpy as np

_EMPTY_RELATIVE = "-1"


def _parse_pairs(rle: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Tokens -> (firsts, lengths) int64 arrays; None for an empty mask ("" or "-1")."""
    text = rle.strip()
    if text in ("", _EMPTY_RELATIVE):
        return None
    try:
        values = np.array([int(tok) for tok in text.split()], dtype=np.int64)
    except ValueError as exc:
        raise ValueError(f"RLE string has a non-integer token: {exc}") from exc
    if values.size % 2:
        raise ValueError(f"RLE string has an odd number of values ({values.size})")
    if (values < 0).any():
        raise ValueError(f"RLE string has a negative value ({values.min()})")
    return values[0::2], values[1::2]


def _paint(starts: np.ndarray, lengths: np.ndarray, height: int, width: int) -> np.ndarray:
    """Fill 0-indexed column-major runs into a bool (H, W) mask."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    ends = starts + lengths
    total = height * width
    if ends.size and ends.max() > total:
        bad = int(np.argmax(ends > total))
        raise ValueError(
            f"run {bad} ends at pixel {int(ends[bad])}, beyond the {height}x{width} image"
        )
    # Difference array: +1 at each start, -1 at each end; runs never overlap here.
    edges = np.zeros(total + 1, dtype=np.int32)
    np.add.at(edges, starts, 1)
    np.add.at(edges, ends, -1)
    flat = np.cumsum(edges[:-1]) > 0
    return flat.reshape(width, height).T  # column-major numbering -> (H, W)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-indexed column-major (starts, lengths) of the foreground runs of a 2D mask."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2D (H, W), got shape {mask.shape}")
    flat = np.concatenate([[False], mask.astype(bool).ravel(order="F"), [False]])
    change = np.flatnonzero(flat[1:] != flat[:-1])
    starts, ends = change[0::2], change[1::2]
    return starts, ends - starts


def decode_rle_relative(rle: str, height: int, width: int) -> np.ndarray:
    """SIIM-ACR relative RLE -> bool (H, W) mask."""
    pairs = _parse_pairs(rle)
    if pairs is None:
        return np.zeros((height, width), dtype=bool)
    offsets, lengths = pairs
    # Run k ends at sum_{m<=k}(offset_m + length_m); it starts length_k before that.
    ends = np.cumsum(offsets + lengths)
    return _paint(ends - lengths, lengths, height, width)


def encode_rle_relative(mask: np.ndarray) -> str:
    """bool/0-1 (H, W) mask -> SIIM-ACR relative RLE ("-1" when empty)."""
    starts, lengths = _runs(mask)
    if starts.size == 0:
        return _EMPTY_RELATIVE
    prev_ends = np.concatenate([[0], (starts + lengths)[:-1]])
    pairs = np.column_stack([starts - prev_ends, lengths]).ravel()
    return " ".join(str(int(v)) for v in pairs)


def decode_rle_kaggle(rle: str, height: int, width: int) -> np.ndarray:
    """Kaggle absolute 1-indexed RLE -> bool (H, W) mask."""
    pairs = _parse_pairs(rle)
    if pairs is None:
        return np.zeros((height, width), dtype=bool)
    starts, lengths = pairs
    if (starts < 1).any():
        raise ValueError("kaggle RLE starts are 1-indexed; found a start of 0")
    starts = starts - 1
    # Sorted, disjoint runs are part of the format; a violation usually means the string
    # is in another flavour (e.g. relative offsets), so refuse rather than guess.
    if (starts[1:] < (starts + lengths)[:-1]).any():
        raise ValueError("kaggle RLE runs must be sorted and must not overlap")
    return _paint(starts, lengths, height, width)


def encode_rle_kaggle(mask: np.ndarray) -> str:
    """bool/0-1 (H, W) mask -> Kaggle absolute 1-indexed RLE ("" when empty)."""
    starts, lengths = _runs(mask)
    pairs = np.column_stack([starts + 1, lengths]).ravel()
    return " ".join(str(int(v)) for v in pairs)
