"""SLAKE replica: ``Slake1.0/{train,validate,test}.json`` + ``imgs/xmlab<N>/source.jpg``.

Planted test questions (qid: language, answer, label): 11934 en "CT" OPEN; 11938 en "No"
CLOSED; 11939 en "Yes" CLOSED; 11944 en "Lung" CLOSED (a which-of question, no options
shipped); 11945 zh "是" CLOSED; 11970 en "Yes" CLOSED on image 2; 11990 en "No" CLOSED on
image 3, whose folder is missing. validate.json and train.json hold one question each.
``IMAGE_BYTES`` are reused by the HuatuoGPT-Vision replica, so both paths see the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

from medbench.demo.vqa._images import encode, save

IMAGE_BYTES = {1: encode(11, "JPEG"), 2: encode(12, "JPEG")}  # xmlab3 is not shipped


def _q(qid, img, lang, question, answer, answer_type, content, modality="CT", location="Lung"):
    return {
        "img_id": img,
        "img_name": f"xmlab{img}/source.jpg",
        "question": question,
        "answer": answer,
        "q_lang": lang,
        "location": location,
        "modality": modality,
        "answer_type": answer_type,
        "base_type": "vqa",
        "content_type": content,
        "triple": ["vhead", "_", "_"],
        "qid": qid,
    }


TEST = [
    _q(11934, 1, "en", "What modality is used to take this image?", "CT", "OPEN", "Modality"),
    _q(11938, 1, "en", "Does the picture contain liver?", "No", "CLOSED", "Organ"),
    _q(11939, 1, "en", "Does the picture contain lung?", "Yes", "CLOSED", "Organ"),
    _q(
        11944,
        1,
        "en",
        "Which is the biggest in this image,lung,liver or heart?",
        "Lung",
        "CLOSED",
        "Size",
    ),
    _q(11945, 1, "zh", "这张图片包含肺吗?", "是", "CLOSED", "Organ"),
    _q(
        11970,
        2,
        "en",
        "Are there abnormalities in this image?",
        "Yes",
        "CLOSED",
        "Abnormality",
        modality="X-Ray",
        location="Chest",
    ),
    _q(11990, 3, "en", "Is the lung healthy?", "No", "CLOSED", "Abnormality"),
]
VALIDATE = [_q(9001, 1, "en", "Is this a CT?", "Yes", "CLOSED", "Modality")]
TRAIN = [_q(1, 2, "en", "What is the main organ?", "Lung", "OPEN", "Organ")]


def write(dest: Path) -> None:
    root = dest / "Slake1.0"
    root.mkdir(parents=True, exist_ok=True)
    for name, records in (("test", TEST), ("validate", VALIDATE), ("train", TRAIN)):
        text = json.dumps(records, ensure_ascii=False)
        (root / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    for img, data in IMAGE_BYTES.items():
        save(data, root / "imgs" / f"xmlab{img}" / "source.jpg")
