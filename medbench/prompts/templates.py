"""LLM prompt templates: one YAML file per prompt in ``medbench/prompts/llm/``.

Each file holds the chat messages (jinja2), the variables they use, default sampling settings,
the name of the structured output the caller validates against, and where the wording comes from.
A template is identified by its id and the sha256 of its file text, so a cached answer can be
tied to the exact prompt that produced it (``question_source=llm:<model>@<short_hash>``).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from jinja2 import meta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

TEMPLATE_DIR = "llm"  # inside the medbench.prompts package
TEMPLATE_SUFFIX = ".yaml"

# VGMED source-spec modality names -> the per-modality prompt of paper 001, app. I.1.
VGMED_ATTRIBUTE_TEMPLATES: dict[str, str] = {
    "MR": "vgmed-attribute-mri",
    "CT": "vgmed-attribute-ct",
    "ultrasound": "vgmed-attribute-ultrasound",
    "X-ray": "vgmed-attribute-xray",
    "fundus": "vgmed-attribute-fundus",
    "endoscopy": "vgmed-attribute-endoscopy",
    "PET": "vgmed-attribute-pet",
    "dermoscopy": "vgmed-attribute-dermoscopy",
}

# Block tags are trimmed so a `{% ... %}` line leaves no blank line behind; StrictUndefined turns
# a missing variable into an error rather than an empty string.
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


class PromptTemplateError(ValueError):
    """A template file is malformed, or a render got the wrong variables."""


class UnknownTemplateError(LookupError):
    """No template has the requested id (or no template is mapped to a modality)."""


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class PromptTemplate(BaseModel):
    """One prompt file, parsed and checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    source: str
    description: str
    output: str
    sampling: dict[str, float | int] = Field(default_factory=dict)
    variables: tuple[str, ...]
    messages: tuple[Message, ...] = Field(min_length=1)
    text: str = Field(repr=False)  # the file as shipped; its hash identifies the prompt

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    @classmethod
    def from_text(cls, text: str, expected_id: str) -> PromptTemplate:
        """Parse and check a template file's text; ``expected_id`` is the file stem."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PromptTemplateError(f"prompt template {expected_id!r}: bad YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise PromptTemplateError(f"prompt template {expected_id!r}: expected a mapping")
        if "text" in data:
            raise PromptTemplateError(f"prompt template {expected_id!r}: 'text' is reserved")
        try:
            template = cls(**data, text=text)
        except ValidationError as exc:
            raise PromptTemplateError(f"prompt template {expected_id!r}: {exc}") from exc
        if template.id != expected_id:
            raise PromptTemplateError(
                f"prompt template {expected_id!r}: id {template.id!r} differs from the file stem"
            )
        template._check_variables()
        return template

    def _check_variables(self) -> None:
        declared = set(self.variables)
        if len(declared) != len(self.variables):
            raise PromptTemplateError(f"prompt template {self.id!r}: a variable is listed twice")
        used: set[str] = set()
        for message in self.messages:
            try:
                used |= meta.find_undeclared_variables(_ENV.parse(message.content))
            except jinja2.TemplateSyntaxError as exc:
                raise PromptTemplateError(
                    f"prompt template {self.id!r}: jinja2 syntax error in a {message.role} "
                    f"message: {exc}"
                ) from exc
        if used != declared:
            raise PromptTemplateError(
                f"prompt template {self.id!r}: variables declared {sorted(declared)} but the "
                f"messages use {sorted(used)} (undeclared: {sorted(used - declared)}, "
                f"unused: {sorted(declared - used)})"
            )

    def render(self, **variables: Any) -> list[dict[str, str]]:
        """The chat messages (OpenAI format) with ``variables`` filled in.

        Exactly the declared variables must be given: a missing one or an extra one is an error.
        """
        given, declared = set(variables), set(self.variables)
        if given != declared:
            missing, extra = sorted(declared - given), sorted(given - declared)
            raise PromptTemplateError(
                f"prompt template {self.id!r} takes {sorted(declared)}; "
                f"missing: {missing}, unexpected: {extra}"
            )
        try:
            return [
                {"role": m.role, "content": _compile(m.content).render(**variables)}
                for m in self.messages
            ]
        except jinja2.UndefinedError as exc:  # e.g. an attribute of a variable that lacks it
            raise PromptTemplateError(f"prompt template {self.id!r}: {exc}") from exc


@cache
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def _template_files() -> dict[str, Traversable]:
    folder = resources.files("medbench.prompts").joinpath(TEMPLATE_DIR)
    return {
        entry.name.removesuffix(TEMPLATE_SUFFIX): entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(TEMPLATE_SUFFIX)
    }


def list_templates() -> list[str]:
    """The ids of every shipped prompt template, sorted."""
    return sorted(_template_files())


@cache
def load_template(template_id: str) -> PromptTemplate:
    """The shipped template ``template_id`` (parsed once, then cached)."""
    files = _template_files()
    if template_id not in files:
        raise UnknownTemplateError(
            f"unknown prompt template {template_id!r}; known: {', '.join(sorted(files))}"
        )
    text = files[template_id].read_text(encoding="utf-8")
    return PromptTemplate.from_text(text, template_id)


def load_template_file(path: str | Path) -> PromptTemplate:
    """A template from any file (not cached), e.g. one being edited; its id is the file stem."""
    path = Path(path)
    return PromptTemplate.from_text(path.read_text(encoding="utf-8"), path.stem)


def attribute_template_id(modality: str) -> str:
    """The VGMED attribute-question template for a spec modality name (case-insensitive)."""
    if modality in VGMED_ATTRIBUTE_TEMPLATES:
        return VGMED_ATTRIBUTE_TEMPLATES[modality]
    lowered = {name.lower(): tid for name, tid in VGMED_ATTRIBUTE_TEMPLATES.items()}
    if modality.lower() in lowered:
        return lowered[modality.lower()]
    raise UnknownTemplateError(
        f"no VGMED attribute template for modality {modality!r}; "
        f"known modalities: {', '.join(VGMED_ATTRIBUTE_TEMPLATES)}"
    )
