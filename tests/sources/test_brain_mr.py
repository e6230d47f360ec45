"""Brain MR specs, end to end: replica → build → load_dataset.

Checked against the replicas' planted truth, above all the traps: BraTS 2018–2020 ids
1/2/4 (no 3) vs MSD Task01's 1 oedema / 2 non-enhancing / 3 enhancing, the 4D MSD image
split into its sequences, BraTS20_Training_355's foreign seg name, the grade folders of
2018/2019 and BRATS 2013 (whose case numbers restart per grade), and ISLES's ``.nii``
VSD members. Each wrong spec below must be caught.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    assert_frames_blob,
    assert_keeps_size_mm,
    build_rows,
    find_plant,
    plant_problems,
    write_replicas,
)

from medbench.builders.vgmed import sources
from medbench.builders.vgmed.extract import ExtractConfig, extract_case
from medbench.builders.vgmed.families import AlternativeLayouts, alternative_layouts
from medbench.builders.vgmed.sources.brain_mr import SPECS
from medbench.builders.vgmed.spec import SourceSpec
from medbench.demo import brats2013, brats2018, brats2019, brats2020, isles, msd_brain_tumor
from medbench.demo._mri_brain import CHANNEL_VALUES
from medbench.demo.truth import PlantedStructure

REPLICAS = {
    m.DATASET: m for m in (brats2020, brats2019, brats2018, msd_brain_tumor, brats2013, isles)
}
SPEC_BY_ID = {spec.id: spec for spec in SPECS}
BRATS_1820 = ("BraTS2018", "BraTS2019", "BraTS2020")


@pytest.fixture(scope="module")
def replica_root(tmp_path_factory) -> tuple[Path, list[PlantedStructure]]:
    root = tmp_path_factory.mktemp("brain-sources")
    return root, write_replicas(root, REPLICAS.values())


@pytest.fixture(scope="module")
def rows(replica_root, tmp_path_factory):
    root, _ = replica_root
    return build_rows(root, tmp_path_factory.mktemp("brain-out") / "out", SPECS)[0]


def _raw_id(row) -> int:
    return REPLICAS[row["dataset"]].LABEL_IDS[row["label"]]


def _problems(rows, planted, datasets: set[str]) -> list[str]:
    """Rows whose name or raw id disagrees with the plant (no brain plant has a side), and
    plants never produced (for ``datasets``, whether or not they produced any row)."""
    return plant_problems(rows, planted, _raw_id, datasets=datasets)


def test_specs_use_the_shared_vocabulary_and_cover_the_replicas():
    assert set(SPEC_BY_ID) == set(REPLICAS)
    brats2021 = sources.SOURCES["BraTS2021"]
    for dataset, module in REPLICAS.items():
        spec = SPEC_BY_ID[dataset]
        assert (spec.modality, spec.body_part) == ("MR", "head and neck")
        for name, raw in module.LABEL_IDS.items():
            assert spec.labels[str(raw)] == name, (dataset, raw)
        assert all(v == v.lower() and v.strip() == v for v in spec.labels.values())
    for dataset in BRATS_1820:
        assert SPEC_BY_ID[dataset].labels == brats2021.labels
    brats2015 = sources.SOURCES["BraTS2015"]
    assert SPEC_BY_ID["BraTS2013"].labels == brats2015.labels


def test_every_plant_is_produced_with_its_name_and_raw_id(rows, replica_root):
    _, planted = replica_root
    assert {r["dataset"] for r in rows} == set(REPLICAS)
    assert len(rows) == len(planted)
    assert _problems(rows, planted, set(REPLICAS)) == []


def test_boxes_frame_the_planted_blobs_and_keep_their_size_in_mm(rows, replica_root):
    _, planted = replica_root
    for row in rows:
        assert_frames_blob(row)
        plant = find_plant(planted, row["dataset"], row["case_id"], row["label"])
        assert_keeps_size_mm(row, plant.extent_mm)


def test_brats2020_case_355_is_built_from_its_alias_seg(rows, replica_root):
    root, _ = replica_root
    case_dir = root / "BraTS2020" / brats2020.ROOT / brats2020.ALIAS_CASE
    assert (case_dir / brats2020.ALIAS_SEG).is_file()
    assert not list(case_dir.glob("*_seg.nii*"))
    hits = {r["label"] for r in rows if r["case_id"] == brats2020.ALIAS_CASE}
    assert hits == set(brats2018.LABELS.values())


def test_edema_id_differs_between_msd_and_brats(rows):
    def edema_ids(dataset):
        return {
            r["source_label"]
            for r in rows
            if (r["dataset"], r["label"]) == (dataset, "peritumoral edema")
        }

    assert edema_ids("MSD-BrainTumor") == {"1"}
    for dataset in BRATS_1820:
        assert edema_ids(dataset) == {"2"}
    msd = {r["label"]: r["source_label"] for r in rows if r["dataset"] == "MSD-BrainTumor"}
    assert msd == {"peritumoral edema": "1", "non-enhancing tumor": "2", "enhancing tumor": "3"}


def test_brats_2018_to_2020_have_no_label_3(rows):
    for dataset in BRATS_1820:
        assert "3" not in SPEC_BY_ID[dataset].labels
        ids = {r["source_label"] for r in rows if r["dataset"] == dataset}
        assert ids == {"1", "2", "4"}, dataset


def test_rows_name_the_sequence_they_are_drawn_on(rows):
    expected_channels = {
        **{d: {"flair", "t1", "t1ce", "t2"} for d in BRATS_1820},
        "MSD-BrainTumor": {"FLAIR", "T1w", "t1gd", "T2w"},
        "BraTS2013": {"Flair", "T1", "T1c", "T2"},
        "ISLES": {"DWI", "Flair", "T1", "T2"},
    }
    for dataset, channels in expected_channels.items():
        spec = SPEC_BY_ID[dataset]
        if isinstance(spec, AlternativeLayouts):  # the replica is the first (2015) layout
            spec = spec.layouts[0]
        assert set(spec.channels) == channels
        for row in (r for r in rows if r["dataset"] == dataset):
            assert row["channel"] == spec.channel_for_label[row["label"]], row["case_id"]
        # the pixels are that sequence's (MSD: the 4D image split in dataset.json order)
        assert all(_contrast_ok(r) for r in rows if r["dataset"] == dataset), dataset


# replica channel name -> its intensity table in _mri_brain.CHANNEL_VALUES
_TABLE = {
    **{d: {c: c for c in brats2018.SEQUENCES} for d in BRATS_1820},
    "MSD-BrainTumor": msd_brain_tumor.MODALITIES,
    "BraTS2013": {k.removeprefix("MR_"): v for k, v in brats2013.SEQUENCES.items()},
    "ISLES": {k.removeprefix("MR_"): v for k, v in isles.SEQUENCES.items()},
}


def _contrast_ok(row) -> bool:
    """Is the blob brighter/darker than the background as the row's sequence paints it?
    (The replica's T1 shows label 1 dark, every other sequence bright.)"""
    grey = np.asarray(row["image"].convert("L")).astype(float)
    x1, y1, x2, y2 = (int(round(v)) for v in row["bbox"])
    inside = grey[(y1 + y2) // 2, (x1 + x2) // 2]
    ring = np.concatenate(
        [grey[max(y1 - 2, 0), x1:x2], grey[min(y2 + 1, grey.shape[0] - 1), x1:x2]]
    )
    lid = REPLICAS[row["dataset"]].LABEL_IDS.get(row["label"])
    table = _TABLE[row["dataset"]].get(row["channel"])
    if lid is None or table is None:
        return False
    values = CHANNEL_VALUES[table]
    return (values[lid] > values[0]) == (inside > float(np.median(ring)))


def test_brats2013_cases_keep_their_grade_folder(rows):
    cases = {r["case_id"] for r in rows if r["dataset"] == "BraTS2013"}
    assert cases == {"BRATS-2/Image_Data/HG/0001", "BRATS-2/Image_Data/LG/0001"}


def _with(dataset: str, **update) -> SourceSpec:
    spec = SPEC_BY_ID[dataset]
    if isinstance(spec, AlternativeLayouts):  # ISLES: the 2015 layout is the first
        first, *others = spec.layouts
        return alternative_layouts(first.model_copy(update=update), *others)
    return spec.model_copy(update=update)


WRONG_SPECS = {
    # no alias: case 355 has no label file and is skipped
    "BraTS2020 without the 355 alias": _with(
        "BraTS2020", label=["{case}_seg.nii.gz", "{case}_seg.nii"]
    ),
    # BraTS ids on MSD data: oedema and necrosis swap, enhancing tumour vanishes
    "MSD with BraTS ids": _with("MSD-BrainTumor", labels=dict(SPEC_BY_ID["BraTS2018"].labels)),
    # MSD channels out of dataset.json order: the rows name the wrong sequence
    "MSD channels reordered": _with("MSD-BrainTumor", channels=["T1w", "FLAIR", "t1gd", "T2w"]),
    # no grade folder level: finds nothing
    "BraTS2018 without HGG/LGG": _with(
        "BraTS2018", case_glob="MICCAI_BraTS_2018_Data_Training/Brats18_*"
    ),
    "BraTS2019 without HGG/LGG": _with(
        "BraTS2019", case_glob="MICCAI_BraTS_2019_Data_Training/BraTS19_*"
    ),
    # grade folders taken for cases: nothing inside matches */*.mha
    "BraTS2013 grade folders as cases": _with("BraTS2013", case_glob="BRATS-2/Image_Data/*"),
    # members looked for in 2015-style numbered folders (VSD.Brain.XX.O.MR_Flair.54512/)
    "BraTS2013 numbered-folder glob": _with("BraTS2013", member_glob="*.[0-9]*/*.mha"),
    # .mha only: ISLES 2015 ships .nii
    "ISLES .mha only": _with("ISLES", member_glob="*/*.mha"),
}


@pytest.mark.parametrize("what", sorted(WRONG_SPECS))
def test_a_wrong_spec_is_caught(replica_root, tmp_path, what):
    root, planted = replica_root
    wrong = WRONG_SPECS[what]
    # built beside a correct source so that a spec finding nothing still builds
    other = SPEC_BY_ID["ISLES" if wrong.id != "ISLES" else "BraTS2020"]
    built, _ = build_rows(root, tmp_path / "out", [wrong, other])
    rows = [r for r in built if r["dataset"] == wrong.id]
    problems = _problems(rows, planted, {wrong.id})
    problems += [f"{r['label']} not shown on {r['channel']}" for r in rows if not _contrast_ok(r)]
    assert problems, what


def test_brats2020_kaggle_mirror_with_uncompressed_nii(replica_root, tmp_path):
    """The Kaggle copy: an extra wrapping folder and every member as plain ``.nii``."""
    root, planted = replica_root
    src = root / "BraTS2020" / brats2020.ROOT
    mirror = tmp_path / "src" / "BraTS2020" / "BraTS2020_TrainingData" / brats2020.ROOT
    for path in src.rglob("*"):
        if path.is_file():
            target = mirror / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                target = target.with_name(target.name.removesuffix(".gz"))
                data = gzip.decompress(data)
            target.write_bytes(data)
    assert not list(mirror.rglob("*.gz"))
    rows, _ = build_rows(tmp_path / "src", tmp_path / "out", [SPEC_BY_ID["BraTS2020"]])
    assert _problems(rows, planted, {"BraTS2020"}) == []


# -- ISLES 2022: the BIDS release read under the same id -----------------------------------


@pytest.fixture(scope="module")
def isles22(tmp_path_factory):
    root = tmp_path_factory.mktemp("isles22-src")
    planted = isles.write_2022(root / "ISLES", seed=0)
    out = tmp_path_factory.mktemp("isles22-out") / "out"
    return build_rows(root, out, [SPEC_BY_ID["ISLES"]])[0], planted, out


def test_isles22_lesions_are_boxed_on_dwi_where_the_masks_live(isles22):
    rows, planted, _ = isles22
    assert rows and _problems(rows, planted, {"ISLES"}) == []
    for row in rows:
        # FLAIR is on another grid (not co-registered): never paired with the mask
        assert row["channel"] == "DWI" and "FLAIR" not in row["source_path"]
        assert_frames_blob(row, atol=1)
        plant = find_plant(planted, "ISLES", row["case_id"], row["label"])
        x1, y1, x2, y2 = row["bbox"]
        _, dy, dx = row["spacing_mm"]
        assert (x2 - x1) * dx == pytest.approx(plant.extent_mm[0], abs=2.5 * dx)
        assert (y2 - y1) * dy == pytest.approx(plant.extent_mm[1], abs=2.5 * dy)


def test_isles22_empty_masks_are_listed(isles22):
    _, _, out = isles22
    skipped = (out / "report" / "skipped.csv").read_text()
    assert "sub-strokecase0150" in skipped and "absent" in skipped


def test_isles22_paired_with_flair_is_caught(tmp_path):
    """Reading FLAIR with the DWI-space mask must fail loudly, not misplace boxes."""
    isles.write_2022(tmp_path / "ISLES")
    first, layout_2022 = SPEC_BY_ID["ISLES"].layouts
    flair = {"FLAIR": ["ses-0001/anat/{case}_ses-0001_FLAIR.nii.gz"]}
    wrong = alternative_layouts(first, layout_2022.model_copy(update={"channels": flair}))
    dataset_dir = wrong.locate(tmp_path)
    cases, _ = wrong.discover(dataset_dir)
    results = [extract_case(wrong, dataset_dir, case, ExtractConfig()) for case in cases]
    assert len(results) == len(isles.CASES_2022)
    assert all("differs from image shape" in (r.error or "") for r in results)
