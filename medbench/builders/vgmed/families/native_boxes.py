"""Family H: boxes shipped with the images (SLAKE ``detection.json``, [x, y, w, h] pixels)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from medbench.builders.vgmed.case import CaseError, CaseRef, LoadedCase, NativeBox, Skip
from medbench.builders.vgmed.families._paths import rel
from medbench.builders.vgmed.spec import SourceSpec
from medbench.builders.vgmed.vocabulary import normalise_name
from medbench.imaging.boxes import xywh_to_xyxy
from medbench.imaging.raster import read_raster
from medbench.imaging.volume import display_from_2d


class NativeBoxSource(SourceSpec):
    """``case_glob`` finds per-image folders holding ``image`` and ``boxes`` (a JSON list of
    single-key dicts ``{name: [x, y, w, h]}``). ``qa_files`` (JSON lists with ``img_name``,
    ``modality``, ``location``) give each image's modality and body part."""

    family: ClassVar[str] = "H"
    family_name: ClassVar[str] = "native box annotations"

    case_glob: str
    image: str
    boxes: str
    qa_files: list[str] = []
    modality_names: dict[str, str] = {}
    body_part_names: dict[str, str] = {}

    def image_facts(self, dataset_dir: Path) -> dict[str, tuple[str, str]]:
        """Case folder name → (modality, location) from the QA files."""
        facts: dict[str, tuple[str, str]] = {}
        for name in self.qa_files:
            path = dataset_dir / name
            if not path.is_file():
                continue
            for entry in json.loads(path.read_text(encoding="utf-8")):
                folder = str(entry.get("img_name", "")).split("/")[0]
                if folder and folder not in facts:
                    facts[folder] = (str(entry.get("modality", "")), str(entry.get("location", "")))
        return facts

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        facts = self.image_facts(dataset_dir)
        cases, skipped = [], []
        for case_dir in sorted(p for p in dataset_dir.glob(self.case_glob) if p.is_dir()):
            case_rel = rel(case_dir, dataset_dir)
            if not (case_dir / self.image).is_file():
                skipped.append(Skip(self.id, case_dir.name, case_rel, f"no {self.image}"))
                continue
            if not (case_dir / self.boxes).is_file():
                skipped.append(Skip(self.id, case_dir.name, case_rel, f"no {self.boxes}"))
                continue
            modality, location = facts.get(case_dir.name, ("", ""))
            files = (("image", f"{case_rel}/{self.image}"), ("boxes", f"{case_rel}/{self.boxes}"))
            extra = (("modality", modality), ("location", location))
            cases.append(CaseRef(case_dir.name, files, extra))
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        image_path = dataset_dir / case.file("image")
        pixels = read_raster(image_path)
        boxes_path = dataset_dir / case.file("boxes")
        try:
            entries = json.loads(boxes_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CaseError(f"{boxes_path}: not valid JSON ({exc})") from exc
        native, skipped = [], []
        for entry in entries if isinstance(entries, list) else []:
            for name, xywh in dict(entry).items():
                label = self.labels.get(name, normalise_name(name))
                if not (isinstance(xywh, list) and len(xywh) == 4):
                    skipped.append(Skip(self.id, case.case_id, f"{label}", f"malformed box {xywh}"))
                    continue
                native.append(NativeBox(label, xywh_to_xyxy(xywh), name))
        if not native:
            skipped.append(Skip(self.id, case.case_id, case.file("boxes"), "no boxes"))
        raw_modality = str(case.get("modality", ""))
        raw_location = str(case.get("location", ""))
        return LoadedCase(
            images={"": display_from_2d(pixels)},
            native_boxes=native,
            source_path=case.file("image"),
            slice_axis="none",
            modality=self.modality_names.get(raw_modality, raw_modality) or None,
            body_part=self.body_part_names.get(raw_location, raw_location.lower()) or None,
            skipped=skipped,
        )
