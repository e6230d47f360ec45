"""PMC-VQA replica: ``test_clean.csv`` (Hub columns) + ``images/``.

Planted rows (source id = row number): 0 PMC1064097_F1.jpg, answer B "Focal uptake pattern";
1 PMC200_F2.jpg, choices with a leading space (" A:CT"), answer C "MRI"; 2 PMC300_F1.jpg,
which is missing; 3 PMC200_F2.jpg, four choices starting "A:Yes", "B:No", answer A "Yes".
"""

from __future__ import annotations

import csv
from pathlib import Path

from medbench.demo.vqa._images import encode, save

COLUMNS = [
    "Figure_path",
    "Question",
    "Answer",
    "Choice A",
    "Choice B",
    "Choice C",
    "Choice D",
    "Answer_label",
]
ROWS = [
    [
        "PMC1064097_F1.jpg",
        "What is the uptake pattern in the breast?",
        "Focal uptake pattern",
        "A:Diffuse uptake pattern",
        "B:Focal uptake pattern",
        "C:No uptake pattern",
        "D:Cannot determine from the information given",
        "B",
    ],
    [
        "PMC200_F2.jpg",
        "Which imaging modality was used?",
        "MRI",
        " A:CT",
        " B:X-ray",
        " C:MRI",
        " D:Ultrasound",
        "C",
    ],
    [
        "PMC300_F1.jpg",
        "What does the arrow show?",
        "A cyst",
        "A:A cyst",
        "B:A tumour",
        "C:A vessel",
        "D:An artefact",
        "A",
    ],
    [
        "PMC200_F2.jpg",
        "Is the lesion hyperintense?",
        "Yes",
        "A:Yes",
        "B:No",
        "C:Cannot tell",
        "D:Not shown",
        "A",
    ],
]
IMAGES = {"PMC1064097_F1.jpg": 31, "PMC200_F2.jpg": 32}


def write(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / "test_clean.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(ROWS)
    for name, key in IMAGES.items():
        save(encode(key, "JPEG"), dest / "images" / name)
