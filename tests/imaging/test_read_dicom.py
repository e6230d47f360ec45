"""DICOM readers against pydicom's modality LUT, hand computations and SimpleITK/GDCM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.data import get_testdata_file
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.pixels import apply_modality_lut
from pydicom.uid import generate_uid

from medbench.imaging.dicom import read_dicom_image, read_dicom_series
from medbench.imaging.errors import ImageReadError
from medbench.imaging.itk import raw_from_sitk
from medbench.imaging.orientation import to_display

CT_SMALL = Path(get_testdata_file("CT_small.dcm"))

# Spatial order k -> file name and InstanceNumber: neither sorts like the positions.
NAMES = ["e", "c", "a", "d", "b"]
INSTANCE = [3, 5, 1, 4, 2]
STEP_MM = 2.5
_a = np.deg2rad(20)
ROW_COS = np.array([np.cos(_a), np.sin(_a), 0.0])
COL_COS = np.array([0.0, 0.0, -1.0])  # oblique coronal: columns run to the feet
NORMAL = np.cross(ROW_COS, COL_COS)
ORIGIN = np.array([-10.0, 20.0, 30.0])


def write_series(folder: Path, uid: str | None = None) -> list[np.ndarray]:
    """5 non-square CT slices (128 rows x 100 cols); returns each slice's raw pixels."""
    uid = uid or generate_uid()
    raws = []
    for k, (name, inst) in enumerate(zip(NAMES, INSTANCE, strict=True)):
        ds = pydicom.dcmread(CT_SMALL)
        px = (ds.pixel_array[:, :100] + 10 * k).astype(np.int16)
        ds.PixelData = px.tobytes()
        ds.Columns = 100
        ds.ImageOrientationPatient = [float(v) for v in (*ROW_COS, *COL_COS)]
        ds.ImagePositionPatient = [float(v) for v in ORIGIN + NORMAL * STEP_MM * k]
        ds.PixelSpacing = [0.5, 0.8]  # row spacing, column spacing
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = inst
        ds.save_as(folder / f"{name}.dcm")
        raws.append(px)
    return raws


@pytest.fixture
def series(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    folder = tmp_path / "series"
    folder.mkdir()
    return folder, write_series(folder)


def test_ct_small_hu_matches_pydicom() -> None:
    ds = pydicom.dcmread(CT_SMALL)
    arr, meta = read_dicom_image(CT_SMALL)
    assert arr.dtype == np.float32 and arr.shape == (128, 128)
    np.testing.assert_array_equal(arr, apply_modality_lut(ds.pixel_array, ds))
    # By hand: RescaleSlope 1, RescaleIntercept -1024.
    assert (ds.RescaleSlope, ds.RescaleIntercept) == (1, -1024)
    assert arr[10, 20] == float(ds.pixel_array[10, 20]) * 1 - 1024
    assert meta["Modality"] == "CT" and meta["Rows"] == 128 and meta["Columns"] == 128
    assert meta["PixelSpacing"] == [0.661468, 0.661468] and meta["inverted"] is False


def test_single_slice_series_geometry_by_hand() -> None:
    ds = pydicom.dcmread(CT_SMALL)
    raw, files = read_dicom_series([CT_SMALL])
    assert files == [CT_SMALL]
    assert raw.data.dtype == np.int16 and raw.data.shape == (128, 128, 1)
    np.testing.assert_array_equal(raw.data[:, :, 0], ds.pixel_array.T.astype(np.int32) - 1024)
    # IOP is axial identity, PixelSpacing 0.661468, SliceThickness 5; LPS -> RAS negates x, y.
    expected = np.array(
        [
            [-0.661468, 0.0, 0.0, 158.135803],
            [0.0, -0.661468, 0.0, 179.035797],
            [0.0, 0.0, 5.0, -75.699997],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    np.testing.assert_allclose(raw.affine, expected, atol=1e-6)
    assert raw.meta["Modality"] == "CT" and raw.meta["SeriesInstanceUID"] == ds.SeriesInstanceUID


def test_series_sorted_by_position(series: tuple[Path, list[np.ndarray]]) -> None:
    folder, raws = series
    files = sorted(folder.glob("*.dcm"))  # lexical: a b c d e
    raw, ordered = read_dicom_series(files)
    assert [p.stem for p in ordered] == NAMES
    assert [p.stem for p in files] != NAMES
    assert sorted(range(5), key=INSTANCE.__getitem__) != list(range(5))
    assert raw.data.shape == (100, 128, 5)
    for k, px in enumerate(raws):
        np.testing.assert_array_equal(raw.data[:, :, k], px.T.astype(np.int32) - 1024)
    # Hand affine (RAS): columns = row cosine * 0.8, column cosine * 0.5, normal * 2.5.
    flip = np.array([-1.0, -1.0, 1.0])
    np.testing.assert_allclose(raw.affine[:3, 0], flip * ROW_COS * 0.8, atol=1e-6)
    np.testing.assert_allclose(raw.affine[:3, 1], flip * COL_COS * 0.5, atol=1e-6)
    np.testing.assert_allclose(raw.affine[:3, 2], flip * NORMAL * STEP_MM, atol=1e-5)
    np.testing.assert_allclose(raw.affine[:3, 3], flip * ORIGIN, atol=1e-5)


def test_series_matches_sitk_gdcm(series: tuple[Path, list[np.ndarray]]) -> None:
    folder, _ = series
    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(names)
    ref = raw_from_sitk(reader.Execute())
    raw, ordered = read_dicom_series(sorted(folder.glob("*.dcm")))
    assert [Path(n).name for n in names] == [p.name for p in ordered]
    np.testing.assert_allclose(raw.affine, ref.affine, atol=1e-4)
    np.testing.assert_array_equal(raw.data, ref.data)
    a, b = to_display(raw), to_display(ref)
    np.testing.assert_array_equal(a.array, b.array)
    assert a.spacing == pytest.approx(b.spacing) and a.spacing == pytest.approx((0.5, 2.5, 0.8))


def test_minority_series_dropped_and_tie_refused(tmp_path: Path) -> None:
    main, other = tmp_path / "main", tmp_path / "other"
    main.mkdir()
    other.mkdir()
    write_series(main)
    write_series(other)
    stray = other / "e.dcm"
    raw, ordered = read_dicom_series([*main.glob("*.dcm"), stray])
    assert len(ordered) == 5 and stray not in ordered
    assert raw.meta["dropped_other_series"] == 1
    with pytest.raises(ImageReadError, match="several series"):
        read_dicom_series([*main.glob("*.dcm"), *other.glob("*.dcm")])


def test_instance_number_fallback(series: tuple[Path, list[np.ndarray]]) -> None:
    folder, raws = series
    for path in folder.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        del ds.ImagePositionPatient
        ds.save_as(path)
    raw, ordered = read_dicom_series(sorted(folder.glob("*.dcm")))
    by_instance = sorted(range(5), key=INSTANCE.__getitem__)
    assert [p.stem for p in ordered] == [NAMES[k] for k in by_instance]
    np.testing.assert_array_equal(raw.data[:, :, 0], raws[by_instance[0]].T.astype(np.int32) - 1024)
    assert raw.meta["positions_missing"] is True


def test_unreadable_file_is_named(series: tuple[Path, list[np.ndarray]]) -> None:
    folder, _ = series
    junk = folder / "notes.txt"
    junk.write_text("not an image\n" * 20)
    with pytest.raises(ImageReadError) as info:
        read_dicom_series(sorted(folder.iterdir()))
    assert info.value.path == junk and "not a DICOM file" in str(info.value)
    with pytest.raises(ImageReadError, match="not a DICOM file"):
        read_dicom_image(junk)


def test_missing_pixel_data(tmp_path: Path) -> None:
    ds = pydicom.dcmread(CT_SMALL)
    del ds.PixelData
    ds.save_as(tmp_path / "nopix.dcm")
    with pytest.raises(ImageReadError, match="no pixel data"):
        read_dicom_image(tmp_path / "nopix.dcm")


def test_truncated_pixel_data(tmp_path: Path) -> None:
    blob = CT_SMALL.read_bytes()
    (tmp_path / "cut.dcm").write_bytes(blob[: len(blob) - 5000])
    with pytest.raises(ImageReadError, match="cut.dcm"):
        read_dicom_image(tmp_path / "cut.dcm")


@pytest.mark.parametrize("implicit", [True, False])
def test_no_preamble_no_file_meta(tmp_path: Path, implicit: bool) -> None:
    ds = pydicom.dcmread(CT_SMALL)
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, implicit
    write_dataset(fp, ds)  # bare data set: no 128-byte preamble, no 'DICM', no meta group
    path = tmp_path / "bare.dcm"
    path.write_bytes(fp.getvalue())
    with pytest.raises(pydicom.errors.InvalidDicomError):
        pydicom.dcmread(path)
    arr, _ = read_dicom_image(path)
    np.testing.assert_array_equal(arr, apply_modality_lut(ds.pixel_array, ds))


def test_monochrome1_inverted(tmp_path: Path) -> None:
    ds = pydicom.dcmread(CT_SMALL)
    hu = apply_modality_lut(ds.pixel_array, ds)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(tmp_path / "m1.dcm")
    arr, meta = read_dicom_image(tmp_path / "m1.dcm")
    assert meta["inverted"] is True and meta["PhotometricInterpretation"] == "MONOCHROME1"
    # By hand: signed 16-bit stored range [-32768, 32767] + intercept -1024 -> sum -2049.
    np.testing.assert_array_equal(arr + hu, np.full(hu.shape, -2049.0))
    assert np.unravel_index(arr.argmax(), arr.shape) == np.unravel_index(hu.argmin(), hu.shape)


def test_multiframe_refused(tmp_path: Path) -> None:
    ds = pydicom.dcmread(CT_SMALL)
    ds.NumberOfFrames = 2
    ds.PixelData = ds.PixelData * 2
    ds.save_as(tmp_path / "multi.dcm")
    assert pydicom.dcmread(tmp_path / "multi.dcm").pixel_array.shape == (2, 128, 128)
    with pytest.raises(ImageReadError, match="multi-frame"):
        read_dicom_image(tmp_path / "multi.dcm")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="not found"):
        read_dicom_image(tmp_path / "gone.dcm")
