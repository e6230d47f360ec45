"""Family C specs: legacy VSD/SMIR folders."""

from medbench.builders.vgmed.families import VsdSource

# BRATS 2013 and 2015 (VSD releases) share label ids, names and reading sequences.
VSD_BRATS_LABELS = {
    "1": "necrosis",
    "2": "edema",
    "3": "non-enhancing tumor",
    "4": "enhancing tumor",
}
VSD_BRATS_CHANNEL_FOR_LABEL = {
    "necrosis": "T1c",
    "enhancing tumor": "T1c",
    "non-enhancing tumor": "T2",
    "edema": "Flair",
}

BRATS2015 = VsdSource(
    id="BraTS2015",
    title="BRATS 2015 (training data, VSD release)",
    modality="MR",
    body_part="head and neck",
    license="CC-BY-NC-SA-3.0",
    homepage="https://www.smir.ch/BRATS/Start2015",
    anchor="BRATS2015_Training",
    case_glob="BRATS2015_Training/*/*",
    channels=["Flair", "T1", "T1c", "T2"],
    labels=VSD_BRATS_LABELS,
    channel_for_label=VSD_BRATS_CHANNEL_FOR_LABEL,
    default_channel="Flair",
    notes="Label names follow the BRATS 2013/2015 documentation; only the ids were seen "
    "in public code (UNVERIFIED). Edit `labels` to rename.",
)

SPECS = [BRATS2015]
