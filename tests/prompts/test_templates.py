"""The LLM prompt templates: they load, render, carry the papers' wording, and hash their text."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from medbench.builders.vgmed.sources import SOURCES
from medbench.prompts import (
    PromptTemplateError,
    UnknownTemplateError,
    attribute_template_id,
    list_templates,
    load_template,
    load_template_file,
)
from medbench.prompts.templates import VGMED_ATTRIBUTE_TEMPLATES

VGMED_IDS = [
    f"vgmed-attribute-{m}"
    for m in ("mri", "ct", "ultrasound", "xray", "fundus", "endoscopy", "pet", "dermoscopy")
]
ALL_IDS = sorted(
    [*VGMED_IDS, "coco-attribute", "dap-disease-descriptions", "imagenome-region-specificity"]
)

SAMPLE_VALUES = {
    "modality": "CT",
    "label": "left kidney",
    "disease": "pneumothorax",
    "count": 50,
    "sentence": "There is a new opacity in the left lower lung zone.",
    "regions": ["left lung", "left lower lung zone"],
}

# One example question per figure of paper 001, app. I.1, found in no other figure: the test fails
# if a modality's file holds another figure's prompt.
PAPER_PHRASES = {
    "MR": ("I.3", "What pattern of enhancement does the lesion show?"),
    "CT": ("I.4", "Are there ground glass opacities within the lung?"),
    "ultrasound": ("I.5", "Does the thyroid nodule have marked hypoechogenicity?"),
    "X-ray": (
        "I.6",
        "Does the lung field appear more opaque or translucent in the annotated region?",
    ),
    "fundus": ("I.7", "Is there any pallor observed in the optic disc?"),
    "endoscopy": (
        "I.8",
        "Does the colorectal polyp have a smooth or lobulated surface appearance?",
    ),
    "PET": ("I.9", "Does the lesion show increased radiotracer uptake on the PET scan?"),
    "dermoscopy": ("I.10", "Does the lesion have peripheral black dots or clods?"),
}

# The JSON key each output names, as the added last instruction spells it.
OUTPUT_KEYS = {
    "attribute_questions": '{"questions": [',
    "attribute_question": '{"question": ',
    "disease_descriptions": '{"descriptions": [',
    "region_specificity": '{"keep": [',
}


def shipped_path(template_id: str) -> Path:
    return Path(str(resources.files("medbench.prompts").joinpath("llm", f"{template_id}.yaml")))


def rendered_text(template_id: str, **overrides) -> str:
    template = load_template(template_id)
    values = {name: SAMPLE_VALUES[name] for name in template.variables} | overrides
    return "\n".join(m["content"] for m in template.render(**values))


def test_the_shipped_ids():
    assert list_templates() == ALL_IDS


@pytest.mark.parametrize("template_id", ALL_IDS)
def test_every_template_loads_and_renders(template_id):
    template = load_template(template_id)
    assert template.id == template_id
    assert template.version >= 1
    assert template.source and template.description and template.output
    assert set(template.sampling) >= {"temperature", "max_tokens"}

    messages = template.render(**{name: SAMPLE_VALUES[name] for name in template.variables})
    assert [set(m) for m in messages] == [{"role", "content"}] * len(template.messages)
    assert messages[-1]["role"] == "user"
    text = "\n".join(m["content"] for m in messages)
    assert "{{" not in text and "{%" not in text
    for name in template.variables:
        value = SAMPLE_VALUES[name]
        for part in value if isinstance(value, list) else [value]:
            assert str(part) in text
    assert OUTPUT_KEYS[template.output] in messages[-1]["content"]


def test_load_is_cached_and_the_model_frozen():
    template = load_template("vgmed-attribute-ct")
    assert load_template("vgmed-attribute-ct") is template
    with pytest.raises(ValidationError):
        template.version = 2


@pytest.mark.parametrize("modality", sorted(PAPER_PHRASES))
def test_attribute_prompt_is_the_papers_figure_for_its_modality(modality):
    figure, phrase = PAPER_PHRASES[modality]
    template_id = attribute_template_id(modality)
    assert figure in load_template(template_id).source
    assert phrase in rendered_text(template_id, modality=modality)
    for other in VGMED_IDS:
        if other != template_id:
            assert phrase not in rendered_text(other)


@pytest.mark.parametrize("template_id", VGMED_IDS)
def test_attribute_prompts_share_the_papers_instructions(template_id):
    text = rendered_text(template_id, modality="CT", label="thyroid nodule")
    assert "(organ, lesion, or tissue) in a CT image" in text
    assert "Require attention to the entire annotated bounding box." in text
    assert "Label: thyroid nodule" in text
    assert "Return exactly three questions without any additional text or formatting." in text


def test_coco_and_dap_prompts_carry_the_papers_wording():
    coco = rendered_text("coco-attribute", label="giraffe")
    assert "an image from the COCO dataset" in coco
    assert "Now, generate one question based on the following label:\n\nLabel: giraffe" in coco
    dap = rendered_text("dap-disease-descriptions", disease="cardiomegaly", count=7)
    assert dap.startswith(
        "For the disease cardiomegaly, provide a sentence to describe it on chest X-rays. "
        "Exclude any reference to anatomical locations"
    )
    assert "holding exactly 7 sentences" in dap


def test_imagenome_prompt_lists_the_given_regions():
    text = rendered_text(
        "imagenome-region-specificity",
        sentence="Mild bibasilar atelectasis.",
        regions=["right lung", "right lower lung zone"],
    )
    assert "Sentence: Mild bibasilar atelectasis.\nRegions: right lung, right lower lung zone" in (
        text
    )
    assert "retain only the most specific regions" in text


def test_hash_is_of_the_file_text_and_follows_edits(tmp_path):
    shipped = load_template("vgmed-attribute-ct")
    copy = tmp_path / "vgmed-attribute-ct.yaml"
    shutil.copyfile(shipped_path("vgmed-attribute-ct"), copy)

    same = load_template_file(copy)
    assert same.sha256 == shipped.sha256 == hashlib.sha256(copy.read_bytes()).hexdigest()
    assert same.short_hash == shipped.sha256[:12]

    copy.write_text(copy.read_text().replace("Is the kidney enlarged?", "Is the kidney large?"))
    edited = load_template_file(copy)
    assert edited.sha256 != shipped.sha256 and edited.short_hash != shipped.short_hash
    assert "Is the kidney large?" in edited.render(modality="CT", label="liver")[0]["content"]
    assert load_template("vgmed-attribute-ct").sha256 == shipped.sha256  # shipped file untouched


def test_missing_or_extra_variables_raise():
    template = load_template("vgmed-attribute-mri")
    with pytest.raises(PromptTemplateError, match="missing: \\['label'\\]"):
        template.render(modality="MR")
    with pytest.raises(PromptTemplateError, match="unexpected: \\['organ'\\]"):
        template.render(modality="MR", label="tumour", organ="brain")
    with pytest.raises(PromptTemplateError, match="missing"):
        load_template("dap-disease-descriptions").render(disease="pneumonia")


def test_unknown_id_names_it_and_lists_the_known_ones():
    with pytest.raises(UnknownTemplateError) as info:
        load_template("vgmed-attribute-ecg")
    message = str(info.value)
    assert "'vgmed-attribute-ecg'" in message
    assert all(template_id in message for template_id in ALL_IDS)


def _edited_copy(tmp_path: Path, template_id: str, old: str, new: str, stem: str = "") -> Path:
    text = shipped_path(template_id).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{stem or template_id}.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_load_checks_the_id_against_the_file_stem(tmp_path):
    path = _edited_copy(tmp_path, "coco-attribute", "version: 1", "version: 1", stem="coco-attr")
    with pytest.raises(PromptTemplateError, match="differs from the file stem"):
        load_template_file(path)


def test_load_checks_declared_against_used_variables(tmp_path):
    undeclared = _edited_copy(tmp_path, "coco-attribute", "variables: [label]", "variables: []")
    with pytest.raises(PromptTemplateError, match="undeclared: \\['label'\\]"):
        load_template_file(undeclared)
    unused = _edited_copy(
        tmp_path, "coco-attribute", "variables: [label]", "variables: [label, modality]"
    )
    with pytest.raises(PromptTemplateError, match="unused: \\['modality'\\]"):
        load_template_file(unused)


def test_load_rejects_unknown_fields_and_roles(tmp_path):
    extra = _edited_copy(tmp_path, "coco-attribute", "version: 1", "version: 1\nauthor: me")
    with pytest.raises(PromptTemplateError, match="author"):
        load_template_file(extra)
    (tmp_path / "coco-attribute.yaml").unlink()
    role = _edited_copy(tmp_path, "coco-attribute", "- role: system", "- role: narrator")
    with pytest.raises(PromptTemplateError, match="role"):
        load_template_file(role)


def test_modality_map_covers_every_spec_modality():
    specs = SOURCES.values() if isinstance(SOURCES, dict) else SOURCES
    modalities = {m for spec in specs for m in spec.all_modalities}
    assert modalities
    for modality in modalities:
        assert load_template(attribute_template_id(modality)).id in VGMED_IDS
    assert sorted(set(VGMED_ATTRIBUTE_TEMPLATES.values())) == sorted(VGMED_IDS)


def test_modality_lookup_ignores_case_and_rejects_unknown():
    assert attribute_template_id("x-ray") == "vgmed-attribute-xray"
    assert attribute_template_id("mr") == "vgmed-attribute-mri"
    with pytest.raises(UnknownTemplateError, match="'OCT'"):
        attribute_template_id("OCT")
