"""Family H (spheres): findings given as world-mm centres and diameters in a CSV (LUNA16
``annotations.csv``: ``seriesuid, coordX, coordY, coordZ, diameter_mm``).

Each sphere is rasterised into a label layer on the image's own voxel grid (one value per
CSV row, so nearby findings keep their own boxes), and the normal extraction then takes
each sphere's largest cross-section: the slice through its centre.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import ClassVar

import numpy as np

from medbench.builders.vgmed.case import CaseError, CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import glob_files, rel, strip_suffix
from medbench.builders.vgmed.spec import SourceSpec, check_image, read_volume
from medbench.imaging.volume import RawVolume

# ITK physical coordinates are LPS+; RawVolume affines are RAS+.
_LPS_TO_RAS = np.array([-1.0, -1.0, 1.0])


class WorldSphereSource(SourceSpec):
    """``image_glob`` finds the volumes (case id = file stem = the CSV's id column);
    ``spheres_csv`` lists one sphere per row: ``id_column``, ``centre_columns`` (world mm,
    in ``world_frame`` "LPS" (ITK) or "RAS") and ``diameter_column`` (mm). Every sphere
    is named ``label``."""

    family: ClassVar[str] = "H"
    family_name: ClassVar[str] = "world-coordinate spheres (CSV)"

    image_glob: str
    spheres_csv: str
    id_column: str = "seriesuid"
    centre_columns: tuple[str, str, str] = ("coordX", "coordY", "coordZ")
    diameter_column: str = "diameter_mm"
    world_frame: str = "LPS"
    label: str

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
            if case_id not in spheres:
                skipped.append(Skip(self.id, case_id, image_rel, f"no row in {self.spheres_csv}"))
                continue
            seen.add(case_id)
            extra = (("spheres", tuple(spheres[case_id])),)
            cases.append(CaseRef(case_id, (("image", image_rel),), extra))
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
        layer = LabelLayer(self.display(RawVolume(label, image.affine)).array, names, source_labels)
        data = image.data[..., 0] if image.data.ndim == 4 else image.data
        return LoadedCase(
            images={"": self.display(RawVolume(data, image.affine))},
            layers=[layer],
            source_path=case.file("image"),
            slice_axis=self.slice_axis_name,
            skipped=skipped,
        )


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
