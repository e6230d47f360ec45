"""Source-spec mechanics: locating dataset folders, orientation override, size filters."""

import shutil

import nibabel as nib
import numpy as np
import pytest

from medbench.builders.vgmed.extract import ExtractConfig, extract_case
from medbench.builders.vgmed.families import PairedVolumeSource
from medbench.builders.vgmed.sources import SOURCES, get_source
from medbench.demo import msd_spleen

MSD = SOURCES["MSD-Spleen"]


def test_locate_tolerates_one_wrapping_folder(tmp_path):
    msd_spleen.write(tmp_path / "MSD-Spleen" / "Task09_Spleen-download")
    assert MSD.locate(tmp_path) == tmp_path / "MSD-Spleen" / "Task09_Spleen-download"
    cases, _ = MSD.discover(MSD.locate(tmp_path))
    assert [c.case_id for c in cases] == ["spleen_10", "spleen_2", "spleen_6"]


def test_locate_direct_and_missing(tmp_path):
    msd_spleen.write(tmp_path / "MSD-Spleen")
    assert MSD.locate(tmp_path) == tmp_path / "MSD-Spleen"
    shutil.rmtree(tmp_path / "MSD-Spleen" / "Task09_Spleen")
    assert MSD.locate(tmp_path) is None
    assert MSD.locate(tmp_path / "nowhere") is None


def test_unknown_id_lists_known_ones():
    with pytest.raises(KeyError, match="known: .*MSD-Spleen"):
        get_source("MSD-Spleeen")


def _one_case_root(tmp_path):
    """A volume whose file axes are (S, A, R)-ish and whose affine we then ignore."""
    data = np.zeros((6, 20, 30), np.int16)  # axis 0 is the slice axis for the override
    label = np.zeros(data.shape, np.uint8)
    label[3, 4:9, 10:22] = 1  # rows 4..8, columns 10..21 on slice 3
    data[label == 1] = 100
    task = tmp_path / "Custom" / "Task"
    (task / "imagesTr").mkdir(parents=True)
    (task / "labelsTr").mkdir(parents=True)
    affine = np.array([[0, 0, -1.0, 0], [0, 1.0, 0, 0], [2.0, 0, 0, 0], [0, 0, 0, 1]])
    nib.save(nib.Nifti1Image(data, affine), task / "imagesTr" / "c1.nii.gz")
    nib.save(nib.Nifti1Image(label, affine), task / "labelsTr" / "c1.nii.gz")
    return tmp_path / "Custom"


def _spec(**override):
    return PairedVolumeSource(
        id="Custom",
        title="t",
        modality="CT",
        body_part="abdomen",
        license="x",
        anchor="Task",
        label_glob="Task/labelsTr/*.nii.gz",
        image_from_label=(r"labelsTr", "imagesTr"),
        labels={"1": "kidney"},
        **override,
    )


def test_orientation_override_slices_along_the_file_axis(tmp_path):
    dataset_dir = _one_case_root(tmp_path)
    spec = _spec(reorient=False, slice_axis=0)
    cases, _ = spec.discover(dataset_dir)
    result = extract_case(spec, dataset_dir, cases[0], ExtractConfig())
    assert result.error is None
    (candidate,) = result.candidates
    # file axes kept: slice 3 of axis 0, rows = axis 1, columns = axis 2 (hand-computed)
    assert candidate.slice_index == 3 and candidate.slice_axis == "file:0"
    assert candidate.box == (10.0, 4.0, 22.0, 9.0)
    assert (candidate.image_width, candidate.image_height) == (30, 20)


def test_default_reorientation_slices_axially(tmp_path):
    dataset_dir = _one_case_root(tmp_path)
    spec = _spec()
    cases, _ = spec.discover(dataset_dir)
    (candidate,) = extract_case(spec, dataset_dir, cases[0], ExtractConfig()).candidates
    # The affine maps file axis 0 to +z (S, 2 mm): the axial slice axis, so the same slice.
    # File axis 2 runs along -x of RAS, i.e. towards the patient's left: already the LPS
    # column direction, columns stay 10..21. File axis 1 runs anterior (+y) but display
    # rows run posterior, so rows 4..8 of 20 become 19-8=11 .. 19-4=15.
    assert candidate.slice_axis == "axial" and candidate.slice_index == 3
    assert candidate.spacing == (2.0, 1.0, 1.0)
    assert candidate.box == (10.0, 11.0, 22.0, 16.0)


def test_min_size_filters_list_what_they_drop(tmp_path):
    dataset_dir = _one_case_root(tmp_path)
    spec = _spec()
    cases, _ = spec.discover(dataset_dir)
    big = extract_case(spec, dataset_dir, cases[0], ExtractConfig(min_pixels=61))
    assert big.candidates == []
    assert "60 px < 61 px minimum" in big.skipped[0].reason
    share = extract_case(spec, dataset_dir, cases[0], ExtractConfig(min_fraction=0.2))
    assert share.candidates == [] and "under 0.2 of the image" in share.skipped[0].reason
    kept = extract_case(spec, dataset_dir, cases[0], ExtractConfig(min_pixels=60))
    assert len(kept.candidates) == 1 and kept.candidates[0].area == 60


def test_four_d_images_split_into_named_channels(tmp_path):
    """MSD Task01 style: one 4D image (X, Y, Z, C), channels named by the spec."""
    data = np.zeros((20, 24, 6, 2), np.float32)
    label = np.zeros((20, 24, 6), np.uint8)
    label[5:9, 6:12, 2] = 1
    data[..., 0][label == 1] = 500.0  # FLAIR-like channel
    data[..., 1][label == 1] = 50.0
    data[..., 1][label == 0] = 10.0
    task = tmp_path / "Custom" / "Task"
    (task / "imagesTr").mkdir(parents=True)
    (task / "labelsTr").mkdir(parents=True)
    affine = np.diag([-1.0, -1.0, 1.0, 1.0])
    nib.save(nib.Nifti1Image(data, affine), task / "imagesTr" / "b1.nii.gz")
    nib.save(nib.Nifti1Image(label, affine), task / "labelsTr" / "b1.nii.gz")
    spec = PairedVolumeSource(
        id="Custom",
        title="t",
        modality="MR",
        body_part="head and neck",
        license="x",
        anchor="Task",
        label_glob="Task/labelsTr/*.nii.gz",
        image_from_label=(r"labelsTr", "imagesTr"),
        labels={"1": "edema"},
        channels=["FLAIR", "T1w"],
    )
    dataset_dir = tmp_path / "Custom"
    cases, _ = spec.discover(dataset_dir)
    loaded = spec.load(dataset_dir, cases[0])
    assert sorted(loaded.images) == ["FLAIR", "T1w"]
    assert loaded.images["FLAIR"].array.shape == (6, 24, 20)
    assert loaded.images["FLAIR"].array[2].max() == 500.0
    assert loaded.images["T1w"].array[2].max() == 50.0
    (candidate,) = extract_case(spec, dataset_dir, cases[0], ExtractConfig()).candidates
    assert candidate.channel in {"FLAIR", "T1w"}
    assert candidate.intensity.startswith("percentile:")
