"""Family G photo-like sources (ISIC 2016/2017, Kvasir-SEG, CVC-ClinicDB, BUSI, ADAM, PALM19,
PolypDB, UltrasoundNerve): replicas → build_vgmed → load_dataset, checked against the plant."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_frames_blob, build_rows, write_replicas
from PIL import Image

from medbench.builders.vgmed.extract import ExtractConfig
from medbench.builders.vgmed.sources.photo_2d import SPECS
from medbench.demo import (
    adam,
    busi,
    cvc_clinicdb,
    isic2016,
    isic2017,
    kvasir_seg,
    palm19,
    polypdb,
    ultrasound_nerve,
)

MODULES = (
    isic2017,
    isic2016,
    kvasir_seg,
    cvc_clinicdb,
    busi,
    adam,
    palm19,
    polypdb,
    ultrasound_nerve,
)
REPLICAS = {m.DATASET: m for m in MODULES}
SPEC_BY_ID = {spec.id: spec for spec in SPECS}
IGNORED = "not an image of this dataset (ignored)"
EMPTY = "structure absent (empty mask)"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    root = tmp_path_factory.mktemp("photo-sources")
    planted = {d: write_replicas(root, [m]) for d, m in REPLICAS.items()}
    return root, planted


@pytest.fixture(scope="module")
def built(replicas, tmp_path_factory):
    root, _ = replicas
    return build_rows(root, tmp_path_factory.mktemp("photo") / "out", SPECS)


def _rows_of(built, dataset: str) -> list[dict]:
    return [r for r in built[0] if r["dataset"] == dataset]


def _skips_of(built, dataset: str) -> dict[str, str]:
    return {
        (s["case_id"] + ":" if s["case_id"] else "") + s["item"]: s["reason"]
        for s in built[1]["skipped"]
        if s["dataset"] == dataset
    }


def _is_jpeg(row) -> bool:
    return row["source_path"].lower().endswith((".jpg", ".jpeg"))


def _check_boxes(rows, planted) -> None:
    """Each box frames its blob in the stored PNG and has the planted extent (±2 px)."""
    by_case = {p.case_key: p for p in planted}
    assert sorted(r["case_id"] for r in rows) == sorted(by_case)
    for row in rows:
        assert_frames_blob(row, tolerance=30 if _is_jpeg(row) else 6, atol=2)
        x1, y1, x2, y2 = row["bbox"]
        plant = by_case[row["case_id"]]
        assert row["label"] == plant.label
        assert (x2 - x1) == pytest.approx(plant.extent_px[0], abs=2), row["case_id"]
        assert (y2 - y1) == pytest.approx(plant.extent_px[1], abs=2), row["case_id"]


@pytest.mark.parametrize("dataset", list(REPLICAS))
def test_boxes_frame_the_planted_blobs(built, replicas, dataset):
    _, planted = replicas
    rows = _rows_of(built, dataset)
    assert rows, dataset
    _check_boxes(rows, planted[dataset])
    spec = SPEC_BY_ID[dataset]
    assert {r["modality"] for r in rows} == {spec.modality}
    assert {r["body_part"] for r in rows} == {spec.body_part}


def test_replicas_are_deterministic(tmp_path):
    write_replicas(tmp_path / "a", MODULES)
    write_replicas(tmp_path / "b", MODULES)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert files_a == files_b
    for rel in files_a:
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


# -- ISIC ----------------------------------------------------------------------------------


def test_isic2017_superpixels_and_metadata_are_listed_not_read(built, replicas):
    root, _ = replicas
    skips = _skips_of(built, "ISIC2017")
    extras = [p for p in (root / "ISIC2017").rglob("*_Data/*") if p.suffix != ".jpg"]
    assert {p.name for p in extras} >= {"ISIC_0000001_superpixels.png"}
    assert any(p.suffix == ".csv" for p in extras)
    for path in extras:
        assert skips[path.relative_to(root / "ISIC2017").as_posix()] == IGNORED
    assert not any("superpixels" in r["case_id"] for r in _rows_of(built, "ISIC2017"))


def test_isic2016_needs_the_capital_s_suffix(replicas, tmp_path):
    root, _ = replicas
    spec = SPEC_BY_ID["ISIC2016"]
    wrong = spec.model_copy(update={"mask": spec.mask.replace("_Segmentation", "_segmentation")})
    cases, skipped = wrong.discover(root / "ISIC2016")
    assert cases == [] and all("no mask" in s.reason for s in skipped)
    assert len(spec.discover(root / "ISIC2016")[0]) == len(isic2016.IMAGES)


# -- JPEG masks: Kvasir-SEG, PolypDB -------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "folder"), [("Kvasir-SEG", "Kvasir-SEG/masks"), ("PolypDB", "WLI/annotations")]
)
def test_jpeg_masks_carry_compression_noise(replicas, dataset, folder):
    root, _ = replicas
    mask = np.asarray(Image.open(next((root / dataset / folder).glob("*.jpg"))))
    grey_levels = np.unique(mask)
    assert ((grey_levels > 10) & (grey_levels < 245)).any(), "mask is not noisy: not a real JPEG"


def test_polypdb_names_with_spaces_survive(built):
    cases = {r["case_id"] for r in _rows_of(built, "PolypDB")}
    assert "PKHL_15 220831_201030_BN011_036" in cases and "BLI 0003" in cases


# -- CVC-ClinicDB ----------------------------------------------------------------------------


def test_cvc_masks_are_three_channel_in_a_folder_with_a_space(replicas):
    root, _ = replicas
    mask = Image.open(root / "CVC-ClinicDB" / "Ground Truth" / "1.tif")
    assert mask.mode == "RGB"


# -- BUSI ----------------------------------------------------------------------------------


def test_busi_masks_rgba_and_normal_class(built, replicas):
    root, _ = replicas
    folder = root / "BUSI" / "Dataset_BUSI_with_GT"
    assert Image.open(folder / "benign" / "benign (4)_mask_1.png").mode == "RGBA"
    assert Image.open(folder / "malignant" / "malignant (1)_mask.png").mode == "RGB"
    skips = _skips_of(built, "BUSI")
    assert skips["normal (1):breast tumor (mask)"] == EMPTY
    assert {r["case_id"] for r in _rows_of(built, "BUSI")} == {"benign (4)", "malignant (1)"}


def test_busi_several_mask_files_are_several_lesions(replicas, tmp_path):
    root, _ = replicas
    extract = ExtractConfig(box_mode="components")
    rows, _ = build_rows(root, tmp_path / "components", [SPEC_BY_ID["BUSI"]], extract=extract)
    boxes = sorted(tuple(r["bbox"]) for r in rows if r["case_id"] == "benign (4)")
    folder = root / "BUSI" / "Dataset_BUSI_with_GT" / "benign"
    lesions = []
    for mask_file in sorted(folder.glob("benign (4)_mask*.png")):
        ys, xs = np.nonzero(np.asarray(Image.open(mask_file).convert("L")) > 127)
        lesions.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    assert len(boxes) == len(lesions) == 2
    assert np.allclose(boxes, sorted(lesions), atol=1), (boxes, lesions)


# -- ADAM, PALM19: inverted masks ------------------------------------------------------------


@pytest.mark.parametrize(("dataset", "no_disc"), [("ADAM", "N0002"), ("PALM19", "P0002")])
def test_inverted_disc_masks(built, replicas, tmp_path, dataset, no_disc):
    root, planted = replicas
    assert _skips_of(built, dataset)[f"{no_disc}:optic disc (mask)"] == EMPTY
    # read as ordinary (white = disc) masks, every box would be wrong
    wrong = SPEC_BY_ID[dataset].model_copy(update={"decoder": "binary"})
    rows, _ = build_rows(root, tmp_path / "wrong", [wrong])
    extents = {p.case_key: p.extent_px for p in planted[dataset]}
    for row in rows:
        x1, y1, x2, y2 = row["bbox"]
        if row["case_id"] in extents:
            assert abs((x2 - x1) - extents[row["case_id"]][0]) > 2


def test_palm_paths_with_ampersand_and_misspelling(replicas):
    root, _ = replicas
    names = {p.relative_to(root / "PALM19").as_posix() for p in (root / "PALM19").rglob("*.bmp")}
    assert "PALM-Training400-Annotation-D&F/Disc_Masks/H0001.bmp" in names
    assert any(n.startswith("PALM-Training400-Annotation-Lession/") for n in names)


# -- UltrasoundNerve -------------------------------------------------------------------------


def test_nerve_masks_are_not_images_and_empty_masks_give_no_sample(built):
    rows = _rows_of(built, "UltrasoundNerve")
    assert not any(r["case_id"].endswith("_mask") for r in rows)
    skips = _skips_of(built, "UltrasoundNerve")
    assert skips["1_2:brachial plexus nerve (mask)"] == EMPTY
    # masks sit next to their images but are used, so they are not listed as ignored
    assert "train/1_1_mask.tif" not in skips
    assert not any(k.startswith("test/") for k in skips)
