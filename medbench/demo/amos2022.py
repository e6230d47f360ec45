"""AMOS 2022 replica, family A: ``amos22/{imagesTr,labelsTr,imagesVa,labelsVa}/amos_NNNN``.

Case numbers above 500 are MR scans in the same folders as the CT ones. Label 15 is the
prostate or the uterus by the patient's sex, which ``labeled_data_meta_0000_0599.csv``
(shipped next to ``amos22/``; its name and columns are UNVERIFIED) gives per ``amos_id``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from medbench.demo.btcv import PairedCase, Structure, structures, write_cases, write_image_only
from medbench.demo.truth import PlantedStructure

DATASET = "AMOS2022"
# AMOS ids: 2 = RIGHT kidney, 3 = LEFT kidney, as BTCV.
LABEL_IDS = {"spleen": 1, "right kidney": 2, "left kidney": 3, "liver": 6, "aorta": 8}
# Label 15 by sex; its blob takes the midline slot of the shared layout (BTCV's pancreas).
SEX_LABEL_IDS = {"prostate": 15, "uterus": 15}
SEX_NAMES = {"M": "prostate", "F": "uterus"}
CASES = (
    PairedCase(
        "amos_0001",
        "amos22/imagesTr/amos_0001.nii.gz",
        "amos22/labelsTr/amos_0001.nii.gz",
        "LPS",
        -44,  # not FLARE22_Tr_0001's -40: with label 15 the two scans would be equal
    ),
    PairedCase(
        "amos_0540",
        "amos22/imagesVa/amos_0540.nii.gz",
        "amos22/labelsVa/amos_0540.nii.gz",
        "RAS",
        -150,  # below every blob: the MR percentile window must not clip label 15 (-100)
    ),
)
META_CSV = "labeled_data_meta_0000_0599.csv"
# amos_id, Patient's Sex, Patient's Age: a male CT case, a female MR case, and a row of a
# case this replica does not ship (the real CSV covers 0000-0599, unlabelled ones too)
META_ROWS = (("1", "M", "061Y"), ("540", "F", "047Y"), ("5", "F", "055Y"))


def sex_of(case_key: str) -> str:
    number = str(int(case_key.rsplit("_", 1)[1]))
    return next(sex for amos_id, sex, _ in META_ROWS if amos_id == number)


def write_meta_csv(path: Path, rows: tuple[tuple[str, str, str], ...] = META_ROWS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["amos_id", "Patient's Sex", "Patient's Age"])
        writer.writerows(rows)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = []
    for case in CASES:
        sex_label = Structure(SEX_NAMES[sex_of(case.case_key)], 15, ("pancreas",))
        items = (*structures(LABEL_IDS), sex_label)
        planted += write_cases(dataset_dir, DATASET, (case,), items, seed)
    write_image_only(dataset_dir, "amos22/imagesTs/amos_0600.nii.gz", seed)
    write_meta_csv(Path(dataset_dir) / META_CSV)
    return planted
