"""Localization templates are the paper's ten; attribute questions come per (modality, label)."""

from medbench.builders.vgmed.questions import (
    QUESTIONS_PER_PAIR,
    attribute_question,
    localization_question,
    localization_templates,
    template_attribute_source,
)
from medbench.prompts import load_prompt

# Paper 001, fig. I.2, typed from the paper.
PAPER_LOCALIZATION = [
    "Is there a {label} in the image?",
    "Can you see a {label} in the image?",
    "Does the image contain a {label}?",
    "Is a {label} present in this image?",
    "Do you see a {label} in the picture?",
    "Is the {label} visible in the image?",
    "Is there any sign of a {label} in the image?",
    "Can a {label} be found in this image?",
    "Does this image show a {label}?",
    "Is a {label} shown in the picture?",
]


def test_localization_templates_are_the_papers():
    assert localization_templates() == PAPER_LOCALIZATION


def test_localization_questions_use_every_template_and_are_seeded():
    questions = {localization_question("liver", f"pair{i}", seed=0) for i in range(300)}
    assert questions == {t.format(label="liver") for t in PAPER_LOCALIZATION}
    assert localization_question("liver", "p", 0) == localization_question("liver", "p", 0)
    differs = sum(
        localization_question("liver", f"p{i}", 0) != localization_question("liver", f"p{i}", 1)
        for i in range(50)
    )
    assert differs > 25


def test_attribute_source_gives_three_questions_per_modality_label():
    source = template_attribute_source(seed=0)
    pairs = [("CT", "liver"), ("MR", "edema"), ("dermoscopy", "skin lesion"), ("CT", "liver")]
    out = source.questions(pairs)
    assert set(out) == {("CT", "liver"), ("MR", "edema"), ("dermoscopy", "skin lesion")}
    templates = load_prompt("vgmed_attribute_templates.yaml").yaml()
    for (modality, label), options in out.items():
        assert len(options.questions) == QUESTIONS_PER_PAIR == len(set(options.questions))
        pool = {t.format(label=label) for t in templates[modality]}
        assert set(options.questions) <= pool
        assert all(label in q for q in options.questions)
        assert options.source == "template"
    assert source.tag == "template" and source.requests == 3


def test_every_modality_of_the_paper_has_templates():
    templates = load_prompt("vgmed_attribute_templates.yaml").yaml()
    for modality in ("CT", "MR", "X-ray", "ultrasound", "endoscopy", "fundus", "dermoscopy", "PET"):
        assert len(templates[modality]) >= QUESTIONS_PER_PAIR


def test_attribute_question_is_one_of_the_options():
    options = ["a?", "b?", "c?"]
    picks = {attribute_question(options, f"p{i}", 0) for i in range(60)}
    assert picks == set(options)
