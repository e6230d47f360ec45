"""Broken inputs inside the real layouts, next to good cases, for converter robustness tests.

``write_bad_input_root(root)`` returns ``{posix path relative to root: what is wrong}``. Every
dataset used also keeps its normal replica cases, so a build still yields samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo import chaos, isic2018, msd_spleen, siim_acr
from medbench.demo._files import nifti_image, save_json, save_nii_gz, save_png
from medbench.demo.msd_spleen import CASES as MSD_CASES
from medbench.demo.msd_spleen import case_arrays

SEED = 0
# Header of a macOS AppleDouble file (magic 0x00051607, version 2) followed by filler.
APPLEDOUBLE = bytes.fromhex("0005160700020000") + b"Mac OS X        " + bytes(66)


def _msd(root: Path) -> dict[str, str]:
    base = root / "MSD-Spleen"
    msd_spleen.write(base, SEED)  # spleen_2, spleen_6, spleen_10 stay good
    task = base / msd_spleen.TASK
    image, label, affine = case_arrays(MSD_CASES[0], SEED)  # every bad case starts from spleen_2
    bad: dict[str, str] = {}

    def case(
        case_id: str,
        img: np.ndarray,
        lab: np.ndarray,
        lab_affine: np.ndarray | None = None,
        img_dtype: type = np.int16,
    ) -> tuple[Path, Path]:
        ip = save_nii_gz(
            nifti_image(img, affine, img_dtype), task / "imagesTr" / f"{case_id}.nii.gz"
        )
        lp = save_nii_gz(
            nifti_image(lab, affine if lab_affine is None else lab_affine, np.uint8),
            task / "labelsTr" / f"{case_id}.nii.gz",
        )
        return ip, lp

    def rel(p: Path) -> str:
        return p.relative_to(root).as_posix()

    _, lp = case("spleen_3", image, label)
    data = lp.read_bytes()
    lp.write_bytes(data[: len(data) // 2])
    bad[rel(lp)] = "truncated .nii.gz label (gzip stream cut in half)"

    _, lp = case("spleen_4", image, label[:, :, :-4])
    bad[rel(lp)] = "label shape differs from image shape (4 slices fewer)"

    shifted = affine.copy()
    shifted[0, 3] += 50.0
    _, lp = case("spleen_5", image, label, lab_affine=shifted)
    bad[rel(lp)] = "label affine differs from image affine (translated 50 mm along x)"

    extra = label.copy()
    extra[8:12, 40:44, 6:9] = 7  # away from the spleen, on the other side
    _, lp = case("spleen_7", image, extra)
    bad[rel(lp)] = "label value 7 is not in the label map {1: spleen} (a valid spleen is present)"

    nan_image = image.astype(np.float32)
    nan_image[30:34, 30:34, 7] = np.nan
    ip, _ = case("spleen_8", nan_image, label, img_dtype=np.float32)
    bad[rel(ip)] = "image has NaN voxels"

    _, lp = case("spleen_9", image, np.zeros_like(label))
    bad[rel(lp)] = "all-zero label volume"

    for folder in ("imagesTr", "labelsTr"):
        junk = task / folder / "._spleen_2.nii.gz"
        junk.write_bytes(APPLEDOUBLE)
        bad[rel(junk)] = "AppleDouble resource-fork junk, not a NIfTI file"
    # List the broken cases in dataset.json too, so readers driven by it meet them as well.
    ids = [c.case_id for c in MSD_CASES] + [f"spleen_{n}" for n in (3, 4, 5, 7, 8, 9)]
    save_json(msd_spleen.dataset_json(ids, [msd_spleen.TEST_CASE.case_id]), task / "dataset.json")
    return bad


def _chaos(root: Path) -> dict[str, str]:
    base = root / "CHAOS"
    chaos.write(base, SEED)
    series = base / chaos.MR_ROOT / "5" / "T2SPIR" / "DICOM_anon"
    victim = sorted(series.glob("*.dcm"))[5]
    victim.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return {
        victim.relative_to(root).as_posix(): "unreadable DICOM (random bytes) inside a series; "
        "its Ground PNG still exists"
    }


def _isic(root: Path) -> dict[str, str]:
    base = root / "ISIC2018"
    isic2018.write(base, SEED)
    folder = base / isic2018.INPUT
    superpixels = np.zeros((60, 80, 3), dtype=np.uint8)
    superpixels[:, 40:, 0] = 1  # superpixel index encoded in RGB, as ISIC ships them
    sp = save_png(superpixels, folder / "ISIC_0000001_superpixels.png")
    return {
        (folder / "ATTRIBUTION.txt").relative_to(root).as_posix(): "text file in the image folder",
        (folder / "LICENSE.txt").relative_to(root).as_posix(): "text file in the image folder",
        sp.relative_to(root).as_posix(): "superpixel PNG in the image folder (not an image, "
        "no ground truth)",
    }


def _siim(root: Path) -> dict[str, str]:
    base = root / "SIIM-ACR"
    siim_acr.write(base, SEED)
    csv = base / "train-rle.csv"
    orphan_id = siim_acr.image_uids(SEED, "no-dicom")[2]
    with open(csv, "a", encoding="utf-8") as f:
        f.write(f"{orphan_id}, 10 5 90 5\n")
    unlisted = siim_acr.XRay("no-row", (), "F", "044Y", "PA")
    pixels = np.full((siim_acr.SIZE, siim_acr.SIZE), siim_acr.BACKGROUND, dtype=np.uint8)
    dcm = siim_acr.write_dicom(base, SEED, unlisted, pixels)
    return {
        csv.relative_to(root).as_posix(): f"CSV row for ImageId {orphan_id} has no DICOM",
        dcm.relative_to(root).as_posix(): "DICOM whose ImageId has no CSV row",
    }


def write_bad_input_root(root: Path) -> dict[str, str]:
    """Write the broken cases (plus good ones) and describe each broken file."""
    root = Path(root)
    bad: dict[str, str] = {}
    for part in (_msd, _chaos, _isic, _siim):
        bad.update(part(root))
    return bad
