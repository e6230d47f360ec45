"""Intensity mapping to 8 bit, checked against numpy's own percentile and hand values."""

import numpy as np

from medbench.imaging.intensity import ct_window, nonzero_percentiles


def test_ct_window_maps_level_and_width_by_hand():
    window = ct_window("abdomen")
    # level 40, width 400 (Hounsfield): -160 -> 0, 40 -> 127.5 -> 128, 240 -> 255
    pixels = np.array([-1000, -160, 40, 240, 3000], dtype=np.int16)
    assert window.apply(pixels).tolist() == [0, 0, 128, 255, 255]


def test_percentiles_ignore_zero_background():
    rng = np.random.default_rng(0)
    volume = np.zeros((4, 32, 32), np.int16)
    volume[:, 8:24, 8:24] = rng.integers(100, 1000, (4, 16, 16))
    found = nonzero_percentiles(volume)
    low, high = np.percentile(volume[volume != 0].astype(float), (0.5, 99.5))
    assert (found.low, found.high) == (low, high)


def test_a_small_bright_region_on_a_flat_background_stays_visible():
    volume = np.full((8, 40, 40), 400, np.int16)
    volume[4, 10:13, 10:13] = 1200  # 9 of 12800 voxels: under 0.5 %
    found = nonzero_percentiles(volume)
    assert (found.low, found.high) == (400, 1200)
    rendered = found.apply(volume[4])
    assert rendered[11, 11] == 255 and rendered[0, 0] == 0
