"""PathVQA replica: ``pvqa/qas/test_vqa.pkl``, ``pvqa/qas/test/test_qa.pkl``, ``pvqa/images/test``.

Planted (question_id: image, answer, answer_type): 1 test_0001 "neutrophils" other; 2
test_0002 "no" yes/no; 3 test_0001 "yes" yes/no; 4 test_0003 (image missing) "yes" yes/no;
5 test_0002 "in  sheets " other. The ``_qa.pkl`` file holds the same five questions in its
own format (``image`` / ``question`` / ``answer``), in the same order.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from medbench.demo.vqa._images import encode, save

IMAGES = {"test_0001": 21, "test_0002": 22}  # test_0003 is referenced, not shipped
QUESTIONS = [  # (question_id, img_id, question, answer, answer_type)
    (3, "test_0001", "Is the nucleus enlarged?", "yes", "yes/no"),
    (1, "test_0001", "What have lost their nuclei?", "neutrophils", "other"),
    (2, "test_0002", "Does this image show fibrosis?", "no", "yes/no"),
    (4, "test_0003", "Are the cells dying?", "yes", "yes/no"),
    (5, "test_0002", "How are the cells arranged?", "in  sheets ", "other"),
]


def write(dest: Path) -> None:
    pvqa = dest / "pvqa"
    vqa = [
        {"img_id": img, "question_id": qid, "sent": q, "label": {a: 1.0}, "answer_type": kind}
        for qid, img, q, a, kind in QUESTIONS
    ]
    qa = [{"image": img, "question": q, "answer": a} for _, img, q, a, _ in QUESTIONS]
    (pvqa / "qas" / "test").mkdir(parents=True, exist_ok=True)
    (pvqa / "qas" / "test_vqa.pkl").write_bytes(pickle.dumps(vqa, protocol=4))
    (pvqa / "qas" / "test" / "test_qa.pkl").write_bytes(pickle.dumps(qa, protocol=4))
    for name, key in IMAGES.items():
        save(encode(key, "JPEG"), pvqa / "images" / "test" / f"{name}.jpg")
