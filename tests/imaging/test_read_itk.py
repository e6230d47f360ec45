"""read_itk against SimpleITK's own geometry (index -> physical point) and reorientation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from nibabel.testing import data_path

from medbench.imaging.errors import ImageReadError
from medbench.imaging.itk import read_itk
from medbench.imaging.nifti import read_nifti
from medbench.imaging.orientation import to_display

SAMPLES = Path(data_path)

# Direction matrices (row-major, columns = where the x, y, z index axes point in LPS).
PERMUTED = (0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0, -1.0, 0.0)
_c, _s = np.cos(np.deg2rad(15)), np.sin(np.deg2rad(15))
OBLIQUE = (_c, -_s, 0.0, 0.0, 0.0, -1.0, _s, _c, 0.0)  # coronal-ish, tilted 15 degrees


def make_image(direction: tuple[float, ...]) -> sitk.Image:
    arr = np.random.default_rng(1).integers(0, 3000, size=(4, 5, 7)).astype(np.int16)  # z, y, x
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.7, 1.3, 2.9))
    img.SetOrigin((10.0, -20.0, 5.0))
    img.SetDirection(direction)
    return img


def ras_point(img: sitk.Image, index: tuple[int, ...]) -> np.ndarray:
    x, y, z = img.TransformIndexToPhysicalPoint(index)
    return np.array([-x, -y, z])  # LPS -> RAS


@pytest.mark.parametrize("suffix", [".mha", ".mhd", ".nrrd", ".nii.gz"])
@pytest.mark.parametrize("direction", [PERMUTED, OBLIQUE], ids=["permuted", "oblique"])
def test_roundtrip_formats(tmp_path: Path, suffix: str, direction: tuple[float, ...]) -> None:
    path = tmp_path / f"vol{suffix}"
    sitk.WriteImage(make_image(direction), str(path))
    if suffix == ".mhd":
        assert path.with_suffix(".raw").exists()
    img = sitk.ReadImage(str(path))
    raw = read_itk(path)
    assert raw.data.shape == img.GetSize()
    rng = np.random.default_rng(2)
    for _ in range(10):
        idx = tuple(int(rng.integers(0, n)) for n in img.GetSize())
        assert raw.data[idx] == img[idx]  # sitk images index as (x, y, z)
        np.testing.assert_allclose(raw.affine @ [*idx, 1], [*ras_point(img, idx), 1], atol=1e-6)
    oriented = sitk.DICOMOrient(img, "LPS")
    disp = to_display(raw)
    np.testing.assert_array_equal(disp.array, sitk.GetArrayFromImage(oriented))
    np.testing.assert_allclose(disp.spacing, tuple(reversed(oriented.GetSpacing())), rtol=1e-6)


def test_mhd_with_compressed_raw(tmp_path: Path) -> None:
    path = tmp_path / "z.mhd"
    img = make_image(PERMUTED)
    sitk.WriteImage(img, str(path), useCompression=True)
    assert path.with_suffix(".zraw").exists()
    np.testing.assert_array_equal(
        np.transpose(read_itk(path).data, (2, 1, 0)), sitk.GetArrayFromImage(img)
    )


def test_2d_image_gets_singleton_slice(tmp_path: Path) -> None:
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)  # rows (y), cols (x)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.5, 0.25))
    sitk.WriteImage(img, str(tmp_path / "flat.mha"))
    raw = read_itk(tmp_path / "flat.mha")
    assert raw.data.shape == (4, 3, 1)
    assert raw.data[3, 1, 0] == arr[1, 3]
    assert raw.spacing == pytest.approx((0.5, 0.25, 1.0))


def test_vector_image_channels_last(tmp_path: Path) -> None:
    arr = np.random.default_rng(3).integers(0, 255, size=(2, 3, 4, 3)).astype(np.uint8)
    img = sitk.GetImageFromArray(arr, isVector=True)
    sitk.WriteImage(img, str(tmp_path / "rgb.mha"))
    raw = read_itk(tmp_path / "rgb.mha")
    assert raw.data.shape == (4, 3, 2, 3)
    np.testing.assert_array_equal(raw.data[3, 1, 0], arr[0, 1, 3])


@pytest.mark.parametrize(
    "name", ["anatomical.nii", "reoriented_anat_moved.nii", "example4d.nii.gz"]
)
def test_agrees_with_read_nifti(name: str) -> None:
    a, b = read_nifti(SAMPLES / name), read_itk(SAMPLES / name)
    assert a.data.shape == b.data.shape
    np.testing.assert_allclose(a.data, b.data, rtol=1e-6)
    np.testing.assert_allclose(a.affine, b.affine, atol=1e-4)


def test_unreadable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mha"
    bad.write_bytes(b"ObjectType = Image\nNDims = 3\nDimSize = 10 10 10\nElementDataFile = x.raw\n")
    with pytest.raises(ImageReadError) as info:
        read_itk(bad)
    assert str(info.value).startswith(str(bad)) and "\n" not in str(info.value)
    with pytest.raises(ImageReadError, match="not found"):
        read_itk(tmp_path / "missing.nrrd")
