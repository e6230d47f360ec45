"""Family B specs: one folder per case with fixed member names."""

from medbench.builders.vgmed.families import CaseDirSource

BRATS2021 = CaseDirSource(
    id="BraTS2021",
    title="RSNA-ASNR-MICCAI BraTS 2021 (training data)",
    modality="MR",
    body_part="head and neck",
    license="CC-BY-4.0",
    homepage="https://www.synapse.org/brats2021",
    anchor="RSNA_ASNR_MICCAI_BraTS2021_TrainingData",
    case_glob="RSNA_ASNR_MICCAI_BraTS2021_TrainingData/BraTS2021_*",
    channels={
        "flair": ["{case}_flair.nii.gz", "{case}_flair.nii"],
        "t1": ["{case}_t1.nii.gz", "{case}_t1.nii"],
        "t1ce": ["{case}_t1ce.nii.gz", "{case}_t1ce.nii"],
        "t2": ["{case}_t2.nii.gz", "{case}_t2.nii"],
    },
    label=["{case}_seg.nii.gz", "{case}_seg.nii"],
    # Up to 2021 the enhancing tumour is 4 (BraTS 2023 moved it to 3).
    labels={"1": "necrotic tumor core", "2": "peritumoral edema", "4": "enhancing tumor"},
    # enhancement and necrosis read on post-contrast T1, oedema on FLAIR (BraTS protocol)
    channel_for_label={
        "necrotic tumor core": "t1ce",
        "enhancing tumor": "t1ce",
        "peritumoral edema": "flair",
    },
    default_channel="flair",
)

SPECS = [BRATS2021]
