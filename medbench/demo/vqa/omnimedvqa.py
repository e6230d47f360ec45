"""OmniMedVQA replica: ``OmniMedVQA/QA_information/Open-access/*.json`` + ``Images/``.

Planted: ``Chest CT Scan.json`` with three questions: id ``Chest CT Scan_0``, four options,
answer B "Adenocarcinoma"; ``Chest CT Scan_1``, two options "No" / "Yes" (answer "No") and
the field spelt ``modality`` (as in the real file); ``Chest CT Scan_2``, image missing.
``Retinal OCT-C8.json`` with one question, ``Retinal OCT-C8_0``, three options, answer C.
A ``Restricted-access`` file is present and must not be read.
"""

from __future__ import annotations

import json
from pathlib import Path

from medbench.demo.vqa._images import encode, save

CT = "CT(Computed Tomography)"
OCT = "OCT (Optical Coherence Tomography"  # sic: OmniMedVQA's own spelling
FILES = {
    "Chest CT Scan": [
        {
            "dataset": "Chest CT Scan",
            "question_id": "Chest CT Scan_0",
            "question_type": "Disease Diagnosis",
            "question": "What abnormality is shown in this CT image?",
            "gt_answer": "Adenocarcinoma",
            "image_path": "Images/Chest CT Scan/test/adenocarcinoma/000108.png",
            "option_A": "Normal",
            "option_B": "Adenocarcinoma",
            "option_C": "Squamous cell carcinoma",
            "option_D": "Large cell carcinoma",
            "modality_type": CT,
        },
        {
            "dataset": "Chest CT Scan",
            "question_id": "Chest CT Scan_1",
            "question_type": "Disease Diagnosis",
            "question": "Is there any abnormality in this image?",
            "gt_answer": "No",
            "image_path": "Images/Chest CT Scan/test/normal/000007.png",
            "option_A": "No",
            "option_B": "Yes",
            "modality": CT,
        },
        {
            "dataset": "Chest CT Scan",
            "question_id": "Chest CT Scan_2",
            "question_type": "Modality Recognition",
            "question": "Which modality is this?",
            "gt_answer": "CT",
            "image_path": "Images/Chest CT Scan/test/normal/000999.png",
            "option_A": "CT",
            "option_B": "MRI",
            "modality_type": CT,
        },
    ],
    "Retinal OCT-C8": [
        {
            "dataset": "Retinal OCT-C8",
            "question_id": "Retinal OCT-C8_0",
            "question_type": "Anatomy Identification",
            "question": "Which layer is thickened?",
            "gt_answer": "Retinal pigment epithelium",
            "image_path": "Images/Retinal OCT-C8/test/DRUSEN/drusen_12.jpg",
            "option_A": "Nerve fibre layer",
            "option_B": "Choroid",
            "option_C": "Retinal pigment epithelium",
            "modality_type": OCT,
        }
    ],
}
IMAGES = {
    "Images/Chest CT Scan/test/adenocarcinoma/000108.png": (41, "PNG"),
    "Images/Chest CT Scan/test/normal/000007.png": (42, "PNG"),
    "Images/Retinal OCT-C8/test/DRUSEN/drusen_12.jpg": (43, "JPEG"),
}


def write(dest: Path) -> None:
    base = dest / "OmniMedVQA"
    qa = base / "QA_information" / "Open-access"
    qa.mkdir(parents=True, exist_ok=True)
    for stem, records in FILES.items():
        (qa / f"{stem}.json").write_text(json.dumps(records, indent=4) + "\n", encoding="utf-8")
    restricted = base / "QA_information" / "Restricted-access"
    restricted.mkdir(parents=True, exist_ok=True)
    (restricted / "AMOS2022.json").write_text("[]\n", encoding="utf-8")
    for rel, (key, fmt) in IMAGES.items():
        save(encode(key, fmt), base / rel)
