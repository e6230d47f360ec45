"""Checks on the layout replicas that do not depend on medbench's converter.

Everything here is recomputed from the files on disk (label files, affines, DICOM headers,
CSV, JSON); the generators' own variables are only used through ``PlantedStructure``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from nibabel.orientations import aff2axcodes
from PIL import Image
from scipy import ndimage

from medbench.demo import REPLICAS, PlantedStructure, write_demo_root
from medbench.demo.bad_inputs import write_bad_input_root

GAP = 3


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("demo")
    start = time.perf_counter()
    planted = write_demo_root(root, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed < 10.0, f"demo write took {elapsed:.1f}s (target < 5s)"
    return root, planted


def planted_for(
    planted: list[PlantedStructure], dataset: str
) -> dict[tuple[str, str], PlantedStructure]:
    out = {(p.case_key, p.label): p for p in planted if p.dataset == dataset}
    assert len(out) == sum(p.dataset == dataset for p in planted), "duplicate planted entries"
    return out


def load_nifti(path: Path) -> tuple[np.ndarray, np.ndarray]:
    img = nib.load(path)
    return np.asarray(img.dataobj), img.affine


def check_blobs(image: np.ndarray, masks: dict[str, np.ndarray]) -> None:
    """Each mask is one component of one uniform image value found nowhere else; the
    background is uniform; blobs keep GAP voxels from each other and from the border."""
    inside = np.zeros(image.shape, dtype=bool)
    for name, mask in masks.items():
        assert mask.any(), name
        _, n_components = ndimage.label(mask)
        assert n_components == 1, f"{name}: {n_components} components"
        values = np.unique(image[mask])
        assert len(values) == 1, f"{name}: not uniform {values}"
        assert np.array_equal(image == values[0], mask), f"{name}: label != blob voxels"
        for axis in range(mask.ndim):
            idx = np.nonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))[0]
            assert idx.min() >= GAP and idx.max() <= mask.shape[axis] - 1 - GAP, name
        inside |= mask
    assert len(np.unique(image[~inside])) == 1, "background not uniform"
    names = list(masks)
    box = np.ones((3,) * image.ndim, dtype=bool)
    for i, a in enumerate(names):
        grown = ndimage.binary_dilation(masks[a], structure=box, iterations=GAP)
        for b in names[i + 1 :]:
            assert not (grown & masks[b]).any(), f"{a} and {b} closer than {GAP} voxels"


def extent_by_axes(
    mask: np.ndarray, lr: int, ap: int, si: int, d_lr: float, d_ap: float
) -> tuple[float, float]:
    """LR/AP extent (mm) of the largest cross-section perpendicular to axis ``si``."""
    m = np.transpose(mask, (lr, ap, si))
    k = int(np.argmax(m.sum(axis=(0, 1))))
    xs, ys = np.nonzero(m[:, :, k])
    return (xs.max() - xs.min() + 1) * d_lr, (ys.max() - ys.min() + 1) * d_ap


def nifti_extent(mask: np.ndarray, affine: np.ndarray) -> tuple[float, float]:
    codes = aff2axcodes(affine)
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    lr = next(a for a, c in enumerate(codes) if c in "LR")
    ap = next(a for a, c in enumerate(codes) if c in "AP")
    si = next(a for a, c in enumerate(codes) if c in "SI")
    return extent_by_axes(mask, lr, ap, si, zooms[lr], zooms[ap])


def nifti_side(mask: np.ndarray, affine: np.ndarray) -> str:
    """Patient side of a blob relative to the middle of the field of view (RAS: +x = right)."""
    centroid = affine[:3, :3] @ np.mean(np.nonzero(mask), axis=1) + affine[:3, 3]
    middle = affine[:3, :3] @ ((np.asarray(mask.shape) - 1) / 2) + affine[:3, 3]
    return "right" if centroid[0] > middle[0] else "left"


def assert_extent(got: tuple[float, float], want: tuple[float, float] | None) -> None:
    assert want is not None
    assert got == pytest.approx(want, abs=1e-3)


# ---------------------------------------------------------------- per dataset


def test_registry_lists_all_ids():
    assert set(REPLICAS) == {
        "BTCV",
        "WORD",
        "FLARE22",
        "FLARE21",
        "AbdomenCT-1K",
        "AMOS2022",
        "ISIC2017",
        "ISIC2016",
        "Kvasir-SEG",
        "CVC-ClinicDB",
        "BUSI",
        "ADAM",
        "PALM19",
        "PolypDB",
        "UltrasoundNerve",
        "BraTS2020",
        "BraTS2019",
        "BraTS2018",
        "MSD-BrainTumor",
        "BraTS2013",
        "ISLES",
        "MSD-Liver",
        "MSD-Pancreas",
        "KiTS2019",
        "Chest_Image_Pneum",
        "KiTS2021",
        "CT-ORG",
        "ATM2022",
        "HVSMR2016",
        "PROMISE12",
        "PROMISE09",
        "StructSeg2019-Task1",
        "StructSeg2019-Task2",
        "CTPelvic1K",
        "autoPET",
        "LUNA16",
        "MSD-Spleen",
        "BraTS2021",
        "BraTS2015",
        "TotalSegmentator",
        "CHAOS",
        "SIIM-ACR",
        "ISIC2018",
        "SLAKE",
    }


def test_every_dataset_planted_and_fields_consistent(demo):
    _, planted = demo
    assert {p.dataset for p in planted} == set(REPLICAS)
    for p in planted:
        is_2d = p.dataset in {
            "Chest_Image_Pneum",
            "SIIM-ACR",
            "ISIC2018",
            "SLAKE",
            "ISIC2017",
            "ISIC2016",
            "Kvasir-SEG",
            "CVC-ClinicDB",
            "BUSI",
            "ADAM",
            "PALM19",
            "PolypDB",
            "UltrasoundNerve",
        }
        assert (p.extent_px is not None) == is_2d and (p.extent_mm is not None) != is_2d, p
        assert p.side in (None, "left", "right")


def test_msd_spleen(demo):
    root, planted = demo
    truth = planted_for(planted, "MSD-Spleen")
    task = root / "MSD-Spleen" / "Task09_Spleen"
    labels = sorted(p.name for p in (task / "labelsTr").glob("*.nii.gz"))
    images = sorted(p.name for p in (task / "imagesTr").glob("*.nii.gz"))
    assert labels == images == ["spleen_10.nii.gz", "spleen_2.nii.gz", "spleen_6.nii.gz"]
    assert [p.name for p in (task / "imagesTs").glob("*.nii.gz")] == ["spleen_1.nii.gz"]
    meta = json.loads((task / "dataset.json").read_text())
    assert meta["labels"] == {"0": "background", "1": "spleen"} and meta["modality"] == {"0": "CT"}
    for entry in meta["training"]:
        assert (task / entry["image"]).is_file() and (task / entry["label"]).is_file()
    axcodes, spacings = set(), set()
    for name in labels:
        image, affine = load_nifti(task / "imagesTr" / name)
        label, label_affine = load_nifti(task / "labelsTr" / name)
        assert np.allclose(affine, label_affine) and image.shape == label.shape
        assert set(np.unique(label)) == {0, 1}
        check_blobs(image, {"spleen": label == 1})
        assert image.min() >= -160 and image.max() <= 240  # inside a 40/400 window
        key = name.removesuffix(".nii.gz")
        p = truth[(key, "spleen")]
        assert_extent(nifti_extent(label == 1, affine), p.extent_mm)
        assert p.side == "left" == nifti_side(label == 1, affine)
        axcodes.add(aff2axcodes(affine))
        spacings.add(tuple(np.round(nib.load(task / "imagesTr" / name).header.get_zooms(), 3)))
    assert ("L", "P", "S") in axcodes and any(c[0] in "SI" for c in axcodes)
    assert any(abs(s[0] - s[1]) > 0.2 for s in spacings if len(s) == 3)


def test_brats2021(demo):
    root, planted = demo
    truth = planted_for(planted, "BraTS2021")
    names = {1: "necrotic tumor core", 2: "peritumoral edema", 4: "enhancing tumor"}
    cases = sorted(
        (root / "BraTS2021" / "RSNA_ASNR_MICCAI_BraTS2021_TrainingData").glob("BraTS2021_*")
    )
    assert len(cases) >= 2
    for case in cases:
        files = sorted(p.name for p in case.iterdir())
        assert files == sorted(
            f"{case.name}_{s}.nii.gz" for s in ("flair", "t1", "t1ce", "t2", "seg")
        )
        seg, affine = load_nifti(case / f"{case.name}_seg.nii.gz")
        assert set(np.unique(seg)) <= {0, 1, 2, 4}
        assert aff2axcodes(affine) == ("L", "P", "S")
        masks = {names[v]: seg == v for v in np.unique(seg) if v}
        for chan in ("flair", "t1", "t1ce", "t2"):
            image, chan_affine = load_nifti(case / f"{case.name}_{chan}.nii.gz")
            assert np.allclose(chan_affine, affine)
            check_blobs(image, masks)
        for label, mask in masks.items():
            assert_extent(nifti_extent(mask, affine), truth[(case.name, label)].extent_mm)
        assert {k[1] for k in truth if k[0] == case.name} == set(masks)


def test_brats2015(demo):
    root, planted = demo
    truth = planted_for(planted, "BraTS2015")
    names = {1: "necrosis", 2: "edema", 3: "non-enhancing tumor", 4: "enhancing tumor"}
    base = root / "BraTS2015" / "BRATS2015_Training"
    cases = sorted(base.glob("[HL]GG/*"))
    assert {c.name for c in cases} >= {"brats_2013_pat0001_1"}
    assert any(re.fullmatch(r"brats_tcia_pat\d{3}_\d{4}", c.name) for c in cases)
    assert any(c.parent.name == "LGG" for c in cases)
    for case in cases:
        files = sorted(case.glob("*/VSD*.mha"))
        assert all(f.parent.name + ".mha" == f.name for f in files)
        channels = {
            re.search(r"\.MR_([A-Za-z0-9]+)\.", f.name).group(1): f
            for f in files
            if ".MR_" in f.name
        }
        assert set(channels) == {"Flair", "T1", "T1c", "T2"}
        (ot,) = [f for f in files if re.search(r"\.OT\.", f.name)]
        assert re.match(r"VSD\.Brain_[23]more\.XX\.O\.OT\.\d+\.mha", ot.name)
        seg_img = sitk.ReadImage(str(ot))
        seg = sitk.GetArrayFromImage(seg_img)  # (k, j, i)
        direction = np.asarray(seg_img.GetDirection()).reshape(3, 3)  # columns = index axes, LPS
        spacing = seg_img.GetSpacing()
        idx_lr, idx_ap, idx_si = (int(np.argmax(np.abs(direction[r]))) for r in range(3))
        masks = {names[v]: seg == v for v in np.unique(seg) if v}
        for f in channels.values():
            img = sitk.ReadImage(str(f))
            assert img.GetOrigin() == seg_img.GetOrigin() and img.GetSize() == seg_img.GetSize()
            check_blobs(sitk.GetArrayFromImage(img), masks)
        for label, mask in masks.items():
            got = extent_by_axes(
                mask, 2 - idx_lr, 2 - idx_ap, 2 - idx_si, spacing[idx_lr], spacing[idx_ap]
            )
            assert_extent(got, truth[(case.name, label)].extent_mm)
        assert {k[1] for k in truth if k[0] == case.name} == set(masks)


def test_totalsegmentator(demo):
    root, planted = demo
    truth = planted_for(planted, "TotalSegmentator")
    names = {
        "spleen": "spleen",
        "kidney_right": "right kidney",
        "kidney_left": "left kidney",
        "liver": "liver",
        "aorta": "aorta",
    }
    base = root / "TotalSegmentator" / "Totalsegmentator_dataset_v201"
    lines = (base / "meta.csv").read_text().splitlines()
    assert lines[0] == "image_id;age;gender;institute;study_type;split"
    rows = [dict(zip(lines[0].split(";"), ln.split(";"), strict=True)) for ln in lines[1:]]
    assert {r["split"] for r in rows} <= {"train", "val", "test"} and len(rows) >= 2
    for row in rows:
        case = base / row["image_id"]
        ct, affine = load_nifti(case / "ct.nii.gz")
        masks, empty = {}, []
        for f in sorted((case / "segmentations").glob("*.nii.gz")):
            m, m_affine = load_nifti(f)
            assert (
                m.dtype == np.uint8
                and np.allclose(m_affine, affine)
                and set(np.unique(m)) <= {0, 1}
            )
            stem = f.name.removesuffix(".nii.gz")
            if m.any():
                masks[names[stem]] = m == 1
            else:
                empty.append(stem)
        assert {"brain", "skull"} <= set(empty)
        check_blobs(ct, masks)
        assert ct.min() >= -160 and ct.max() <= 240
        assert {k[1] for k in truth if k[0] == case.name} == set(masks)
        for label, mask in masks.items():
            p = truth[(case.name, label)]
            assert_extent(nifti_extent(mask, affine), p.extent_mm)
            if p.side is not None:
                assert nifti_side(mask, affine) == p.side
        for label, side in (("liver", "right"), ("spleen", "left")):
            if label in masks:
                assert truth[(case.name, label)].side == side


CHAOS_RANGES = {
    "liver": (55, 70),
    "right kidney": (110, 135),
    "left kidney": (175, 200),
    "spleen": (240, 255),
}


def read_chaos_series(dicom_dir: Path, ground_dir: Path | None):
    """Slices sorted by z with (stem, dataset); PNGs by stem if ``ground_dir`` is given."""
    slices = [(f.stem, pydicom.dcmread(f)) for f in dicom_dir.glob("*.dcm")]
    slices.sort(key=lambda s: float(s[1].ImagePositionPatient[2]))
    pngs = None
    if ground_dir is not None:
        pngs = [np.asarray(Image.open(ground_dir / f"{stem}.png")) for stem, _ in slices]
    return slices, pngs


def test_chaos(demo):
    root, planted = demo
    truth = planted_for(planted, "CHAOS")
    base = root / "CHAOS" / "CHAOS_Train_Sets" / "Train_Sets" / "MR"
    pids = sorted(p.name for p in base.iterdir())
    assert len(pids) >= 2 and pids != [str(i) for i in range(1, len(pids) + 1)]
    shuffled_seen = False
    for pid in pids:
        t2 = base / pid / "T2SPIR"
        t1 = base / pid / "T1DUAL"
        assert sorted(p.stem for p in (t2 / "DICOM_anon").glob("*.dcm")) == sorted(
            p.stem for p in (t2 / "Ground").glob("*.png")
        )
        in_stems = sorted(p.stem for p in (t1 / "DICOM_anon" / "InPhase").glob("*.dcm"))
        assert in_stems == sorted(p.stem for p in (t1 / "Ground").glob("*.png"))
        assert all(re.fullmatch(r"IMG-\d{4}-\d{5}", s) for s in in_stems)
        t2_slices, t2_png = read_chaos_series(t2 / "DICOM_anon", t2 / "Ground")
        in_slices, in_png = read_chaos_series(t1 / "DICOM_anon" / "InPhase", t1 / "Ground")
        out_slices, _ = read_chaos_series(t1 / "DICOM_anon" / "OutPhase", None)
        assert len(out_slices) == len(in_slices)
        instances = [int(ds.InstanceNumber) for _, ds in t2_slices]
        assert instances == sorted(instances) or instances == sorted(instances, reverse=True)
        shuffled_seen |= [s for s, _ in t2_slices] not in (
            sorted(s for s, _ in t2_slices),
            sorted((s for s, _ in t2_slices), reverse=True),
        )
        for slices, pngs in ((t2_slices, t2_png), (in_slices, in_png), (out_slices, in_png)):
            ds0 = slices[0][1]
            assert ds0.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4" and ds0.Modality == "MR"
            assert [float(v) for v in ds0.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
            volume = np.stack([ds.pixel_array for _, ds in slices])  # (z, row, col)
            grey = np.stack(pngs)
            masks = {o: (grey >= lo) & (grey <= hi) for o, (lo, hi) in CHAOS_RANGES.items()}
            assert np.array_equal(grey > 0, np.logical_or.reduce(list(masks.values())))
            check_blobs(volume, masks)
            row_mm, col_mm = (float(v) for v in ds0.PixelSpacing)
            x0 = float(ds0.ImagePositionPatient[0])
            for organ, mask in masks.items():
                p = truth[(pid, organ)]
                # volume axes (z, row, col): col runs along LPS +x, row along LPS +y.
                assert_extent(extent_by_axes(mask, 2, 1, 0, col_mm, row_mm), p.extent_mm)
                x_lps = x0 + np.nonzero(mask)[2].mean() * col_mm
                middle = x0 + (mask.shape[2] - 1) / 2 * col_mm
                assert p.side == ("left" if x_lps > middle else "right"), organ
    assert shuffled_seen, "no series with file names out of spatial order"


def rle2mask(rle: str, width: int, height: int) -> np.ndarray:
    """Independent decoder after SIIM's published mask_functions.rle2mask (relative offsets,
    column-major), returning a (height, width) boolean mask."""
    flat = np.zeros(width * height, dtype=bool)
    numbers = [int(v) for v in rle.split()]
    position = 0
    for offset, length in zip(numbers[0::2], numbers[1::2], strict=True):
        position += offset
        flat[position : position + length] = True
        position += length
    return flat.reshape(width, height).T


def test_siim_acr(demo):
    root, planted = demo
    truth = planted_for(planted, "SIIM-ACR")
    base = root / "SIIM-ACR"
    lines = (base / "train-rle.csv").read_text().splitlines()
    assert lines[0] == "ImageId, EncodedPixels"
    rows = defaultdict(list)
    for line in lines[1:]:
        image_id, rle = line.split(",", 1)
        rows[image_id.strip()].append(rle.strip())
    dicoms = {f.stem: f for f in (base / "dicom-images-train").glob("*/*/*.dcm")}
    assert set(dicoms) == set(rows)
    assert any(len(v) >= 2 for v in rows.values()) and any(v == ["-1"] for v in rows.values())
    for image_id, rles in rows.items():
        ds = pydicom.dcmread(dicoms[image_id])
        assert ds.SOPInstanceUID == image_id
        assert dicoms[image_id].parent.name == ds.SeriesInstanceUID
        assert dicoms[image_id].parent.parent.name == ds.StudyInstanceUID
        assert ds.Modality == "CR" and ds.PhotometricInterpretation == "MONOCHROME2"
        pixels = ds.pixel_array
        background = np.bincount(pixels.ravel()).argmax()
        if rles == ["-1"]:
            assert (pixels == background).all() and (ds.SOPInstanceUID, "pneumothorax") not in truth
            continue
        regions = [rle2mask(r, int(ds.Columns), int(ds.Rows)) for r in rles]
        for r in regions:
            _, n = ndimage.label(r)
            assert n == 1
        union = np.logical_or.reduce(regions)
        assert np.array_equal(union, pixels != background)
        rows_idx, cols_idx = np.nonzero(union)
        want = (cols_idx.max() - cols_idx.min() + 1, rows_idx.max() - rows_idx.min() + 1)
        assert truth[(image_id, "pneumothorax")].extent_px == want


def test_isic2018(demo):
    root, planted = demo
    truth = planted_for(planted, "ISIC2018")
    inp = root / "ISIC2018" / "ISIC2018_Task1-2_Training_Input"
    gt = root / "ISIC2018" / "ISIC2018_Task1_Training_GroundTruth"
    assert (inp / "ATTRIBUTION.txt").is_file() and (inp / "LICENSE.txt").is_file()
    images = sorted(inp.glob("ISIC_*.jpg"))
    assert len(images) >= 3 and len({Image.open(f).size for f in images}) >= 2
    for f in images:
        rgb = np.asarray(Image.open(f))
        assert rgb.ndim == 3 and rgb.shape[2] == 3
        mask_img = np.asarray(Image.open(gt / f"{f.stem}_segmentation.png"))
        assert mask_img.shape == rgb.shape[:2] and set(np.unique(mask_img)) == {0, 255}
        mask = mask_img == 255
        _, n = ndimage.label(mask)
        assert n == 1
        grey = rgb.mean(axis=2)
        core = ndimage.binary_erosion(mask, iterations=2)
        ring = ~ndimage.binary_dilation(mask, iterations=2)
        assert np.median(grey[ring]) - np.median(grey[core]) >= 80
        rows_idx, cols_idx = np.nonzero(mask)
        want = (cols_idx.max() - cols_idx.min() + 1, rows_idx.max() - rows_idx.min() + 1)
        assert truth[(f.stem, "skin lesion")].extent_px == want


def test_slake(demo):
    root, planted = demo
    truth = planted_for(planted, "SLAKE")
    base = root / "SLAKE" / "Slake1.0"
    ids = {
        int(line.split(":")[0]): line.split(":", 1)[1]
        for line in (base / "mask.txt").read_text().splitlines()
    }
    qa = [
        q
        for split in ("train", "validate", "test")
        for q in json.loads((base / f"{split}.json").read_text(encoding="utf-8"))
    ]
    folders = sorted((base / "imgs").glob("xmlab*"))
    assert {q["img_name"] for q in qa} == {f"{f.name}/source.jpg" for f in folders}
    assert {q["modality"] for q in qa} >= {"CT", "MRI", "X-Ray"}
    missing = [f for f in folders if not (f / "detection.json").exists()]
    empty = [
        f
        for f in folders
        if (f / "detection.json").exists() and json.loads((f / "detection.json").read_text()) == []
    ]
    assert missing and empty
    seen = set()
    for folder in folders:
        source = Image.open(folder / "source.jpg")
        assert source.mode == "RGB"
        grey = np.asarray(source).mean(axis=2)
        label_png = np.asarray(Image.open(folder / "mask.png"))
        assert label_png.shape == grey.shape
        assert json.loads((folder / "question.json").read_text(encoding="utf-8"))
        if folder in missing or folder in empty:
            continue
        for entry in json.loads((folder / "detection.json").read_text()):
            ((name, (x, y, w, h)),) = entry.items()
            mask = label_png == next(i for i, n in ids.items() if n == name)
            rows_idx, cols_idx = np.nonzero(mask)
            assert (x, y) == (cols_idx.min(), rows_idx.min())
            assert (w, h) == (cols_idx.max() - x + 1, rows_idx.max() - y + 1)
            core = ndimage.binary_erosion(mask, iterations=2)
            assert abs(np.median(grey[core]) - np.median(grey[label_png == 0])) >= 60
            assert truth[(folder.name, name.lower())].extent_px == (w, h)
            seen.add((folder.name, name.lower()))
    assert seen == set(truth)


# ---------------------------------------------------------------- determinism, bad inputs


def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_deterministic(demo, tmp_path):
    root, planted = demo
    again = write_demo_root(tmp_path / "again", seed=0)
    assert again == planted
    assert digests(tmp_path / "again") == digests(root)
    other = write_demo_root(tmp_path / "seed1", seed=1, datasets=["MSD-Spleen", "SIIM-ACR"])
    assert other
    d1 = digests(tmp_path / "seed1")
    d0 = digests(root)
    assert any(d0.get(k) != v for k, v in d1.items())


def test_bad_inputs(tmp_path):
    bad = write_bad_input_root(tmp_path)
    for rel in bad:
        assert (tmp_path / rel).is_file(), rel
    task = tmp_path / "MSD-Spleen" / "Task09_Spleen"
    lab = task / "labelsTr"
    img = task / "imagesTr"
    with pytest.raises(Exception):  # noqa: B017 - nibabel/gzip raise several error types
        np.asarray(nib.load(lab / "spleen_3.nii.gz").dataobj)
    assert nib.load(lab / "spleen_4.nii.gz").shape != nib.load(img / "spleen_4.nii.gz").shape
    shift = nib.load(lab / "spleen_5.nii.gz").affine - nib.load(img / "spleen_5.nii.gz").affine
    assert np.abs(shift[:3, 3]).max() == pytest.approx(50.0)
    assert set(np.unique(np.asarray(nib.load(lab / "spleen_7.nii.gz").dataobj))) == {0, 1, 7}
    assert np.isnan(nib.load(img / "spleen_8.nii.gz").get_fdata()).any()
    assert not np.asarray(nib.load(lab / "spleen_9.nii.gz").dataobj).any()
    for folder in (img, lab):
        assert (folder / "._spleen_2.nii.gz").read_bytes()[:4] == bytes.fromhex("00051607")
        # the good case next to the junk still loads and matches its image
        good, good_img = np.asarray(nib.load(lab / "spleen_2.nii.gz").dataobj), None
        good_img = np.asarray(nib.load(img / "spleen_2.nii.gz").dataobj)
        check_blobs(good_img, {"spleen": good == 1})

    (dcm_rel,) = [k for k in bad if k.startswith("CHAOS/") and k.endswith(".dcm")]
    with pytest.raises(pydicom.errors.InvalidDicomError):
        pydicom.dcmread(tmp_path / dcm_rel)
    assert len(list((tmp_path / dcm_rel).parent.glob("*.dcm"))) > 1
    assert (tmp_path / "CHAOS" / "CHAOS_Train_Sets" / "Train_Sets" / "MR" / "1").is_dir()

    inp = "ISIC2018/ISIC2018_Task1-2_Training_Input/"
    assert {
        inp + n for n in ("ATTRIBUTION.txt", "LICENSE.txt", "ISIC_0000001_superpixels.png")
    } <= set(bad)
    assert list((tmp_path / inp).glob("ISIC_*[0-9].jpg"))

    siim = tmp_path / "SIIM-ACR"
    ids = {line.split(",", 1)[0] for line in (siim / "train-rle.csv").read_text().splitlines()[1:]}
    stems = {f.stem for f in (siim / "dicom-images-train").glob("*/*/*.dcm")}
    assert len(ids - stems) == 1 and len(stems - ids) == 1 and ids & stems
