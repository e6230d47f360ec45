"""Brain MR specs: the BraTS years 2013 and 2018–2020, MSD Task01 and ISLES (2015 SISS, or
the 2022 BIDS release when that is what the folder holds).

Label-id traps (research/dataset-layouts.md §3): BraTS 2018–2020 use 1 necrotic core,
2 oedema, 4 enhancing tumour (no 3); MSD Task01 relabels the same data 1 oedema,
2 non-enhancing, 3 enhancing. Names match BraTS2021's (2018–2020) and BraTS2015's (2013).
"""

from medbench.builders.vgmed.families import (
    CaseDirSource,
    PairedVolumeSource,
    VsdSource,
    alternative_layouts,
)
from medbench.builders.vgmed.sources.vsd import VSD_BRATS_CHANNEL_FOR_LABEL, VSD_BRATS_LABELS

# BraTS 2018–2021 share names, ids and reading sequences.
_BRATS_LABELS = {"1": "necrotic tumor core", "2": "peritumoral edema", "4": "enhancing tumor"}
_BRATS_CHANNEL_FOR_LABEL = {
    "necrotic tumor core": "t1ce",
    "enhancing tumor": "t1ce",
    "peritumoral edema": "flair",
}


def _brats_channels(*suffixes: str) -> dict[str, list[str]]:
    """``{case}_<seq>.nii.gz`` (CBICA release) or ``.nii`` (Kaggle mirror)."""
    return {s: [f"{{case}}_{s}.nii.gz", f"{{case}}_{s}.nii"] for s in suffixes}


_SEQUENCES = ("flair", "t1", "t1ce", "t2")


def _brats_training(
    year: int, homepage: str, folder: str, case_glob: str, label: list[str] | None = None
) -> CaseDirSource:
    """A BraTS 2018–2020 training release: same sequences, ids, names and terms."""
    return CaseDirSource(
        id=f"BraTS{year}",
        title=f"MICCAI BraTS {year} (training data)",
        modality="MR",
        body_part="head and neck",
        license="BraTS data usage terms (CBICA)",
        homepage=homepage,
        anchor=folder,
        case_glob=f"{folder}/{case_glob}",
        channels=_brats_channels(*_SEQUENCES),
        label=label or ["{case}_seg.nii.gz", "{case}_seg.nii"],
        labels=_BRATS_LABELS,
        channel_for_label=_BRATS_CHANNEL_FOR_LABEL,
        default_channel="flair",
        notes="Licence field: CBICA's BraTS data terms, no SPDX id (UNVERIFIED wording).",
    )


BRATS2020 = _brats_training(
    2020,
    "https://www.med.upenn.edu/cbica/brats2020/data.html",
    "MICCAI_BraTS2020_TrainingData",
    # no HGG/LGG split in 2020; name_mapping.csv / survival_info.csv sit beside the cases
    "BraTS20_Training_*",
    # BraTS20_Training_355 ships its segmentation as W39_1998.09.19_Segm.nii
    label=["{case}_seg.nii.gz", "{case}_seg.nii", "W39_1998.09.19_Segm.nii"],
)
BRATS2019 = _brats_training(
    2019,
    "https://www.med.upenn.edu/cbica/brats2019/data.html",
    "MICCAI_BraTS_2019_Data_Training",
    "[HL]GG/BraTS19_*",
)
BRATS2018 = _brats_training(
    2018,
    "https://www.med.upenn.edu/sbia/brats2018/data.html",
    "MICCAI_BraTS_2018_Data_Training",
    "[HL]GG/Brats18_*",
)

MSD_BRAIN_TUMOUR = PairedVolumeSource(
    id="MSD-BrainTumor",
    title="Medical Segmentation Decathlon, Task01 Brain Tumour",
    modality="MR",
    body_part="head and neck",
    license="CC-BY-SA-4.0",
    homepage="http://medicaldecathlon.com/",
    anchor="Task01_BrainTumour",
    label_glob="Task01_BrainTumour/labelsTr/*.nii.gz",
    image_from_label=(r"^(.*)/labelsTr/", r"\1/imagesTr/"),
    # dataset.json "modality": 0 FLAIR, 1 T1w, 2 t1gd, 3 T2w (the 4D image's last axis)
    channels=["FLAIR", "T1w", "t1gd", "T2w"],
    # dataset.json: 1 edema, 2 non-enhancing tumor, 3 enhancing tumour (edema is 2 in BraTS)
    labels={"1": "peritumoral edema", "2": "non-enhancing tumor", "3": "enhancing tumor"},
    channel_for_label={
        "peritumoral edema": "FLAIR",
        "non-enhancing tumor": "T2w",
        "enhancing tumor": "t1gd",
    },
    default_channel="FLAIR",
)

BRATS2013 = VsdSource(
    id="BraTS2013",
    title="BRATS 2013 (training data, VSD release)",
    modality="MR",
    body_part="head and neck",
    license="CC-BY-NC-SA-3.0",
    homepage="https://www.smir.ch/BRATS/Start2013",
    anchor="BRATS-2/Image_Data",
    # BRATS-2/Image_Data/{HG,LG}/0001/: case numbers restart per grade, so the case id
    # keeps the grade folder. Sequence folders carry no numeric suffix in 2013
    # (VSD.Brain.XX.O.MR_Flair/VSD.Brain.XX.O.MR_Flair.684.mha); the file name does, so
    # the default channel regex (token followed by a dot) matches on it.
    case_glob="BRATS-2/Image_Data/*/*",
    channels=["Flair", "T1", "T1c", "T2"],
    labels=VSD_BRATS_LABELS,
    channel_for_label=VSD_BRATS_CHANNEL_FOR_LABEL,
    default_channel="Flair",
    notes="Label names follow the BRATS 2013/2015 documentation; only the ids were seen "
    "in public code (UNVERIFIED). Licence assumed equal to BRATS 2015's SMIR terms "
    "(UNVERIFIED). Only Image_Data is read; Synthetic_Data and Challenge are not cases.",
)

ISLES_2015 = VsdSource(
    id="ISLES",
    title="ISLES 2015, sub-acute ischemic stroke lesion segmentation (SISS, training data)",
    modality="MR",
    body_part="head and neck",
    license="ISLES challenge data terms (SMIR)",
    homepage="https://www.isles-challenge.org/ISLES2015/",
    anchor="SISS2015_Training",
    case_glob="SISS2015_Training/*",
    # the research notes and public loaders show .nii members; .mha is accepted too
    member_glob="*/*",
    channels=["DWI", "Flair", "T1", "T2"],
    labels={"1": "ischemic stroke lesion"},
    channel_for_label={"ischemic stroke lesion": "Flair"},
    default_channel="Flair",
    notes="The paper's ISLES is the 2015 set (Maier et al. 2017); SISS is read (SPES and "
    "2017 are other layouts). Member file type (.nii per the research notes), the licence "
    "wording and FLAIR as the reading sequence are UNVERIFIED.",
)

# ISLES 2022 (BIDS): the lesion masks live in DWI space and FLAIR is NOT co-registered, so
# boxes are drawn on DWI (or ADC, same grid) and FLAIR is never read.
_ISLES22_SESSION = "ses-0001"
ISLES_2022 = CaseDirSource(
    id="ISLES",
    title="ISLES 2022, ischemic stroke lesion segmentation (BIDS release, training data)",
    modality="MR",
    body_part="head and neck",
    license="CC-BY-SA-4.0",
    homepage="https://isles22.grand-challenge.org/",
    anchor="ISLES-2022",
    case_glob="ISLES-2022/sub-strokecase*",
    channels={
        # dwi/ level as released; without it as in the later Zenodo copy seen in SAT
        seq: [
            f"{_ISLES22_SESSION}/dwi/{{case}}_{_ISLES22_SESSION}_{seq.lower()}.nii.gz",
            f"{_ISLES22_SESSION}/{{case}}_{_ISLES22_SESSION}_{seq.lower()}.nii.gz",
        ]
        for seq in ("DWI", "ADC")
    },
    # the parallel derivatives/ tree beside the subject folders
    label=[f"../derivatives/{{case}}/{_ISLES22_SESSION}/{{case}}_{_ISLES22_SESSION}_msk.nii.gz"],
    labels={"1": "ischemic stroke lesion"},
    channel_for_label={"ischemic stroke lesion": "DWI"},
    default_channel="DWI",
    notes="Read only when the folder holds ISLES-2022/ instead of SISS2015_Training/. Cases "
    "0150, 0151 and 0170 have empty masks (listed as absent). Licence as on the challenge "
    "page (UNVERIFIED).",
)

ISLES = alternative_layouts(ISLES_2015, ISLES_2022)

SPECS = [BRATS2020, BRATS2019, BRATS2018, MSD_BRAIN_TUMOUR, BRATS2013, ISLES]
