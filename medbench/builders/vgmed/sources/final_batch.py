"""StructSeg2019 (tasks 1 and 2), CTPelvic1K, autoPET (families A, B) and LUNA16 (H) specs.

Layouts from research/dataset-layouts.md §1 rows StructSeg2019 Task 1/Task 2, CTPelvic1K,
autoPET and LUNA16 (nodule spheres in world mm plus the seg-lungs lung masks, read by
``families.world_spheres``).
PROMISE09 is not declared: its layout comes from one secondary source only (research §4).
"""

from medbench.builders.vgmed.families.case_dir import CaseDirSource
from medbench.builders.vgmed.families.paired_volume import PairedVolumeSource
from medbench.builders.vgmed.families.world_spheres import WorldSphereSource

STRUCTSEG_TASK1 = CaseDirSource(
    id="StructSeg2019-Task1",
    title="StructSeg 2019 Task 1: organ-at-risk segmentation of head-and-neck CT",
    modality="CT",
    body_part="head and neck",
    license="other (StructSeg2019 challenge terms, non-commercial research)",
    homepage="https://structseg2019.grand-challenge.org/",
    anchor="HaN_OAR",
    case_glob="HaN_OAR/*",
    channels={"CT": ["data.nii.gz", "data.nii"]},
    label=["label.nii.gz", "label.nii"],
    labels={
        "1": "brainstem",
        "2": "left eye",
        "3": "right eye",
        "4": "left lens",
        "5": "right lens",
        "6": "left optic nerve",
        "7": "right optic nerve",
        "8": "optic chiasm",
        "9": "left temporal lobe",
        "10": "right temporal lobe",
        "11": "pituitary gland",
        "12": "left parotid gland",
        "13": "right parotid gland",
        "14": "left inner ear",
        "15": "right inner ear",
        "16": "left middle ear",
        "17": "right middle ear",
        "18": "left temporomandibular joint",
        "19": "right temporomandibular joint",
        "20": "spinal cord",
        "21": "left mandible",
        "22": "right mandible",
    },
    ct_window="head_neck",
    notes=(
        "UNVERIFIED id order: taken from a secondary source's table (Awesome-Medical-Dataset), "
        "which matches the challenge's list of 22 organs but was not checked on label files; "
        "run np.unique on a case and check the left/right pairs by image half. The source "
        "writes 'optical nerve' and 'TM joint' (named here optic nerve, temporomandibular "
        "joint); 21/22 are the mandible halves. Lens and pituitary are a few voxels across: "
        "slices are taken natively (no resampling). UNVERIFIED licence."
    ),
)

STRUCTSEG_TASK2 = CaseDirSource(
    id="StructSeg2019-Task2",
    title="StructSeg 2019 Task 2: organ-at-risk segmentation of thoracic CT",
    modality="CT",
    body_part="thorax",
    license="other (StructSeg2019 challenge terms, non-commercial research)",
    homepage="https://structseg2019.grand-challenge.org/",
    anchor="Thoracic_OAR",
    case_glob="Thoracic_OAR/*",
    channels={"CT": ["data.nii.gz", "data.nii"]},
    label=["label.nii.gz", "label.nii"],
    labels={
        "1": "left lung",
        "2": "right lung",
        "3": "spinal cord",
        "4": "esophagus",
        "5": "heart",
        "6": "trachea",
    },
    ct_window="mediastinum",
    notes=(
        "UNVERIFIED folder name Thoracic_OAR (the secondary source shows HaN_OAR for every "
        "task by copy-paste; point anchor and case_glob at the real folder). Ids 1-5 from the "
        "secondary source, 6 trachea from the challenge description (UNVERIFIED): a label "
        "value missing from this map is listed as skipped, not guessed. UNVERIFIED licence."
    ),
)

CTPELVIC1K = PairedVolumeSource(
    id="CTPelvic1K",
    title="CTPelvic1K, dataset 6 (CLINIC): pelvic bone segmentation in CT",
    modality="CT",
    body_part="pelvis",
    license="CC-BY-NC-SA-4.0",
    homepage="https://github.com/MIRACLE-Center/CTPelvic1K",
    anchor="CTPelvic1K_dataset6_data",
    # the mask folder is CTPelvic1K_dataset6_Anonymized_mask in one copy, ..._mask in another
    label_glob="CTPelvic1K_dataset6*_mask/dataset6_*_mask_4label.nii.gz",
    image_from_label=(
        r"^CTPelvic1K_dataset6[^/]*_mask/(.+)_mask_4label\.nii\.gz$",
        r"CTPelvic1K_dataset6_data/\1_data.nii.gz",
    ),
    labels={"1": "sacrum", "2": "right hip bone", "3": "left hip bone", "4": "lumbar vertebra"},
    ct_window="pelvis",
    notes=(
        "Label ids from the official nnU-Net conversion (1 sacrum, 2 right hip, 3 left hip, "
        "4 lumbar vertebra); SAT's label list swaps 2 and 3: the official order is kept, "
        "UNVERIFIED on files (check that 'right hip bone' lands on the image's left half, "
        "radiological view). Label 4 seems to cover L3-L5 only. Only dataset 6 (CLINIC) is "
        "read: datasets 1-5 ship masks only (their images belong to BTCV, MSD, KiTS19, "
        "CT-COLONOGRAPHY) and dataset 7 (CLINIC-metal) has an unverified layout. The authors "
        "load the NIfTI files with ITK because of a fall-back affine; here they are read "
        "with nibabel (UNVERIFIED that the orientation agrees). UNVERIFIED licence."
    ),
)

AUTOPET = CaseDirSource(
    id="autoPET",
    title="autoPET 2022: FDG-PET/CT lesion segmentation (FDG-PET-CT-Lesions, NIfTI release)",
    modality="PET",
    body_part="whole body",
    license="CC-BY-4.0",
    homepage="https://autopet.grand-challenge.org/",
    anchor="FDG-PET-CT-Lesions",
    # patient folder / study folder (study names hold spaces, including a double space)
    case_glob="FDG-PET-CT-Lesions/PETCT_*/*",
    channels={"SUV": ["SUV.nii.gz"]},
    label=["SEG.nii.gz"],
    labels={"1": "tumor lesion"},
    notes=(
        "SEG is paired with SUV (same PET grid; CT.nii.gz is on another grid, CTres is CT "
        "resampled to the PET grid and not read). About half the studies are negative "
        "controls whose SEG is empty: they are read and their lesion is listed as absent. "
        "The case id is the study folder name only (date, description, accession number); "
        "two patients' studies sharing one folder name would share a case id (UNVERIFIED "
        "that accession numbers keep them apart). UNVERIFIED licence (TCIA collection page)."
    ),
)


LUNA16 = WorldSphereSource(
    id="LUNA16",
    title="LUNA16: lung nodule analysis 2016 (LIDC-IDRI subset, nodules >= 3 mm)",
    modality="CT",
    body_part="thorax",
    license="CC-BY-4.0",
    homepage="https://luna16.grand-challenge.org/",
    anchor="annotations.csv",
    image_glob="subset*/*.mhd",
    spheres_csv="annotations.csv",
    label="lung nodule",
    # users' scripts also read seg-lungs-LUNA16/seg-lungs-LUNA16/ (zip unpacked into its name)
    mask_paths=[
        "seg-lungs-LUNA16/{case_id}.mhd",
        "seg-lungs-LUNA16/seg-lungs-LUNA16/{case_id}.mhd",
    ],
    # UNVERIFIED which of 3/4 is the left lung: to flip, swap the two names on this line
    labels={"3": "left lung", "4": "right lung", "5": "trachea"},
    ct_window="lung",
    notes=(
        "Nodule boxes come from annotations.csv spheres (centre in ITK world mm, LPS, and "
        "diameter), rasterised on each scan's voxel grid: the box is the sphere's largest "
        "cross-section, on the slice through its centre. The .mhd TransformMatrix is used as "
        "read (assumed identity in the research notes, UNVERIFIED). Lung boxes come from "
        "seg-lungs-LUNA16/<seriesuid>.mhd (.raw or .zraw, both read by SimpleITK; .zraw "
        "UNVERIFIED), a second label layer of the same case; a mask on another voxel grid "
        "than its scan, or missing, is listed and the case keeps its nodules. Mask values: "
        "3 left lung, 4 right lung, 5 trachea, from SAT's loader and the DSB2017 (lfz) "
        "author's answer to issue #67, UNVERIFIED on files: with an identity "
        "TransformMatrix the left lung (patient's left, LPS +x) has the larger x index and "
        "must land on the image's right half; if 3 sits on the image's left, swap 3/4 in "
        "labels. Series without a row (no nodule >= 3 mm) are listed and read for their "
        "lung mask only; rows of subsets not present are listed. candidates.csv is not "
        "read. The scans are LIDC-IDRI's: deduplicate. UNVERIFIED licence."
    ),
)

SPECS = [STRUCTSEG_TASK1, STRUCTSEG_TASK2, CTPELVIC1K, AUTOPET, LUNA16]
