"""One dataset id shipped in several release layouts (ISLES 2015 VSD folders vs the 2022
BIDS tree): the first layout whose anchor is present reads the folder."""

from __future__ import annotations

from pathlib import Path

from pydantic import SerializeAsAny

from medbench.builders.vgmed.case import CaseRef, LoadedCase, Skip
from medbench.builders.vgmed.spec import SourceSpec


class AlternativeLayouts(SourceSpec):
    """Shared metadata (from the first layout) plus the layouts, tried in order. Build with
    :func:`alternative_layouts`; every layout keeps its own family, labels and channels."""

    layouts: list[SerializeAsAny[SourceSpec]]

    @property
    def family(self) -> str:  # type: ignore[override]
        return "/".join(dict.fromkeys(layout.family for layout in self.layouts))

    @property
    def family_name(self) -> str:  # type: ignore[override]
        return " or ".join(dict.fromkeys(layout.family_name for layout in self.layouts))

    def locate(self, source_root: Path) -> Path | None:
        for layout in self.layouts:
            found = layout.locate(source_root)
            if found is not None:
                return found
        return None

    def resolve(self, dataset_dir: Path) -> SourceSpec:
        for layout in self.layouts:
            if (dataset_dir / layout.anchor).exists():
                return layout
        return self.layouts[0]

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        return self.resolve(dataset_dir).discover(dataset_dir)

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        return self.resolve(dataset_dir).load(dataset_dir, case)


def alternative_layouts(first: SourceSpec, *others: SourceSpec) -> AlternativeLayouts:
    """Layouts of one dataset; the id, modality and body part must agree."""
    for other in others:
        if (other.id, other.modality, other.body_part) != (
            first.id,
            first.modality,
            first.body_part,
        ):
            raise ValueError(f"{other.id}: alternative layouts must describe the same dataset")
    shared = {name: getattr(first, name) for name in SourceSpec.model_fields}
    shared["labels"] = {k: v for layout in (first, *others) for k, v in layout.labels.items()}
    return AlternativeLayouts(**shared, layouts=[first, *others])
