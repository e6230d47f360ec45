"""Family G specs: paired 2D image and mask files."""

from medbench.builders.vgmed.families import Paired2DSource

ISIC2018 = Paired2DSource(
    id="ISIC2018",
    title="ISIC 2018 Task 1: lesion boundary segmentation",
    modality="dermoscopy",
    body_part="skin",
    license="CC-BY-NC-4.0",
    homepage="https://challenge.isic-archive.com/data/#2018",
    anchor="ISIC2018_Task1-2_Training_Input",
    image_globs=[
        "ISIC2018_Task1-2_Training_Input/*.jpg",
        "ISIC2018_Task1-2_Validation_Input/*.jpg",
        "ISIC2018_Task1-2_Test_Input/*.jpg",
    ],
    mask="ISIC2018_Task1_*_GroundTruth/{stem}_segmentation.png",
    label="skin lesion",
)

SPECS = [ISIC2018]
