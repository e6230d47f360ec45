"""VQA-RAD replica: ``VQA_RAD Dataset Public.json`` + ``VQA_RAD Image Folder/`` (OSF layout).

Planted: seven questions on three images. Test (``test_freeform`` / ``test_para``): qid 1
"Yes" and qid 2 "yes." (closed yes/no), qid 3 open with stray whitespace in the answer,
qid 4 closed "left" (no options shipped), qid 5 on ``synpic300.jpg``, which is missing,
qid 10 open with a JSON-number answer ``2``. qid 6 is a train (``freeform``) question and
qid 7 a ``frame`` question: neither is in the test split.
"""

from __future__ import annotations

import json
from pathlib import Path

from medbench.demo.vqa._images import encode, save

ANNOTATIONS = "VQA_RAD Dataset Public.json"
IMAGE_FOLDER = "VQA_RAD Image Folder"
IMAGES = {"synpic100.jpg": 1, "synpic200.jpg": 2}  # synpic300.jpg is referenced, not shipped


def _q(qid, image, organ, question, answer, answer_type, question_type, phrase_type) -> dict:
    return {
        "qid": qid,
        "image_name": image,
        "image_case_url": f"https://medpix.nlm.nih.gov/case?id={image[:-4]}",
        "image_organ": organ,
        "answer": answer,
        "answer_type": answer_type,
        "question_type": question_type,
        "question": question,
        "phrase_type": phrase_type,
        "qid_linked_id": f"0{qid}",
        "question_rephrase": "NULL",
        "question_relation": "NULL",
        "question_frame": "NULL",
        "evaluation": "not evaluated",
    }


QUESTIONS = [
    _q(
        1,
        "synpic100.jpg",
        "CHEST",
        "Is there a pneumothorax?",
        "Yes",
        "CLOSED",
        "PRES",
        "test_freeform",
    ),
    _q(
        2, "synpic100.jpg", "CHEST", "Is the heart enlarged?", "yes.", "CLOSED", "SIZE", "test_para"
    ),
    _q(
        3,
        "synpic200.jpg",
        "HEAD",
        "What imaging modality was used?",
        "  MRI   T2 weighted ",
        "OPEN",
        "MODALITY",
        "test_freeform",
    ),
    _q(
        4,
        "synpic200.jpg",
        "HEAD",
        "Is the lesion on the left or right?",
        "left",
        "CLOSED",
        "POS",
        "test_freeform",
    ),
    _q(5, "synpic300.jpg", "ABD", "Is there free air?", "no", "CLOSED", "PRES", "test_freeform"),
    _q(6, "synpic100.jpg", "CHEST", "Is this a CT?", "No", "CLOSED", "MODALITY", "freeform"),
    _q(7, "synpic100.jpg", "CHEST", "Is there a <finding>?", "Yes", "CLOSED", "PRES", "frame"),
    _q(10, "synpic200.jpg", "HEAD", "How many lesions are there?", 2, "OPEN", "COUNT", "test_para"),
]


def write(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / ANNOTATIONS).write_text(json.dumps(QUESTIONS, indent=1) + "\n", encoding="utf-8")
    for name, key in IMAGES.items():
        save(encode(key, "JPEG"), dest / IMAGE_FOLDER / name)
