"""Family C specs: legacy VSD/SMIR folders."""

from medbench.builders.vgmed.families import VsdSource

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
    labels={"1": "necrosis", "2": "edema", "3": "non-enhancing tumor", "4": "enhancing tumor"},
    channel_for_label={
        "necrosis": "T1c",
        "enhancing tumor": "T1c",
        "non-enhancing tumor": "T2",
        "edema": "Flair",
    },
    default_channel="Flair",
    notes="Label names follow the BRATS 2013/2015 documentation; only the ids were seen "
    "in public code (UNVERIFIED). Edit `labels` to rename.",
)

SPECS = [BRATS2015]
