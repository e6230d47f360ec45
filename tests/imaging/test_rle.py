"""RLE codecs: a mask worked out on paper, round trips, and a loop-based reference."""

from __future__ import annotations

import numpy as np
import pytest

from medbench.imaging.rle import (
    decode_rle_kaggle,
    decode_rle_relative,
    encode_rle_kaggle,
    encode_rle_relative,
)

# A 4x3 mask (H=4, W=3). Pixels are numbered down each column:
#
#          col0  col1  col2        numbers: col0  col1  col2
#   row0    0     1     0                     0     4     8
#   row1    1     1     0                     1     5     9
#   row2    1     0     0                     2     6    10
#   row3    0     0     1                     3     7    11
#
# Foreground pixels 1, 2 | 4, 5 | 11 -> runs (start, length) = (1, 2), (4, 2), (11, 1).
# kaggle (1-indexed absolute starts): "2 2 5 2 12 1".
# relative (offset from end of previous run): 1-0=1, 4-3=1, 11-6=5 -> "1 2 1 2 5 1".
PAPER = np.array([[0, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=bool)
PAPER_KAGGLE = "2 2 5 2 12 1"
PAPER_RELATIVE = "1 2 1 2 5 1"

# Bottom of col0 + top of col1 are neighbours in this numbering: pixels 3, 4 -> one run.
WRAP = np.zeros((4, 3), dtype=bool)
WRAP[3, 0] = WRAP[0, 1] = True


def reference_relative_decode(rle: str, height: int, width: int) -> np.ndarray:
    """Loop over runs the way SIIM's description reads: advance, paint, advance."""
    flat = np.zeros(width * height, dtype=bool)
    values = [int(v) for v in rle.split()]
    position = 0
    for offset, length in zip(values[0::2], values[1::2], strict=True):
        position += offset
        flat[position : position + length] = True
        position += length
    return flat.reshape(width, height).T


def test_paper_example() -> None:
    assert encode_rle_kaggle(PAPER) == PAPER_KAGGLE
    assert encode_rle_relative(PAPER) == PAPER_RELATIVE
    np.testing.assert_array_equal(decode_rle_kaggle(PAPER_KAGGLE, 4, 3), PAPER)
    np.testing.assert_array_equal(decode_rle_relative(PAPER_RELATIVE, 4, 3), PAPER)


def test_run_crossing_columns() -> None:
    assert encode_rle_kaggle(WRAP) == "4 2"
    assert encode_rle_relative(WRAP) == "3 2"
    np.testing.assert_array_equal(decode_rle_relative("3 2", 4, 3), WRAP)


def test_non_square_orientation() -> None:
    # H=2, W=5: pixel 3 is (row 1, col 1) only under column-major numbering.
    mask = decode_rle_kaggle("4 1", 2, 5)
    assert mask.shape == (2, 5) and mask[1, 1] and mask.sum() == 1


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (5, 7), (64, 48)])
@pytest.mark.parametrize("density", [0.0, 0.1, 0.5, 1.0])
def test_round_trips(shape: tuple[int, int], density: float) -> None:
    rng = np.random.default_rng(int(density * 10) + shape[0])
    mask = rng.random(shape) < density
    h, w = shape
    rel, kag = encode_rle_relative(mask), encode_rle_kaggle(mask)
    np.testing.assert_array_equal(decode_rle_relative(rel, h, w), mask)
    np.testing.assert_array_equal(decode_rle_kaggle(kag, h, w), mask)
    if mask.any():
        np.testing.assert_array_equal(reference_relative_decode(rel, h, w), mask)
        # Relative -> absolute: start_k = sum of previous (offset + length) + offset_k.
        vals = np.array(rel.split(), dtype=int)
        offsets, lengths = vals[0::2], vals[1::2]
        starts = np.cumsum(offsets + lengths) - lengths
        kvals = np.array(kag.split(), dtype=int)
        np.testing.assert_array_equal(starts, kvals[0::2] - 1)
        np.testing.assert_array_equal(lengths, kvals[1::2])


def test_empty_masks() -> None:
    empty = np.zeros((3, 4), dtype=bool)
    assert encode_rle_relative(empty) == "-1"
    assert encode_rle_kaggle(empty) == ""
    for text in ["-1", " -1", " -1 ", "", "  "]:
        assert not decode_rle_relative(text, 3, 4).any()
        assert decode_rle_kaggle(text, 3, 4).shape == (3, 4)


def test_encode_accepts_0_255_masks() -> None:
    assert encode_rle_kaggle(PAPER.astype(np.uint8) * 255) == PAPER_KAGGLE


@pytest.mark.parametrize(
    ("decode", "rle", "message"),
    [
        (decode_rle_relative, "1 2 3", "odd"),
        (decode_rle_kaggle, "5", "odd"),
        (decode_rle_relative, "1 -2", "negative"),
        (decode_rle_kaggle, "-3 2", "negative"),
        (decode_rle_relative, "10 3", "beyond"),
        (decode_rle_kaggle, "11 3", "beyond"),
        (decode_rle_kaggle, "0 2", "1-indexed"),
        (decode_rle_kaggle, "5 3 6 1", "overlap"),
        (decode_rle_kaggle, "8 1 2 1", "sorted"),
        (decode_rle_relative, "1 x", "non-integer"),
    ],
)
def test_errors(decode, rle: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode(rle, 4, 3)


def test_exact_fit_is_allowed() -> None:
    assert decode_rle_kaggle("1 12", 4, 3).all()
    assert decode_rle_relative("11 1", 4, 3)[3, 2]


def test_encode_rejects_3d() -> None:
    with pytest.raises(ValueError, match="2D"):
        encode_rle_kaggle(np.zeros((2, 2, 2), bool))
