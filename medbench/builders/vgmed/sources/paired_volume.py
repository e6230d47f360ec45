"""Family A specs: paired volume files."""

from medbench.builders.vgmed.families import PairedVolumeSource

MSD_SPLEEN = PairedVolumeSource(
    id="MSD-Spleen",
    title="Medical Segmentation Decathlon, Task09 Spleen",
    modality="CT",
    body_part="abdomen",
    license="CC-BY-SA-4.0",
    homepage="http://medicaldecathlon.com/",
    anchor="Task09_Spleen",
    label_glob="Task09_Spleen/labelsTr/*.nii.gz",
    image_from_label=(r"^(.*)/labelsTr/", r"\1/imagesTr/"),
    labels={"1": "spleen"},
    ct_window="abdomen",
)

SPECS = [MSD_SPLEEN]
