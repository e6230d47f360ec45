"""Family C: legacy VSD/SMIR case folders (BraTS 2013/2015, ISLES 2015/2017).

Each case folder holds one sub-folder per sequence, ``VSD.Brain.XX.O.MR_Flair.54512/``
with a ``.mha`` inside; the numeric suffix changes per case, so files are found by the
sequence token and the ground truth by its ``.OT.`` token, never by full name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from medbench.builders.vgmed.case import CaseRef, LoadedCase, Skip
from medbench.builders.vgmed.families._multichannel import load_channels_and_label
from medbench.builders.vgmed.families._paths import rel
from medbench.builders.vgmed.spec import SourceSpec, is_junk


class VsdSource(SourceSpec):
    family: ClassVar[str] = "C"
    family_name: ClassVar[str] = "legacy VSD/SMIR case folders"

    case_glob: str
    member_glob: str = "*/*.mha"
    channel_regex: str = r"\.MR_([A-Za-z0-9]+)\."
    label_regex: str = r"\.OT\."
    channels: list[str] = []  # sequences to keep, in this order (empty = all found)

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        cases, skipped = [], []
        channel_re, label_re = re.compile(self.channel_regex), re.compile(self.label_regex)
        for case_dir in sorted(p for p in dataset_dir.glob(self.case_glob) if p.is_dir()):
            case_id = rel(case_dir, dataset_dir)
            files: list[tuple[str, str]] = []
            label = None
            for member in sorted(case_dir.glob(self.member_glob)):
                if is_junk(member):
                    skipped.append(Skip(self.id, case_id, rel(member, dataset_dir), "junk file"))
                    continue
                if label_re.search(member.name):
                    label = member
                    continue
                match = channel_re.search(member.name)
                if match and (not self.channels or match.group(1) in self.channels):
                    files.append((f"image:{match.group(1)}", rel(member, dataset_dir)))
            if label is None or not files:
                what = "ground truth (.OT.)" if label is None else "image sequences"
                skipped.append(Skip(self.id, case_id, case_id, f"case folder has no {what}"))
                continue
            if self.channels:
                order = {c: i for i, c in enumerate(self.channels)}
                files.sort(key=lambda f: order[f[0].split(":", 1)[1]])
            files.append(("label", rel(label, dataset_dir)))
            cases.append(CaseRef(case_id, tuple(files)))
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        return load_channels_and_label(self, dataset_dir, case, name_single_channel=True)
