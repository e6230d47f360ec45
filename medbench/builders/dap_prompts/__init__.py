"""DAP disease descriptions: ``medbench build dap-prompts`` and the loader the trainer uses."""

from medbench.builders.dap_prompts.build import (
    DAPPromptsConfig,
    DAPPromptsResult,
    build_dap_prompts,
)
from medbench.builders.dap_prompts.diseases import DEFAULT_DISEASES
from medbench.builders.dap_prompts.loader import load_descriptions, sample_description

__all__ = [
    "DEFAULT_DISEASES",
    "DAPPromptsConfig",
    "DAPPromptsResult",
    "build_dap_prompts",
    "load_descriptions",
    "sample_description",
]
