"""Box, slice and intensity geometry, checked against hand computations and numpy loops."""

import numpy as np
import pytest

from medbench.imaging.boxes import (
    clip_box,
    component_boxes,
    mask_bbox,
    scale_box,
    union_box,
    xywh_to_xyxy,
    xyxy_to_xywh,
)
from medbench.imaging.intensity import ct_window, nonzero_percentiles
from medbench.imaging.resample import resize_mask, square_pixel_size
from medbench.imaging.slices import choose_slices, slice_label_areas


def test_single_pixel_box_has_exclusive_far_edges():
    mask = np.zeros((6, 8), bool)
    mask[2, 5] = True
    assert mask_bbox(mask) == (5.0, 2.0, 6.0, 3.0)


def test_rectangle_box_by_hand():
    mask = np.zeros((10, 10), bool)
    mask[1:4, 2:7] = True  # rows 1..3, columns 2..6
    assert union_box(mask)[0].box == (2.0, 1.0, 7.0, 4.0)
    assert union_box(mask)[0].area == 15


def test_empty_mask_has_no_box():
    assert mask_bbox(np.zeros((4, 4), bool)) is None
    assert union_box(np.zeros((4, 4), bool)) == []
    assert component_boxes(np.zeros((4, 4), bool)) == []


def test_components_are_eight_connected_and_ordered():
    mask = np.zeros((10, 10), bool)
    mask[6:9, 1:3] = True  # lower-left blob, 6 px
    mask[1, 6] = mask[2, 7] = True  # diagonal neighbours: one component of 2 px
    boxes = component_boxes(mask)
    assert [b.box for b in boxes] == [(6.0, 1.0, 8.0, 3.0), (1.0, 6.0, 3.0, 9.0)]
    assert [b.area for b in boxes] == [2, 6]
    assert union_box(mask)[0].box == (1.0, 1.0, 8.0, 9.0)


def test_box_conversions_by_hand():
    assert xywh_to_xyxy([72.0, 128.0, 45.0, 60.0]) == (72.0, 128.0, 117.0, 188.0)
    assert xyxy_to_xywh((72.0, 128.0, 117.0, 188.0)) == (72.0, 128.0, 45.0, 60.0)
    assert clip_box((-3, 2, 50, 70), 40, 60) == (0.0, 2.0, 40.0, 60.0)
    assert scale_box((1, 2, 3, 4), 2.0, 0.5) == (2.0, 1.0, 6.0, 2.0)


def test_slice_areas_match_a_loop_over_labels_and_slices():
    rng = np.random.default_rng(0)
    volume = rng.integers(0, 6, size=(7, 13, 11)).astype(np.uint8)
    volume[3] = 0
    areas = slice_label_areas(volume)
    for k in range(volume.shape[0]):
        for v in range(6):
            assert areas[k, v] == np.count_nonzero(volume[k] == v)


def test_slice_areas_reject_non_integer_volumes():
    with pytest.raises(TypeError):
        slice_label_areas(np.zeros((2, 2, 2), np.float32))


def test_choose_largest_slice_and_ties():
    assert choose_slices(np.array([0, 3, 9, 9, 2])) == [2]
    assert choose_slices(np.zeros(5)) == []


def test_choose_spread_slices_by_hand():
    areas = np.array([0, 0, 5, 5, 0, 5, 5, 5, 5, 0])  # extent 2..8, slice 4 empty
    # targets 2, 5, 8 are all non-empty
    assert choose_slices(areas, "spread", 3) == [2, 5, 8]
    # targets 2, 4, 6, 8: 4 is empty and snaps to its nearest non-empty neighbour (3)
    assert choose_slices(areas, "spread", 4) == [2, 3, 6, 8]
    with pytest.raises(ValueError):
        choose_slices(areas, "middle")


def test_square_pixel_targets_by_hand():
    assert square_pixel_size(100, 50, 2.0, 1.0) == (200, 50)
    assert square_pixel_size(64, 64, 0.8, 0.8) == (64, 64)
    assert square_pixel_size(64, 64, 1.1, 0.7) == (round(64 * 1.1 / 0.7), 64)


def test_nearest_mask_resize_keeps_a_block_aligned():
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True
    resized = resize_mask(mask, (8, 4))  # rows doubled
    expected = np.repeat(mask, 2, axis=0)
    assert np.array_equal(resized, expected)


def test_ct_window_maps_edges_and_level():
    window = ct_window("abdomen")  # level 40, width 400 → [-160, 240]
    assert (window.low, window.high) == (-160.0, 240.0)
    out = window.apply(np.array([-1000, -160, 40, 240, 3000]))
    assert out.tolist() == [0, 0, 128, 255, 255]  # 40 HU → 127.5 → rounds to 128
    assert ct_window("lung").tag == "ct:lung:-600/1500"
    with pytest.raises(KeyError):
        ct_window("elbow")


def test_percentiles_ignore_zero_voxels():
    rng = np.random.default_rng(1)
    volume = np.zeros((10, 20, 20), np.float32)
    volume[2:8, 5:15, 5:15] = rng.uniform(100, 200, size=(6, 10, 10))
    mapping = nonzero_percentiles(volume)
    values = volume[volume != 0]
    assert mapping.low == pytest.approx(np.percentile(values, 0.5))
    assert mapping.high == pytest.approx(np.percentile(values, 99.5))
