"""read_raster on files written by Pillow, and the mask decoders on hand-built arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medbench.imaging.errors import ImageReadError
from medbench.imaging.raster import (
    binary_mask,
    intensity_ranges_to_labels,
    inverted_binary_mask,
    read_raster,
)

RNG = np.random.default_rng(7)
GREY = RNG.integers(0, 256, size=(12, 10), dtype=np.uint8)
RGB = RNG.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)


def save(tmp_path: Path, name: str, arr: np.ndarray, **kwargs) -> Path:
    path = tmp_path / name
    Image.fromarray(arr).save(path, **kwargs)
    return path


@pytest.mark.parametrize("name", ["g.png", "g.tif", "g.bmp"])
def test_lossless_grey(tmp_path: Path, name: str) -> None:
    out = read_raster(save(tmp_path, name, GREY))
    assert out.dtype == np.uint8 and out.shape == (12, 10)
    np.testing.assert_array_equal(out, GREY)


@pytest.mark.parametrize("name", ["c.png", "c.tif", "c.bmp"])
def test_lossless_rgb(tmp_path: Path, name: str) -> None:
    out = read_raster(save(tmp_path, name, RGB))
    assert out.dtype == np.uint8 and out.shape == (12, 10, 3)
    np.testing.assert_array_equal(out, RGB)


def test_rgba_alpha_dropped(tmp_path: Path) -> None:
    rgba = np.dstack([RGB, np.full((12, 10), 9, np.uint8)])
    out = read_raster(save(tmp_path, "a.png", rgba))
    assert out.shape == (12, 10, 3)
    np.testing.assert_array_equal(out, RGB)


def test_la_alpha_dropped(tmp_path: Path) -> None:
    path = tmp_path / "la.png"
    Image.fromarray(np.dstack([GREY, GREY[::-1]]), mode="LA").save(path)
    np.testing.assert_array_equal(read_raster(path), GREY)


@pytest.mark.parametrize("name", ["w.png", "w.tif"])
def test_16_bit_grey(tmp_path: Path, name: str) -> None:
    deep = (GREY.astype(np.uint16) * 257)[:, ::-1].copy()
    deep[0, 0] = 65535
    out = read_raster(save(tmp_path, name, deep))
    assert out.dtype == np.uint16 and out.dtype.isnative
    np.testing.assert_array_equal(out, deep)


def test_float_and_int32_tiff(tmp_path: Path) -> None:
    f = RNG.normal(size=(5, 6)).astype(np.float32)
    np.testing.assert_array_equal(read_raster(save(tmp_path, "f.tif", f)), f)
    i = RNG.integers(-100000, 100000, size=(5, 6)).astype(np.int32)
    np.testing.assert_array_equal(read_raster(save(tmp_path, "i.tif", i)), i)


def test_jpeg_close_to_source(tmp_path: Path) -> None:
    smooth = np.add.outer(np.arange(32), np.arange(40)).astype(np.uint8) * 3
    out = read_raster(save(tmp_path, "j.jpg", smooth, quality=95))
    assert out.shape == smooth.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - smooth).max() <= 4
    colour = np.dstack([smooth, smooth[::-1], np.full_like(smooth, 128)])
    out = read_raster(save(tmp_path, "c.jpg", colour, quality=95))
    assert out.shape == (32, 40, 3) and np.abs(out.astype(int) - colour).mean() < 3


def test_palette_to_rgb_or_indices(tmp_path: Path) -> None:
    idx = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    img = Image.fromarray(idx, mode="P")
    colours = [(0, 0, 0), (200, 10, 10), (5, 6, 7)]
    img.putpalette([c for rgb in colours for c in rgb])
    img.save(tmp_path / "p.png")
    out = read_raster(tmp_path / "p.png")
    np.testing.assert_array_equal(out, np.array(colours, dtype=np.uint8)[idx])
    np.testing.assert_array_equal(read_raster(tmp_path / "p.png", palette_indices=True), idx)


def test_bilevel_to_0_255(tmp_path: Path) -> None:
    bits = GREY > 100
    out = read_raster(save(tmp_path, "b.png", bits))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.where(bits, 255, 0))


def test_truncated_and_garbage(tmp_path: Path) -> None:
    big = RNG.integers(0, 256, size=(200, 200, 3), dtype=np.uint8)
    whole = save(tmp_path, "whole.png", big).read_bytes()
    for name, blob in [("cut.png", whole[: len(whole) // 2]), ("junk.png", b"hello" * 50)]:
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(ImageReadError, match=name):
            read_raster(path)
    with pytest.raises(ImageReadError, match="not found"):
        read_raster(tmp_path / "none.png")


def test_binary_mask_grey_and_colour() -> None:
    grey = np.array([[0, 3, 127], [128, 250, 255]], dtype=np.uint8)  # 3, 250: JPEG noise
    np.testing.assert_array_equal(binary_mask(grey), [[0, 0, 0], [1, 1, 1]])
    rgb = np.zeros((1, 3, 3), np.uint8)
    rgb[0, 1] = (200, 0, 0)  # red-only annotation still counts
    rgb[0, 2] = (100, 100, 100)
    np.testing.assert_array_equal(binary_mask(rgb), [[False, True, False]])
    rgba = np.concatenate([rgb, np.full((1, 3, 1), 255, np.uint8)], axis=2)
    np.testing.assert_array_equal(binary_mask(rgba), [[False, True, False]])  # alpha ignored
    np.testing.assert_array_equal(binary_mask(grey, threshold=0), [[0, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(binary_mask(np.array([[True, False]])), [[True, False]])


def test_inverted_binary_mask() -> None:
    adam = np.array([[0, 5, 128], [255, 120, 254]], dtype=np.uint8)  # 0 = optic disc
    np.testing.assert_array_equal(inverted_binary_mask(adam), [[1, 1, 0], [0, 1, 0]])


def test_jpeg_mask_roundtrip(tmp_path: Path) -> None:
    mask = np.zeros((64, 64), dtype=bool)
    mask[13:45, 5:37] = True  # edges off the 8x8 JPEG block grid
    out = read_raster(save(tmp_path, "m.jpg", (mask * 255).astype(np.uint8), quality=75))
    assert not np.isin(out, [0, 255]).all()  # JPEG really did blur the edges
    np.testing.assert_array_equal(binary_mask(out), mask)


def test_intensity_ranges_chaos_style() -> None:
    chaos = {1: (55, 70), 2: (110, 135), 3: (175, 200), 4: (240, 255)}
    arr = np.array([[0, 55, 63, 70, 71], [109, 110, 126, 189, 252]], dtype=np.uint8)
    out = intensity_ranges_to_labels(arr, chaos)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 1, 1, 1, 0], [0, 2, 2, 3, 4]])


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({1: (0, 10), 2: (10, 20)}, "overlap"),
        ({1: (20, 10)}, "empty range"),
        ({0: (1, 2)}, "out of 1..255"),
        ({256: (1, 2)}, "out of 1..255"),
    ],
)
def test_intensity_ranges_rejects(ranges: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        intensity_ranges_to_labels(np.zeros((2, 2), np.uint8), ranges)


def test_intensity_ranges_needs_grey() -> None:
    with pytest.raises(ValueError, match="greyscale"):
        intensity_ranges_to_labels(np.zeros((2, 2, 3), np.uint8), {1: (1, 2)})
