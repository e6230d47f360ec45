"""Family F specs: DICOM images with an RLE CSV."""

from medbench.builders.vgmed.families import DicomRleSource

SIIM_ACR = DicomRleSource(
    id="SIIM-ACR",
    title="SIIM-ACR Pneumothorax Segmentation (Kaggle, stage 1 training set)",
    modality="X-ray",
    body_part="thorax",
    license="other (Kaggle competition rules, non-commercial)",
    redistributable=False,
    homepage="https://www.kaggle.com/c/siim-acr-pneumothorax-segmentation",
    anchor="train-rle.csv",
    dicom_glob="dicom-images-train/**/*.dcm",
    csv_path="train-rle.csv",
    rle_flavour="relative",
    label="pneumothorax",
)

SPECS = [SIIM_ACR]
