"""More CT/MR volume specs (families A, B) and the Tianchi pneumothorax re-host (family F).

Layouts from research/dataset-layouts.md §1 rows MSD-Liver, MSD-Pancreas, KiTS2019,
KiTS2021, Chest_Image_Pneum, CT-ORG, ATM2022, HVSMR2016, PROMISE12 and PROMISE09 (parallel
trees, read as family A with a glob image path and the case folder as id); orientation
per §3.1.
"""

from medbench.builders.vgmed.families import CaseDirSource, DicomRleSource, PairedVolumeSource

MSD_LIVER = PairedVolumeSource(
    id="MSD-Liver",
    title="Medical Segmentation Decathlon, Task03 Liver",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-SA-4.0",
    homepage="http://medicaldecathlon.com/",
    anchor="Task03_Liver",
    label_glob="Task03_Liver/labelsTr/*.nii.gz",
    image_from_label=(r"^(.*)/labelsTr/", r"\1/imagesTr/"),
    labels={"1": "liver", "2": "liver tumor"},  # dataset.json: 1 liver, 2 cancer
    ct_window="abdomen",
    notes=(
        "LiTS scans, also reused by AbdomenCT-1K and WORD's LiTS addition: deduplicate. "
        "AppleDouble ._*.nii.gz files in the archive are listed as skipped. imagesTs has no "
        "labels."
    ),
)

MSD_PANCREAS = PairedVolumeSource(
    id="MSD-Pancreas",
    title="Medical Segmentation Decathlon, Task07 Pancreas",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-SA-4.0",
    homepage="http://medicaldecathlon.com/",
    anchor="Task07_Pancreas",
    label_glob="Task07_Pancreas/labelsTr/*.nii.gz",
    image_from_label=(r"^(.*)/labelsTr/", r"\1/imagesTr/"),
    labels={"1": "pancreas", "2": "pancreatic tumor"},  # dataset.json: 1 pancreas, 2 cancer
    ct_window="abdomen",
    notes=(
        "50 cases are the FLARE22 labelled set (and AbdomenCT-1K holds more): deduplicate. "
        "AppleDouble ._*.nii.gz files are listed as skipped. imagesTs has no labels."
    ),
)

KITS2019 = CaseDirSource(
    id="KiTS2019",
    title="KiTS19: Kidney Tumor Segmentation Challenge 2019 (training data)",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-NC-SA-4.0",
    homepage="https://github.com/neheller/kits19",
    anchor="data",
    case_glob="data/case_*",
    channels={"CT": ["imaging.nii.gz"]},
    label=["segmentation.nii.gz"],
    labels={"1": "kidney", "2": "kidney tumor"},
    ct_window="abdomen",
    # The voxel array is (slices, rows, columns): slice the first file axis whatever the
    # affine says (research/dataset-layouts.md §3.1).
    reorient=False,
    slice_axis=0,
    flip_rows=False,
    notes=(
        "Orientation override: reorient=False, slice_axis=0. The kits19 README gives the affine "
        "as diag(slice thickness, pixel width, pixel width), which puts the slice axis on "
        "patient left-right, so canonical reorientation would slice a sagittal-like plane; the "
        "kits19 changelog says later downloads carry a corrected affine (axis codes I, P, L), "
        "with which reorientation would also work. The override ignores the affine, so it holds "
        "for both. UNVERIFIED on real files: that axis 1 runs anterior→posterior (top = "
        "anterior) and axis 2 runs patient right→left (radiological view), as the corrected "
        "affine says; if the slices come out upside down set flip_rows=True, if mirrored left "
        "to right the laterality of 'kidney tumor' boxes is wrong. Slices are then ordered "
        "superior→inferior. case_00210-00299 have no segmentation (listed as skipped). "
        "Some scans are reused by AbdomenCT-1K, FLARE21 and CTPelvic1K: deduplicate."
    ),
)

KITS2021 = CaseDirSource(
    id="KiTS2021",
    title="KiTS21: Kidney and Kidney Tumor Segmentation Challenge 2021 (training data)",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-NC-SA-4.0",
    homepage="https://github.com/neheller/kits21",
    anchor="dataset",
    case_glob="dataset/case_*",
    channels={"CT": ["imaging.nii.gz"]},
    label=["aggregated_MAJ_seg.nii.gz"],
    labels={"1": "kidney", "2": "kidney tumor", "3": "kidney cyst"},
    ct_window="abdomen",
    reorient=False,
    slice_axis=0,
    flip_rows=False,
    notes=(
        "UNVERIFIED axis order: assumed to be the KiTS19 convention, voxel array (slices, rows, "
        "columns), so the same override as KiTS2019 (reorient=False, slice_axis=0). If a real "
        "imaging.nii.gz has its slices on the LAST axis with a consistent affine, set "
        "reorient=True instead. Reads the majority-vote aggregation aggregated_MAJ_seg (as "
        "nnU-Net Task135 does), not the AND/OR aggregations or per-annotator segmentations/. "
        "UNVERIFIED folder: the repository's case folders under dataset/ (some copies use "
        "kits21/data/; point anchor and case_glob there)."
    ),
)

CHEST_IMAGE_PNEUM = DicomRleSource(
    id="Chest_Image_Pneum",
    title="Tianchi Chest Image Pneumothorax segmentation (a re-host of SIIM-ACR)",
    modality="X-ray",
    body_part="thorax",
    license="other (Kaggle SIIM-ACR competition rules, non-commercial)",
    redistributable=False,
    homepage="https://tianchi.aliyun.com/dataset/83075",
    anchor="chestimage_train-rle_datasets.csv",
    dicom_glob="chestimage_train_datasets/**/*.dcm",
    csv_path="chestimage_train-rle_datasets.csv",
    rle_flavour="relative",
    label="pneumothorax",
    notes=(
        "The same images as SIIM-ACR: deduplicate (keep one of the two). RLE as SIIM's "
        "train-rle.csv: relative offsets, column-major, -1 = empty; all rows of an ImageId are "
        "merged (MMSegmentation's dict-of-CSV converter keeps one). UNVERIFIED: the CSV header "
        "names (assumed ImageId, EncodedPixels as in SIIM) and the folder depth under "
        "chestimage_train_datasets (walked recursively). chestimage_test_datasets has no masks."
    ),
)

CT_ORG = PairedVolumeSource(
    id="CT-ORG",
    title="CT-ORG: CT volumes with multiple organ segmentations (TCIA)",
    modality="CT",
    body_part="whole body",
    license="CC-BY-4.0",
    homepage="https://www.cancerimagingarchive.net/collection/ct-org/",
    anchor="OrganSegmentations",
    label_glob="OrganSegmentations/labels-*.nii.gz",
    image_from_label=(r"^(.*)/labels-([^/]+)$", r"\1/volume-\2"),
    labels={
        "1": "liver",
        "2": "urinary bladder",
        "3": "lung",
        "4": "kidney",
        "5": "bone",
        "6": "brain",
    },
    ct_window="abdomen",
    notes=(
        "Cases 0-20 are the fully manual test set; in the others lungs and bone were "
        "auto-generated (lower quality, kept here). Lungs and kidneys are one id each (both "
        "sides). Brain appears in about 9 cases. Volumes 0-130 reuse LiTS scans (MSD-Liver): "
        "deduplicate. UNVERIFIED licence (TCIA page: CC BY 4.0)."
    ),
)

ATM2022 = PairedVolumeSource(
    id="ATM2022",
    title="ATM'22: Multi-site, Multi-Domain Airway Tree Modeling (training batches)",
    modality="CT",
    body_part="thorax",
    license="CC-BY-NC-SA-4.0",
    homepage="https://atm22.grand-challenge.org/",
    anchor="TrainBatch1",
    label_glob="TrainBatch*/labelsTr/*.nii.gz",
    image_from_label=(r"^(TrainBatch[^/]*)/labelsTr/", r"\1/imagesTr/"),
    labels={"1": "airway"},
    ct_window="lung",
    notes=(
        "Label files keep the _0000 suffix of their image (same name in both folders). "
        "Not applied: the official exclusion of ATM_164_0000 (the spec has no exclusion list). "
        "UNVERIFIED: licence, and validation/test folder names (not read)."
    ),
)

HVSMR2016 = PairedVolumeSource(
    id="HVSMR2016",
    title="HVSMR 2016: Whole-Heart and Great Vessel Segmentation from 3D Cardiovascular MR",
    modality="MR",
    body_part="thorax",
    license="CC-BY-4.0",
    homepage="http://segchd.csail.mit.edu/",
    anchor="Ground truth",
    # one variant only (axial_crop), otherwise every scan is sliced twice
    label_glob="Ground truth/training_axial_crop_pat*-label.nii.gz",
    image_from_label=(r"^Ground truth/(.*)-label\.nii\.gz$", r"Training dataset/\1.nii.gz"),
    labels={"1": "myocardium", "2": "blood pool"},
    notes=(
        "Reads the axial_crop variant only; axial_full and short-axis variants are ignored. "
        "Some mirrors ship .nii (not read). HVSMR-2.0 (four classes, _label_A/_B) is a "
        "different release. UNVERIFIED: licence and homepage."
    ),
)

PROMISE12 = PairedVolumeSource(
    id="PROMISE12",
    title="PROMISE12: Prostate MR Image Segmentation 2012 (training data)",
    modality="MR",
    body_part="pelvis",
    license="other (PROMISE12 challenge terms)",
    homepage="https://promise12.grand-challenge.org/",
    anchor="TrainingData_Part1",
    label_glob="TrainingData_Part*/Case*_segmentation.mhd",
    image_from_label=(r"_segmentation\.mhd$", r".mhd"),
    labels={"1": "prostate"},
    notes=(
        "MetaImage .mhd + .raw read through SimpleITK. Case ids are the label stems "
        "(Case00_segmentation). TestData has no labels. Mixed vendors and endorectal coil. "
        "UNVERIFIED licence."
    ),
)

# PROMISE09's layout comes from one secondary source (OML:Promise09.md), so it is
# UNVERIFIED: (image tree, image file, label tree, label file) below is the line to change
# if the real archive differs. T1_images/<n>/*.001.nrrd is unlabelled and never read.
_PROMISE09_FILES = ("T2_images", "*.002.nrrd", "T2_segmented_images", "*.004.nrrd")

PROMISE09 = PairedVolumeSource(
    id="PROMISE09",
    title="PROMISE09: MICCAI 2009 Prostate Segmentation Challenge (training data)",
    modality="MR",
    body_part="pelvis",
    license="other (MICCAI 2009 prostate challenge terms)",
    homepage="https://www.na-mic.org/wiki/Training_Data_Prostate_Segmentation_Challenge_MICCAI09",
    anchor=_PROMISE09_FILES[2],
    label_glob=f"{_PROMISE09_FILES[2]}/*/{_PROMISE09_FILES[3]}",
    # T2 and its label are paired by the case folder <n>, not by file name
    image_from_label=(r"^[^/]+/([^/]+)/[^/]+$", rf"{_PROMISE09_FILES[0]}/\1/{_PROMISE09_FILES[1]}"),
    case_id_from_label=r"^[^/]+/([^/]+)/",
    labels={"1": "prostate"},
    notes=(
        "UNVERIFIED layout (one secondary source): parallel trees T1_images/<n>/*.001.nrrd, "
        "T2_images/<n>/*.002.nrrd and T2_segmented_images/<n>/*.004.nrrd paired by the case "
        "folder <n>, which is the case id; flip it in _PROMISE09_FILES. Only T2 is labelled, "
        "so boxes are drawn on T2 and T1 is not read. A case folder with no or several T2 "
        "files is listed. UNVERIFIED licence."
    ),
)

SPECS = [
    MSD_LIVER,
    MSD_PANCREAS,
    KITS2019,
    CHEST_IMAGE_PNEUM,
    KITS2021,
    CT_ORG,
    ATM2022,
    HVSMR2016,
    PROMISE12,
    PROMISE09,
]
