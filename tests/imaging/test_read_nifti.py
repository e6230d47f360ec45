"""read_nifti against nibabel's own reader and SimpleITK's independent reorientation."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from nibabel.testing import data_path

from medbench.imaging.errors import ImageReadError
from medbench.imaging.nifti import read_nifti, read_nifti_header_shape
from medbench.imaging.orientation import to_display
from medbench.imaging.volume import RawVolume

SAMPLES = Path(data_path)
SHIPPED = [
    "anatomical.nii",  # big-endian int16, LAS
    "example4d.nii.gz",  # 4D int16
    "reoriented_anat_moved.nii",  # float32, RAS
    "example_nifti2.nii.gz",  # NIfTI-2, 4D
    "functional.nii",  # int16 with scl_slope / scl_inter
    "standard.nii.gz",  # uint8, anisotropic zooms
]


def sitk_display(path: Path) -> tuple[np.ndarray, tuple[float, ...]]:
    """ITK's route to our display layout: LPS-oriented array is [k, j, i]."""
    img = sitk.DICOMOrient(sitk.ReadImage(str(path)), "LPS")
    return sitk.GetArrayFromImage(img), tuple(reversed(img.GetSpacing()))


def permuted_nifti(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Voxels stored as (z, x, y) with negative steps on two axes."""
    rng = np.random.default_rng(0)
    data = rng.integers(-1000, 1000, size=(4, 5, 6)).astype(np.int16)
    affine = np.array(
        [
            [0.0, -2.0, 0.0, 40.0],  # j -> -x (towards patient left), 2 mm
            [0.0, 0.0, 1.5, -7.0],  # k -> +y (anterior), 1.5 mm
            [-3.0, 0.0, 0.0, 12.0],  # i -> -z (inferior), 3 mm
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    img = nib.Nifti1Image(data, affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, path)
    return data, affine


@pytest.mark.parametrize("name", SHIPPED)
def test_matches_nibabel(name: str) -> None:
    ref = nib.load(SAMPLES / name)
    raw = read_nifti(SAMPLES / name)
    np.testing.assert_allclose(raw.data, ref.get_fdata(), rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(raw.affine, ref.affine)
    assert raw.data.dtype.isnative


@pytest.mark.parametrize("name", ["anatomical.nii", "example4d.nii.gz", "standard.nii.gz"])
def test_unscaled_keeps_on_disk_dtype(name: str) -> None:
    on_disk = nib.load(SAMPLES / name).header.get_data_dtype()
    assert read_nifti(SAMPLES / name).data.dtype == on_disk.newbyteorder("=")


def test_scaling_applied_by_hand(tmp_path: Path) -> None:
    raw = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    img = nib.Nifti1Image(raw, np.eye(4))
    img.header.set_slope_inter(0.5, -10.0)
    nib.save(img, tmp_path / "s.nii")
    out = read_nifti(tmp_path / "s.nii")
    assert out.data.dtype == np.float32
    assert out.data[1, 2, 3] == pytest.approx(23 * 0.5 - 10.0)
    assert out.meta["scl_slope"] == 0.5 and out.meta["scl_inter"] == -10.0


def test_meta_header_facts() -> None:
    meta = read_nifti(SAMPLES / "standard.nii.gz").meta
    assert meta["qform_code"] == 0 and meta["sform_code"] == 2
    assert meta["pixdim"][1:4] == [1.0, 3.0, 2.0]
    assert read_nifti(SAMPLES / "example_nifti2.nii.gz").meta["format"] == "nifti2"


@pytest.mark.parametrize("name", ["anatomical.nii", "reoriented_anat_moved.nii", "standard.nii.gz"])
def test_display_matches_sitk_dicomorient(name: str) -> None:
    ref, ref_spacing = sitk_display(SAMPLES / name)
    disp = to_display(read_nifti(SAMPLES / name))
    np.testing.assert_allclose(disp.array, ref)
    np.testing.assert_allclose(disp.spacing, ref_spacing, rtol=1e-6)


def test_display_orientations_differ_between_samples() -> None:
    # Guards the test above: the two files really are stored differently.
    names = ["anatomical.nii", "reoriented_anat_moved.nii"]
    codes = {nib.aff2axcodes(nib.load(SAMPLES / n).affine) for n in names}
    assert codes == {("L", "A", "S"), ("R", "A", "S")}


def test_display_of_permuted_flipped_file(tmp_path: Path) -> None:
    path = tmp_path / "perm.nii.gz"
    data, _ = permuted_nifti(path)
    disp = to_display(read_nifti(path))
    ref, ref_spacing = sitk_display(path)
    np.testing.assert_array_equal(disp.array, ref)
    # By hand: slices = i reversed (i runs inferior), rows = k reversed (k runs anterior,
    # rows run posterior), columns = j (j runs to patient left).
    np.testing.assert_array_equal(disp.array, np.transpose(data[::-1, :, ::-1], (0, 2, 1)))
    # zooms are (3, 2, 1.5) for (i, j, k): display (dz, dy, dx) = (i, k, j).
    assert disp.spacing == pytest.approx((3.0, 1.5, 2.0))
    assert disp.spacing == pytest.approx(ref_spacing)


@pytest.mark.parametrize("name", ["example4d.nii.gz", "example_nifti2.nii.gz"])
def test_4d_channels_stay_last(name: str) -> None:
    raw = read_nifti(SAMPLES / name)
    assert nib.aff2axcodes(raw.affine) == ("L", "A", "S")
    disp = to_display(raw)
    x, y, z, c = raw.data.shape
    assert disp.array.shape == (z, y, x, c)
    # LAS -> LPS flips j only; display is [k, j, i, c].
    expected = np.transpose(raw.data[:, ::-1], (2, 1, 0, 3))
    np.testing.assert_array_equal(disp.array, expected)
    for ch in range(c):
        one = to_display(RawVolume(raw.data[..., ch], raw.affine)).array
        np.testing.assert_array_equal(disp.array[..., ch], one)


def test_five_d_vector_becomes_channels(tmp_path: Path) -> None:
    data = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 1, 3)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "v.nii")
    out = read_nifti(tmp_path / "v.nii")
    np.testing.assert_array_equal(out.data, data[:, :, :, 0, :])


@pytest.mark.parametrize("name", SHIPPED)
def test_header_shape_without_voxels(name: str) -> None:
    ref = nib.load(SAMPLES / name)
    shape, affine = read_nifti_header_shape(SAMPLES / name)
    assert shape == ref.shape
    np.testing.assert_allclose(affine, ref.affine)


def test_truncated_gzip_names_file(tmp_path: Path) -> None:
    whole = (SAMPLES / "example4d.nii.gz").read_bytes()
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImageReadError) as info:
        read_nifti(cut)
    assert "cut.nii.gz" in str(info.value) and "\n" not in str(info.value)
    assert info.value.path == cut


def test_truncated_voxels(tmp_path: Path) -> None:
    whole = (SAMPLES / "anatomical.nii").read_bytes()
    for name, blob in [("short.nii", whole[:400]), ("short.nii.gz", gzip.compress(whole[:400]))]:
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(ImageReadError, match=name):
            read_nifti(path)


@pytest.mark.parametrize(
    "blob", [b"", b"\x00" * 10, b"not a nifti at all" * 40, gzip.compress(b"\x01" * 600)]
)
def test_not_nifti(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "bad.nii"
    path.write_bytes(blob)
    with pytest.raises(ImageReadError, match="bad.nii"):
        read_nifti(path)
    with pytest.raises(ImageReadError):
        read_nifti_header_shape(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="not found"):
        read_nifti(tmp_path / "nope.nii.gz")
