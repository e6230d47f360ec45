"""Family A specs: abdominal multi-organ CT (BTCV, WORD, FLARE21/22, AbdomenCT-1K).

Kidney ids differ between these datasets (research/dataset-layouts.md §3.3): BTCV 2 = right,
3 = left; WORD 3 = left, 4 = right; FLARE22 2 = right, 13 = left (3 = spleen).
"""

from medbench.builders.vgmed.families import PairedVolumeSource

# Left/right in medbench names are the PATIENT's sides.
BTCV = PairedVolumeSource(
    id="BTCV",
    title='Multi-Atlas Labeling Beyond the Cranial Vault, "Abdomen" (BTCV)',
    modality="CT",
    body_part="abdomen",
    license="CC-BY-4.0",
    homepage="https://www.synapse.org/#!Synapse:syn3193805/wiki/217789",
    anchor="RawData/Training",
    label_glob="RawData/Training/label/label*.nii.gz",
    image_from_label=(r"^(.*)/label/label([^/]*)$", r"\1/img/img\2"),
    labels={
        "1": "spleen",
        "2": "right kidney",
        "3": "left kidney",
        "4": "gallbladder",
        "5": "esophagus",
        "6": "liver",
        "7": "stomach",
        "8": "aorta",
        "9": "inferior vena cava",
        "10": "portal vein and splenic vein",
        "11": "pancreas",
        "12": "right adrenal gland",
        "13": "left adrenal gland",
    },
    ct_window="abdomen",
    notes=(
        "UNVERIFIED licence: Synapse syn3193805 access terms, often cited as CC BY 4.0. "
        "Case ids are the label stems (label0001). RawData/Testing has no labels."
    ),
)

WORD = PairedVolumeSource(
    id="WORD",
    title="WORD: Whole abdominal ORgan Dataset v0.1.0",
    modality="CT",
    body_part="abdomen",
    license="WORD research-only terms",
    homepage="https://github.com/HiLab-git/WORD",
    anchor="WORD-V0.1.0",
    # labelsTr, labelsVal and labelsTs (where present) next to imagesTr/Val/Ts
    label_glob="WORD-V0.1.0/labels*/*.nii.gz",
    image_from_label=(r"^(.*)/labels(Tr|Val|Ts)/", r"\1/images\2/"),
    labels={
        "1": "liver",
        "2": "spleen",
        "3": "left kidney",
        "4": "right kidney",
        "5": "stomach",
        "6": "gallbladder",
        "7": "esophagus",
        "8": "pancreas",
        "9": "duodenum",
        "10": "colon",
        "11": "small bowel",
        "12": "adrenal gland",
        "13": "rectum",
        "14": "urinary bladder",
        "15": "left femoral head",
        "16": "right femoral head",
    },
    ct_window="abdomen",
    notes=(
        "UNVERIFIED licence: the README allows open academic research only (no clinical, "
        "commercial or derivative use); no SPDX id. Raw 11 'intestine' = small bowel, 12 "
        "'adrenal' covers both sides. Not read: addition_validation_from_LiTS/lablesTs "
        "(typo in the archive), whose images are MSD Task03 files outside this archive."
    ),
)

FLARE22 = PairedVolumeSource(
    id="FLARE22",
    title="MICCAI FLARE 2022: Fast and Low-resource semi-supervised Abdominal oRgan sEgmentation",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-NC-SA-4.0",
    homepage="https://flare22.grand-challenge.org/",
    anchor="Training/FLARE22_LabeledCase50",
    label_glob="Training/FLARE22_LabeledCase50/labels/*.nii.gz",
    image_from_label=(r"^(.*)/labels/([^/]+)\.nii\.gz$", r"\1/images/\2_0000.nii.gz"),
    labels={
        "1": "liver",
        "2": "right kidney",
        "3": "spleen",
        "4": "pancreas",
        "5": "aorta",
        "6": "inferior vena cava",
        "7": "right adrenal gland",
        "8": "left adrenal gland",
        "9": "gallbladder",
        "10": "esophagus",
        "11": "stomach",
        "12": "duodenum",
        "13": "left kidney",
    },
    ct_window="abdomen",
    notes=(
        "UNVERIFIED licence (NC-SA assumed, the strictest of its sources). The 50 labelled "
        "cases are MSD-Pancreas scans: deduplicate. Not read: the unlabelled 1000 and the "
        "Tuning set (Tuning/{images,labels}), whose label release is unverified."
    ),
)

FLARE21 = PairedVolumeSource(
    id="FLARE21",
    title="MICCAI FLARE 2021: Fast and Low GPU memory Abdominal oRgan sEgmentation",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-NC-SA-4.0",
    homepage="https://flare.grand-challenge.org/",
    anchor="TrainingMask",
    label_glob="TrainingMask/*.nii.gz",
    image_from_label=(r"^TrainingMask/([^/]+)\.nii\.gz$", r"TrainingImg/\1_0000.nii.gz"),
    labels={"1": "liver", "2": "kidney", "3": "spleen", "4": "pancreas"},
    ct_window="abdomen",
    notes=(
        "UNVERIFIED licence (NC-SA assumed: includes KiTS19 scans, CC BY-NC-SA 4.0). A subset "
        "of AbdomenCT-1K: deduplicate. Some copies use imagesTr/labelsTr instead; not read."
    ),
)

ABDOMENCT_1K = PairedVolumeSource(
    id="AbdomenCT-1K",
    title="AbdomenCT-1K: Is Abdominal Organ Segmentation A Solved Problem?",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-NC-SA-4.0",
    homepage="https://github.com/JunMa11/AbdomenCT-1K",
    anchor="Mask",
    label_glob="Mask/Case_*.nii.gz",
    image_from_label=(r"^Mask/(Case_[^/]+)\.nii\.gz$", r"Image/\1_0000.nii.gz"),
    labels={"1": "liver", "2": "kidney", "3": "spleen", "4": "pancreas"},
    ct_window="abdomen",
    notes=(
        "UNVERIFIED licence (NC-SA assumed: includes KiTS19 scans). UNVERIFIED folders: the "
        "image zips (Part1-3) must be extracted into Image/ and the mask zip into Mask/. "
        "Overlaps MSD Liver/Pancreas/Spleen, KiTS19, NIH-Pancreas and FLARE21: deduplicate."
    ),
)

SPECS = [BTCV, WORD, FLARE22, FLARE21, ABDOMENCT_1K]

AMOS2022 = PairedVolumeSource(
    id="AMOS2022",
    title="AMOS 2022: abdominal multi-organ segmentation, CT and MR (post-challenge release)",
    modality="CT",
    modalities=["CT", "MR"],
    body_part="abdomen",
    license="CC-BY-4.0",
    homepage="https://zenodo.org/records/7262581",
    anchor="amos22",
    label_glob="amos22/labels*/amos_*.nii.gz",
    image_from_label=(r"/labels(Tr|Va)/", r"/images\1/"),
    modality_by_case_number=(500, "CT", "MR"),
    ct_window="abdomen",
    labels={
        "1": "spleen",
        "2": "right kidney",
        "3": "left kidney",
        "4": "gallbladder",
        "5": "esophagus",
        "6": "liver",
        "7": "stomach",
        "8": "aorta",  # dataset.json spells it "arota"
        "9": "inferior vena cava",  # "postcava"
        "10": "pancreas",
        "11": "right adrenal gland",
        "12": "left adrenal gland",
        "13": "duodenum",
        "14": "urinary bladder",
        "15": "prostate or uterus",  # the fallback of label_name_from_csv
    },
    # 15 by the patient's sex. Zenodo ships labeled_data_meta_0000_0599.csv next to
    # amos22.zip (MMMM reads a fixed copy, labeled_data_meta-fix.csv, which sorts first and
    # so wins); its amos_id column holds plain numbers (1 for amos_0001). Validated into
    # families.paired_volume.LabelNameFromCsv.
    label_name_from_csv={
        "csv_globs": ["labeled_data_meta*.csv", "amos22/labeled_data_meta*.csv"],
        "id_column": "amos_id",
        "value_column": "Patient's Sex",
        "label": "15",
        "names": {"M": "prostate", "F": "uterus"},
    },
    notes="Case ids <= 500 are CT, above are MR (as MMMM reads them). Label 15 is prostate "
    '(M) or uterus (F) by the "Patient\'s Sex" column of the metadata CSV, put next to '
    "amos22/; with no CSV, row or M/F value it stays 'prostate or uterus' and the case is "
    "listed. UNVERIFIED (third-party scripts, not the file itself): the CSV name "
    'labeled_data_meta_0000_0599.csv and its columns amos_id and "Patient\'s Sex".',
)

SPECS.append(AMOS2022)
