"""Family A: image and label volumes paired by a file-name rule (MSD / nnU-Net style)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from medbench.builders.vgmed.case import CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import glob_files, rel, strip_suffix
from medbench.builders.vgmed.spec import (
    SourceSpec,
    check_aligned,
    check_image,
    read_label_volume,
    read_volume,
)
from medbench.imaging.volume import RawVolume


class LabelNameFromCsv(BaseModel):
    """The per-case name of one label id, read from a metadata CSV (AMOS 15 is prostate
    or uterus by the patient's sex). The spec's ``labels`` name for the id is the fallback,
    used (and the case listed) when no CSV, row or known value says otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    csv_globs: list[str]  # relative to the dataset folder; files read in sorted order
    id_column: str  # case ids as numbers or names: see csv_id_key
    value_column: str
    label: str  # the source label id renamed
    names: dict[str, str]  # CSV value (case and spaces ignored) → medbench name


class PairedVolumeSource(SourceSpec):
    """``label_glob`` finds label files; ``image_from_label`` = (regex, replacement) turns a
    label path (relative to the dataset folder) into its image path, which may be a glob
    that must match exactly one file. 4D images split their last axis into ``channels``."""

    family: ClassVar[str] = "A"
    family_name: ClassVar[str] = "paired volume files"

    label_glob: str
    image_from_label: tuple[str, str]
    channels: list[str] = []
    # (n, modality up to n, modality above n) by the last number in the case id: AMOS ships
    # CT as amos_0001..0500 and MR above 500 in the same folders
    modality_by_case_number: tuple[int, str, str] | None = None
    # regex whose group 1 in the label path is the case id (PROMISE09: the case folder),
    # else the label file name without its suffix
    case_id_from_label: str | None = None
    label_name_from_csv: LabelNameFromCsv | None = None

    def case_modality(self, case_id: str) -> str | None:
        if self.modality_by_case_number is None:
            return None
        numbers = re.findall(r"\d+", case_id)
        if not numbers:
            return None
        limit, low, high = self.modality_by_case_number
        return low if int(numbers[-1]) <= limit else high

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        labels, skipped = glob_files(dataset_dir, self.label_glob, self.id)
        cases = []
        taken: dict[str, str] = {}  # case id → its label file
        pattern, replacement = self.image_from_label
        for label in labels:
            label_rel = rel(label, dataset_dir)
            case_id = strip_suffix(label.name)
            if self.case_id_from_label is not None:
                match = re.search(self.case_id_from_label, label_rel)
                if match is None:
                    why = f"no case id: {self.case_id_from_label!r} does not match the path"
                    skipped.append(Skip(self.id, "", label_rel, why))
                    continue
                case_id = match.group(1)
            if case_id in taken:
                why = f"case {case_id} already has label {taken[case_id]}"
                skipped.append(Skip(self.id, case_id, label_rel, why))
                continue
            image_rel, why = self._image_for(dataset_dir, re.sub(pattern, replacement, label_rel))
            if image_rel is None:
                skipped.append(Skip(self.id, case_id, label_rel, why))
                continue
            taken[case_id] = label_rel
            cases.append(CaseRef(case_id, (("image", image_rel), ("label", label_rel))))
        if self.label_name_from_csv is not None:
            cases, skips = self._name_from_csv(dataset_dir, cases, self.label_name_from_csv)
            skipped += skips
        return cases, skipped

    def _image_for(self, dataset_dir: Path, image_rel: str) -> tuple[str | None, str]:
        """The one image file ``image_rel`` names (a glob is allowed), or None and why."""
        if not re.search(r"[*?\[]", image_rel):
            if (dataset_dir / image_rel).is_file():
                return image_rel, ""
            return None, f"no image file {image_rel}"
        found, _ = glob_files(dataset_dir, image_rel, self.id)  # junk (._*) is no candidate
        if len(found) == 1:
            return rel(found[0], dataset_dir), ""
        if not found:
            return None, f"no image file matches {image_rel}"
        names = ", ".join(rel(p, dataset_dir) for p in found)
        return None, f"{len(found)} image files match {image_rel} (ambiguous): {names}"

    def _name_from_csv(
        self, dataset_dir: Path, cases: list[CaseRef], rule: LabelNameFromCsv
    ) -> tuple[list[CaseRef], list[Skip]]:
        """Cases carrying their CSV name for ``rule.label``; the cases left with the
        fallback name are listed (once for all when no CSV is readable)."""
        fallback = self.labels.get(rule.label, "")
        values, files, skipped = read_csv_column(dataset_dir, rule, self.id)
        if not files:
            why = (
                f"no readable metadata CSV ({', '.join(rule.csv_globs)}): label {rule.label} is "
                f"named {fallback!r} in every case"
            )
            return cases, [*skipped, Skip(self.id, "", " ".join(rule.csv_globs), why)]
        by_value = {k.strip().lower(): v for k, v in rule.names.items()}
        named = []
        for case in cases:
            value = values.get(csv_id_key(case.case_id))
            name = by_value.get((value or "").strip().lower())
            if name is not None:  # carried in the case ref, so it also keys the cache
                extra = (*case.extra, ("label_names", ((int(rule.label), name),)))
                case = CaseRef(case.case_id, case.files, extra)
            else:
                column, known = repr(rule.value_column), "/".join(rule.names)
                said = f"no {column}" if value is None else f"{column} {value!r} not {known}"
                why = (
                    f"{said} in {', '.join(files)}: label {rule.label}, where present, is "
                    f"named {fallback!r}"
                )
                skipped.append(Skip(self.id, case.case_id, f"{fallback} ({rule.label})", why))
            named.append(case)
        return named, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        image_path = dataset_dir / case.file("image")
        label_path = dataset_dir / case.file("label")
        image = read_volume(image_path)
        check_image(image_path, image)
        label = read_label_volume(label_path)
        check_aligned(image_path, image, label_path, label)
        images = split_channels(self, image)
        layer_array = self.display(RawVolume(label.data, label.affine)).array
        names = self.label_names()
        source_labels = {v: str(v) for v in names}  # the raw id, even where renamed
        names.update(dict(case.get("label_names", ())))
        layer = LabelLayer(layer_array, names, source_labels)
        return LoadedCase(
            images=images,
            layers=[layer],
            source_path=case.file("image"),
            slice_axis=self.slice_axis_name,
            modality=self.case_modality(case.case_id),
        )


def split_channels(spec: SourceSpec, image: RawVolume) -> dict:
    """One display volume per channel of a 4D image (names from the spec), else ''."""
    if image.data.ndim == 4 and image.data.shape[3] > 1:
        names = list(getattr(spec, "channels", [])) or [f"c{i}" for i in range(image.data.shape[3])]
        return {
            name: spec.display(RawVolume(image.data[..., i], image.affine))
            for i, name in enumerate(names[: image.data.shape[3]])
        }
    data = image.data[..., 0] if image.data.ndim == 4 else image.data
    return {"": spec.display(RawVolume(data, image.affine))}


def csv_id_key(value: str) -> str:
    """A case id as a CSV may write it: ``amos_0001``, ``0001``, ``1`` and ``1.0`` all give
    ``1`` (the last number, zeros dropped); ids without a number compare lower-cased."""
    text = value.strip()
    try:
        number = float(text)
        if number.is_integer():
            return str(int(number))
    except ValueError:
        pass
    numbers = re.findall(r"\d+", text)
    return str(int(numbers[-1])) if numbers else text.lower()


def read_csv_column(
    dataset_dir: Path, rule: LabelNameFromCsv, dataset: str
) -> tuple[dict[str, str], list[str], list[Skip]]:
    """(id key → value, the CSV files read, files not read and why). Files are read in
    sorted order and the first non-blank value for an id wins."""
    values: dict[str, str] = {}
    files: list[str] = []
    skipped: list[Skip] = []
    paths = sorted({p for g in rule.csv_globs for p in glob_files(dataset_dir, g, dataset)[0]})
    for path in paths:
        path_rel = rel(path, dataset_dir)
        # utf-8-sig: spreadsheet exports start with a byte-order mark
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if rule.id_column not in header or rule.value_column not in header:
                want = f"{rule.id_column!r} and {rule.value_column!r}"
                skipped.append(Skip(dataset, "", path_rel, f"CSV lacks columns {want}"))
                continue
            id_at, value_at = header.index(rule.id_column), header.index(rule.value_column)
            for record in reader:
                if len(record) <= max(id_at, value_at):
                    continue
                case_id, value = record[id_at].strip(), record[value_at].strip()
                if case_id and value:  # a blank cell leaves the id to a later file
                    values.setdefault(csv_id_key(case_id), value)
        files.append(path_rel)
    return values, files, skipped
