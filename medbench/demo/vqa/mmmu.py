"""MMMU replica: ``MMMU/<Subject>/validation-00000-of-00001.parquet`` (the Hub repository).

Planted: Clinical_Medicine ``validation_Clinical_Medicine_1`` (four options, answer "B"),
``validation_Clinical_Medicine_2`` (two images, ``<image 1>`` and ``<image 2>``); Pharmacy
``validation_Pharmacy_1`` (open, answer "3.5"), ``validation_Pharmacy_2`` (no image:
skipped); an ``Art`` folder that is not in the Health & Medicine track.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from medbench.demo.vqa._images import encode

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("question", pa.string()),
        ("options", pa.string()),
        ("explanation", pa.string()),
    ]
    + [(f"image_{i}", IMAGE) for i in range(1, 8)]
    + [
        ("img_type", pa.string()),
        ("answer", pa.string()),
        ("topic_difficulty", pa.string()),
        ("question_type", pa.string()),
        ("subfield", pa.string()),
    ]
)


def _record(id_, question, options, answer, kind, subfield, img_type, images) -> dict:
    record = {
        "id": id_,
        "question": question,
        "options": options,
        "explanation": "",
        "img_type": img_type,
        "answer": answer,
        "topic_difficulty": "Medium",
        "question_type": kind,
        "subfield": subfield,
    }
    for i in range(1, 8):
        record[f"image_{i}"] = images[i - 1] if i <= len(images) else None
    return record


def _image(key: int, name: str) -> dict:
    return {"bytes": encode(key, "PNG"), "path": name}


SUBJECTS = {
    "Clinical_Medicine": [
        _record(
            "validation_Clinical_Medicine_1",
            "<image 1> What is the most likely diagnosis?",
            "['Pneumonia', 'Pneumothorax', 'Pleural effusion', 'Normal']",
            "B",
            "multiple-choice",
            "Pulmonary, Respiratory",
            "['X-Rays']",
            [_image(51, "validation_Clinical_Medicine_1_1.png")],
        ),
        _record(
            "validation_Clinical_Medicine_2",
            "Compare <image 1> and <image 2>. Which shows edema?",
            "['Left', 'Right']",
            "A",
            "multiple-choice",
            "Cardiology",
            "['X-Rays']",
            [_image(52, "a.png"), _image(53, "b.png")],
        ),
    ],
    "Pharmacy": [
        _record(
            "validation_Pharmacy_1",
            "<image 1> What is the half-life in hours?",
            "[]",
            "3.5",
            "open",
            "Pharmacology and Drug Synthesis",
            "['Plots and Charts']",
            [_image(54, "validation_Pharmacy_1_1.png")],
        ),
        _record(
            "validation_Pharmacy_2",
            "Which drug class is this?",
            "['Statin', 'Beta blocker']",
            "A",
            "multiple-choice",
            "Pharmacology and Drug Synthesis",
            "['Tables']",
            [],
        ),
    ],
    "Art": [
        _record(
            "validation_Art_1",
            "<image 1> Who painted this?",
            "['Monet', 'Manet']",
            "A",
            "multiple-choice",
            "Fine Arts",
            "['Paintings']",
            [_image(55, "art.png")],
        ),
    ],
}


def write(dest: Path) -> None:
    for subject, records in SUBJECTS.items():
        folder = dest / "MMMU" / subject
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(records, schema=SCHEMA)
        pq.write_table(table, folder / "validation-00000-of-00001.parquet")
