"""HuatuoGPT-Vision evaluation-data replica: ``medical_multimodel_evaluation_data.json`` + images.

Records (source id = position): 0–4 ``SLAKE_test``, the native replica's closed English
test questions posed as multiple choice (0 liver "No", 1 lung "Yes", 2 biggest organ with
options Lung/Liver/Heart, 3 abnormalities "Yes" on image 2, 4 on the missing image 3);
5 ``OmniMedVQA`` (subset = modality); 6 ``PMC-VQA_test``; 7 ``MMMU_Medical_Validation``
(options as a Python-literal string); 8 ``VQA-RAD_test`` with ``question_type: open``;
9 ``VQA-RAD_test`` yes/no; 10 ``PathVQA_test`` whose answer is not an option; 11 a dataset
none of the six benchmarks owns. Images that also exist natively are the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from medbench.demo.vqa import slake
from medbench.demo.vqa._images import encode, save

FILE_NAME = "medical_multimodel_evaluation_data.json"
YES_NO = ["Yes", "No"]


def _r(dataset, question, options, answer, image, subset="", **extra) -> dict:
    return {
        "question": question,
        "options": options,
        "answer": answer,
        "image": [image],
        "dataset": dataset,
        "subset": subset,
        **extra,
    }


RECORDS = [
    _r(
        "SLAKE_test",
        "Does the picture contain liver?",
        YES_NO,
        "No",
        "images/slake_xmlab1_source.jpg",
    ),
    _r(
        "SLAKE_test",
        "Does the picture contain lung?",
        YES_NO,
        "Yes",
        "images/slake_xmlab1_source.jpg",
    ),
    _r(
        "SLAKE_test",
        "Which is the biggest in this image,lung,liver or heart?",
        ["Lung", "Liver", "Heart"],
        "Lung",
        "images/slake_xmlab1_source.jpg",
    ),
    _r(
        "SLAKE_test",
        "Are there abnormalities in this image?",
        YES_NO,
        "Yes",
        "images/slake_xmlab2_source.jpg",
    ),
    _r("SLAKE_test", "Is the lung healthy?", YES_NO, "No", "images/slake_xmlab3_source.jpg"),
    _r(
        "OmniMedVQA",
        "What abnormality is shown in this CT image?",
        ["Normal", "Adenocarcinoma", "Squamous cell carcinoma", "Large cell carcinoma"],
        "Adenocarcinoma",
        "images/omni_000108.png",
        subset="CT(Computed Tomography)",
    ),
    _r(
        "PMC-VQA_test",
        "What is the uptake pattern in the breast?",
        [
            "Diffuse uptake pattern",
            "Focal uptake pattern",
            "No uptake pattern",
            "Cannot determine from the information given",
        ],
        "Focal uptake pattern",
        "images/PMC1064097_F1.jpg",
    ),
    _r(
        "MMMU_Medical_Validation",
        "<image 1> What is the most likely diagnosis?",
        "['Pneumonia', 'Pneumothorax', 'Pleural effusion', 'Normal']",
        "Pneumothorax",
        "images/mmmu_clinical_medicine_1.png",
        subset="Clinical_Medicine",
    ),
    _r(
        "VQA-RAD_test",
        "What imaging modality was used?",
        [],
        "MRI T2 weighted",
        "images/synpic200.jpg",
        question_type="open",
    ),
    _r("VQA-RAD_test", "Is there a pneumothorax?", ["yes", "no"], "yes", "images/synpic100.jpg"),
    _r(
        "PathVQA_test",
        "Is the nucleus enlarged?",
        ["yes", "no"],
        "maybe",
        "images/pathvqa_test_0001.jpg",
    ),
    _r(
        "MedXpertQA",
        "Which finding is present?",
        ["A mass", "None"],
        "None",
        "images/synpic100.jpg",
    ),
]
IMAGES = {
    "images/slake_xmlab1_source.jpg": slake.IMAGE_BYTES[1],
    "images/slake_xmlab2_source.jpg": slake.IMAGE_BYTES[2],
    "images/omni_000108.png": encode(41, "PNG"),
    "images/PMC1064097_F1.jpg": encode(31, "JPEG"),
    "images/mmmu_clinical_medicine_1.png": encode(51, "PNG"),
    "images/synpic100.jpg": encode(1, "JPEG"),
    "images/synpic200.jpg": encode(2, "JPEG"),
    "images/pathvqa_test_0001.jpg": encode(21, "JPEG"),
}


def write(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    text = json.dumps(RECORDS, ensure_ascii=False, indent=2)
    (dest / FILE_NAME).write_text(text + "\n", encoding="utf-8")
    for rel, data in IMAGES.items():
        save(data, dest / rel)
