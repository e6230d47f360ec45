"""Family B: one folder per case with fixed member names (BraTS 2018–2021, KiTS, autoPET)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from medbench.builders.vgmed.case import CaseRef, LoadedCase, Skip
from medbench.builders.vgmed.families._multichannel import load_channels_and_label
from medbench.builders.vgmed.families._paths import first_existing, rel
from medbench.builders.vgmed.spec import SourceSpec, is_junk


class CaseDirSource(SourceSpec):
    """``case_glob`` finds case folders. ``channels`` maps a channel name to file patterns
    inside the case folder and ``label`` lists label patterns, first match wins (aliases
    such as BraTS20_Training_355's ``W39_1998.09.19_Segm.nii``). ``{case}`` in a pattern
    is the case folder's name."""

    family: ClassVar[str] = "B"
    family_name: ClassVar[str] = "per-case folder with fixed member names"

    case_glob: str
    channels: dict[str, list[str]]
    label: list[str]

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        cases, skipped = [], []
        for case_dir in sorted(p for p in dataset_dir.glob(self.case_glob) if p.is_dir()):
            case_rel = rel(case_dir, dataset_dir)
            if is_junk(case_dir):
                skipped.append(Skip(self.id, "", case_rel, is_junk(case_dir) or ""))
                continue
            files: list[tuple[str, str]] = []
            missing = []
            for channel, patterns in self.channels.items():
                found = first_existing(case_dir, _fill(patterns, case_dir.name))
                if found is None:
                    missing.append(channel)
                else:
                    files.append((f"image:{channel}", rel(found, dataset_dir)))
            label = first_existing(case_dir, _fill(self.label, case_dir.name))
            if label is None:
                missing.append("label")
            if missing:
                why = f"case folder lacks {', '.join(missing)}"
                skipped.append(Skip(self.id, case_dir.name, case_rel, why))
                continue
            files.append(("label", rel(label, dataset_dir)))
            cases.append(CaseRef(case_dir.name, tuple(files)))
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        return load_channels_and_label(self, dataset_dir, case, name_single_channel=False)


def _fill(patterns: list[str], case_name: str) -> list[str]:
    return [p.replace("{case}", case_name) for p in patterns]
