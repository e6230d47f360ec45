"""Family H (spheres): findings given as world-mm centres and diameters in a CSV (LUNA16
``annotations.csv``: ``seriesuid, coordX, coordY, coordZ, diameter_mm``).

Each sphere is rasterised into a label layer on the image's own voxel grid (one value per
CSV row, so nearby findings keep their own boxes), and the normal extraction then takes
each sphere's largest cross-section: the slice through its centre.

Optionally a label volume on the same grid (LUNA16 ``seg-lungs-LUNA16/<seriesuid>.mhd``)
is read as a second layer of the same case, named by the spec's ``labels``. A mask that is
missing, unreadable or on another grid is listed and the case keeps its spheres.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import model_validator

from medbench.builders.vgmed.case import CaseError, CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import glob_files, rel, strip_suffix
from medbench.builders.vgmed.spec import (
    SourceSpec,
    check_aligned,
    check_image,
    read_label_volume,
    read_volume,
)
from medbench.imaging.errors import ImageReadError
from medbench.imaging.volume import RawVolume

# ITK physical coordinates are LPS+; RawVolume affines are RAS+.
_LPS_TO_RAS = np.array([-1.0, -1.0, 1.0])


class WorldSphereSource(SourceSpec):
    """``image_glob`` finds the volumes (case id = file stem = the CSV's id column);
    ``spheres_csv`` lists one sphere per row: ``id_column``, ``centre_columns`` (world mm,
    in ``world_frame`` "LPS" (ITK) or "RAS") and ``diameter_column`` (mm). Every sphere
    is named ``label``.

    ``mask_paths`` (optional) are templates, tried in order, of the path of a label volume
    on the image's voxel grid, relative to the dataset folder, with ``{case_id}`` for the
    case id; its values are named by ``labels``. A series without CSV rows is then still
    read when it has a mask."""

    family: ClassVar[str] = "H"
    family_name: ClassVar[str] = "world-coordinate spheres (CSV)"

    image_glob: str
    spheres_csv: str
    id_column: str = "seriesuid"
    centre_columns: tuple[str, str, str] = ("coordX", "coordY", "coordZ")
    diameter_column: str = "diameter_mm"
    world_frame: str = "LPS"
    label: str
    mask_paths: list[str] = []

    @model_validator(mode="after")
    def _mask_needs_labels(self) -> WorldSphereSource:
        if bool(self.mask_paths) != bool(self.labels):
            raise ValueError("mask_paths and labels (the mask's label map) go together")
        if any("{case_id}" not in t for t in self.mask_paths):
            raise ValueError("every mask_paths template needs a {case_id} placeholder")
        return self

    def find_mask(self, dataset_dir: Path, case_id: str) -> tuple[str | None, bool]:
        """The case's mask path (relative to the dataset folder; the first template's when
        none exists, None when masks are not read) and whether it exists."""
        paths = [t.format(case_id=case_id) for t in self.mask_paths]
        found = next((p for p in paths if (dataset_dir / p).is_file()), None)
        return (found, True) if found else (paths[0] if paths else None, False)

    def read_spheres(self, dataset_dir: Path) -> dict[str, list[tuple[int, tuple[float, ...]]]]:
        """Case id → [(CSV line number, (x, y, z, diameter))]."""
        path = dataset_dir / self.spheres_csv
        spheres: dict[str, list[tuple[int, tuple[float, ...]]]] = {}
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            reader.fieldnames = [f.strip() for f in reader.fieldnames or []]
            wanted = [self.id_column, *self.centre_columns, self.diameter_column]
            missing = [c for c in wanted if c not in reader.fieldnames]
            if missing:
                raise CaseError(f"{path}: no column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                values = tuple(float(row[c]) for c in (*self.centre_columns, self.diameter_column))
                spheres.setdefault(row[self.id_column].strip(), []).append((line, values))
        return spheres

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        spheres = self.read_spheres(dataset_dir)
        images, skipped = glob_files(dataset_dir, self.image_glob, self.id)
        cases, seen = [], set()
        for image in images:
            case_id = strip_suffix(image.name)
            image_rel = rel(image, dataset_dir)
            mask_rel, has_mask = self.find_mask(dataset_dir, case_id)
            if case_id not in spheres:
                why = f"no row in {self.spheres_csv}" + (": mask read only" if has_mask else "")
                skipped.append(Skip(self.id, case_id, image_rel, why))
                if not has_mask:
                    continue
            if mask_rel is not None and not has_mask:
                skipped.append(Skip(self.id, case_id, mask_rel, "no mask file: spheres only"))
            seen.add(case_id)
            files = (("image", image_rel),) + ((("mask", mask_rel),) if has_mask else ())
            extra = (("spheres", tuple(spheres.get(case_id, ()))),)
            cases.append(CaseRef(case_id, files, extra))
        for case_id in sorted(set(spheres) - seen):
            why = f"{self.spheres_csv} rows for an image that is not present"
            skipped.append(Skip(self.id, case_id, self.spheres_csv, why))
        return cases, skipped

    def world_to_ras(self, centre: tuple[float, float, float]) -> np.ndarray:
        point = np.asarray(centre, dtype=np.float64)
        return point * _LPS_TO_RAS if self.world_frame == "LPS" else point

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        image_path = dataset_dir / case.file("image")
        image = read_volume(image_path)
        check_image(image_path, image)
        shape = image.data.shape[:3]
        label = np.zeros(shape, np.uint16)
        names, source_labels, skipped = {}, {}, []
        for value, (line, (x, y, z, diameter)) in enumerate(case.get("spheres", ()), start=1):
            where = f"{self.spheres_csv}:{line}"
            if not rasterise(
                label, image.affine, self.world_to_ras((x, y, z)), diameter / 2, value
            ):
                skipped.append(Skip(self.id, case.case_id, where, "sphere outside the image"))
                continue
            names[value] = self.label
            source_labels[value] = where
        layers = []
        if names:
            display = self.display(RawVolume(label, image.affine)).array
            layers.append(LabelLayer(display, names, source_labels))
        del label
        mask_layer = self.load_mask(dataset_dir, case, image_path, image, skipped)
        if mask_layer is not None:
            layers.append(mask_layer)
        data = image.data[..., 0] if image.data.ndim == 4 else image.data
        return LoadedCase(
            images={"": self.display(RawVolume(data, image.affine))},
            layers=layers,
            source_path=case.file("image"),
            slice_axis=self.slice_axis_name,
            skipped=skipped,
        )

    def load_mask(
        self,
        dataset_dir: Path,
        case: CaseRef,
        image_path: Path,
        image: RawVolume,
        skipped: list[Skip],
    ) -> LabelLayer | None:
        """The mask layer, or None (listed in ``skipped``) if it cannot be used."""
        mask_rel = next((p for r, p in case.files if r == "mask"), None)
        if mask_rel is None:
            return None
        mask_path = dataset_dir / mask_rel
        try:
            mask = read_label_volume(mask_path)
            check_aligned(image_path, image, mask_path, mask)
        except (CaseError, ImageReadError) as exc:
            why = str(exc).removeprefix(f"{mask_path}: ")  # the item already names the file
            skipped.append(Skip(self.id, case.case_id, mask_rel, f"mask not read: {why}"))
            return None
        names = self.label_names()
        array = self.display(RawVolume(mask.data, mask.affine)).array
        return LabelLayer(array, names, {v: str(v) for v in names})


def rasterise(
    label: np.ndarray, affine: np.ndarray, centre_ras: np.ndarray, radius: float, value: int
) -> bool:
    """Set ``value`` on the voxels whose centres lie within ``radius`` mm of ``centre_ras``;
    False if none does. Only the sphere's bounding box of voxels is visited."""
    if radius <= 0:
        return False
    inverse = np.linalg.inv(affine)
    centre_ijk = inverse[:3, :3] @ centre_ras + inverse[:3, 3]
    step = float(np.sqrt((affine[:3, :3] ** 2).sum(axis=0)).min())
    reach = radius / step + 1
    lo = np.maximum(np.floor(centre_ijk - reach).astype(int), 0)
    hi = np.minimum(np.ceil(centre_ijk + reach).astype(int) + 1, label.shape)
    if np.any(hi <= lo):
        return False
    grid = np.stack(
        np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)), indexing="ij"), -1
    )
    world = grid @ affine[:3, :3].T + affine[:3, 3]
    inside = ((world - centre_ras) ** 2).sum(-1) <= radius**2
    if not inside.any():
        return False
    box = label[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    box[inside] = value
    return True
