"""The COCO reference set (paper 001, sec. 2.1): VGMED's pipeline on COCO instances."""

from medbench.builders.coco_ref.build import (
    BuildError,
    CocoBuildConfig,
    CocoBuildResult,
    build_coco_ref,
)

__all__ = ["BuildError", "CocoBuildConfig", "CocoBuildResult", "build_coco_ref"]
