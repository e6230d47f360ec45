"""CHAOS MR replica (family E: DICOM series plus one grey PNG mask per slice, same stem).

Frames: DICOM patient coordinates are LPS (+x = patient LEFT); the blobs are placed in
nibabel RAS (+x = patient RIGHT) and converted. Each PNG mask is aligned pixel-for-pixel with
its DICOM's ``pixel_array`` (rows, columns). With IOP [1,0,0,0,1,0] columns run towards the
patient's left, so the liver (patient right) sits on the image's left.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medbench.demo._files import dicom_base, save_dicom, save_png, set_pixels, uid
from medbench.demo._geometry import Ellipsoid, check_layout, extent_lr_ap_mm, paint, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "CHAOS"
MR_ROOT = Path("CHAOS_Train_Sets") / "Train_Sets" / "MR"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
UID_ROOT = "1.2.826.0.1.3680043.8.498."

ORGANS = ("liver", "right kidney", "left kidney", "spleen")
SIDES = {"liver": "right", "right kidney": "right", "left kidney": "left", "spleen": "left"}
# RAS centre offsets (x, y, z) and radii, mm. Kidneys posterior, liver/spleen anterior.
PLACES = {
    "liver": ((24.0, 14.0, 0.0), (14.0, 12.0, 18.0)),
    "right kidney": ((20.0, -22.0, -4.0), (7.0, 8.0, 12.0)),
    "left kidney": ((-20.0, -22.0, -4.0), (7.0, 9.0, 12.0)),
    "spleen": ((-24.0, 12.0, 4.0), (8.0, 10.0, 14.0)),
}
# Uniform MR intensity per sequence: background then organs in ORGANS order.
INTENSITY = {
    "T2SPIR": (300, 700, 1100, 1500, 1900),
    "InPhase": (400, 1800, 1400, 1000, 600),
    "OutPhase": (350, 1200, 1600, 2000, 800),
}


@dataclass(frozen=True)
class Patient:
    pid: str
    spacing: float  # square in-plane pixel spacing, mm
    slice_mm: float
    grey: tuple[int, int, int, int]  # PNG value of liver, right kidney, left kidney, spleen
    t2_series: int
    t1_series: int
    shuffle_t2: bool  # file-name order differs from spatial order


PATIENTS = (
    Patient("1", 1.6, 6.0, (63, 126, 189, 252), 2, 4, False),
    Patient("5", 1.5, 7.0, (60, 130, 180, 250), 2, 6, True),
)
SIZE = 64
N_SLICES = 16


def grid(p: Patient) -> tuple[np.ndarray, np.ndarray]:
    """(RAS affine for index (column, row, k), LPS position of pixel (0, 0) at k = 0).

    k runs inferior -> superior; files are numbered from the top (superior) down.
    """
    half = (SIZE - 1) / 2 * p.spacing
    zhalf = (N_SLICES - 1) / 2 * p.slice_mm
    origin_lps = np.array([-half, -half, -zhalf])
    affine = np.diag([-p.spacing, -p.spacing, p.slice_mm, 1.0])
    affine[:3, 3] = origin_lps * np.array([-1.0, -1.0, 1.0])
    return affine, origin_lps


def organ_masks(p: Patient, affine: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    dx, dy = seeded_shift(seed, p.pid)
    shape = (SIZE, SIZE, N_SLICES)
    masks = {
        organ: Ellipsoid(organ, (c[0] + dx, c[1] + dy, c[2]), r).mask(affine, shape)
        for organ, (c, r) in PLACES.items()
    }
    check_layout(list(masks.values()))
    return masks


def slice_dataset(
    p: Patient,
    sequence: str,
    series_uid: str,
    sop_uid: str,
    instance: int,
    z: float,
    origin_lps: np.ndarray,
    pixels: np.ndarray,
    seed: int,
) -> object:
    ds = dicom_base(MR_IMAGE_STORAGE, sop_uid)
    ds.Modality = "MR"
    ds.Manufacturer = "Philips Medical Systems"
    ds.MagneticFieldStrength = 1.5
    ds.PatientID = f"CHAOS_MR_{p.pid}"
    ds.PatientName = "Anonymized"
    ds.StudyInstanceUID = uid(UID_ROOT, "chaos", seed, p.pid, "study")
    ds.FrameOfReferenceUID = uid(UID_ROOT, "chaos", seed, p.pid, "frame")
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = p.t2_series if sequence == "T2SPIR" else p.t1_series
    ds.SeriesDescription = "T2 SPIR" if sequence == "T2SPIR" else f"T1 DUAL {sequence}"
    ds.EchoTime = {"T2SPIR": 70.0, "InPhase": 4.6, "OutPhase": 2.3}[sequence]
    ds.RepetitionTime = 1600.0 if sequence == "T2SPIR" else 150.0
    ds.InstanceNumber = instance
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [float(origin_lps[0]), float(origin_lps[1]), float(z)]
    ds.SliceLocation = float(z)
    ds.PixelSpacing = [p.spacing, p.spacing]  # row spacing, column spacing
    ds.SliceThickness = p.slice_mm
    ds.SpacingBetweenSlices = p.slice_mm
    set_pixels(ds, pixels, 16)
    return ds


def write_series(
    p: Patient,
    sequence: str,
    folder: Path,
    ground: Path | None,
    stems: list[str],
    masks: dict[str, np.ndarray],
    affine: np.ndarray,
    origin_lps: np.ndarray,
    instances: list[int],
    seed: int,
) -> None:
    """Write one DICOM file per slice; ``stems[n]`` / ``instances[n]`` go to the n-th slice
    from the top. ``ground`` gets the PNG masks (same stems) when given."""
    values = INTENSITY[sequence]
    shape = (SIZE, SIZE, N_SLICES)
    volume = paint(shape, values[0], [(masks[o], values[i + 1]) for i, o in enumerate(ORGANS)])
    grey = np.zeros(shape, dtype=np.uint8)
    for organ, value in zip(ORGANS, p.grey, strict=True):
        grey[masks[organ]] = value
    series_uid = uid(UID_ROOT, "chaos", seed, p.pid, sequence, "series")
    for n, (stem, instance) in enumerate(zip(stems, instances, strict=True)):
        k = N_SLICES - 1 - n  # n-th from the top
        z = float(origin_lps[2] + k * p.slice_mm)
        sop = uid(UID_ROOT, "chaos", seed, p.pid, sequence, stem)
        # Array index is (column, row); DICOM and PNG want (row, column).
        ds = slice_dataset(
            p, sequence, series_uid, sop, instance, z, origin_lps, volume[:, :, k].T, seed
        )
        save_dicom(ds, folder / f"{stem}.dcm")
        if ground is not None:
            save_png(grey[:, :, k].T, ground / f"{stem}.png")


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = []
    for p in PATIENTS:
        affine, origin_lps = grid(p)
        masks = organ_masks(p, affine, seed)
        case = Path(dataset_dir) / MR_ROOT / p.pid
        # T2SPIR: numbered from the top; patient 5 gets names shuffled against position.
        numbers = list(range(1, N_SLICES + 1))
        names = list(numbers)
        if p.shuffle_t2:
            names = [int(v) for v in np.random.default_rng([seed, 5]).permutation(numbers)]
        t2_stems = [f"IMG-{p.t2_series:04d}-{n:05d}" for n in names]
        write_series(
            p,
            "T2SPIR",
            case / "T2SPIR" / "DICOM_anon",
            case / "T2SPIR" / "Ground",
            t2_stems,
            masks,
            affine,
            origin_lps,
            numbers,
            seed,
        )
        # T1DUAL: out- and in-phase echoes interleave in the numbering (odd = out, even = in);
        # the single Ground set is named after the InPhase files.
        t1 = case / "T1DUAL"
        out_n = [2 * n - 1 for n in numbers]
        in_n = [2 * n for n in numbers]
        write_series(
            p,
            "InPhase",
            t1 / "DICOM_anon" / "InPhase",
            t1 / "Ground",
            [f"IMG-{p.t1_series:04d}-{n:05d}" for n in in_n],
            masks,
            affine,
            origin_lps,
            in_n,
            seed,
        )
        write_series(
            p,
            "OutPhase",
            t1 / "DICOM_anon" / "OutPhase",
            None,
            [f"IMG-{p.t1_series:04d}-{n:05d}" for n in out_n],
            masks,
            affine,
            origin_lps,
            out_n,
            seed,
        )
        planted += [
            PlantedStructure(DATASET, p.pid, o, SIDES[o], extent_lr_ap_mm(masks[o], affine), None)
            for o in ORGANS
        ]
    return planted
