"""PALM19 (iChallenge-PM) replica (family G): fundus JPEGs + inverted ``Disc_Masks/<id>.bmp``.

Written as the official nested zips look once EXTRACTED (``training.zip`` →
``PALM-Training400/PALM-Training400.zip`` → ``PALM-Training400/PALM-Training400/*.jpg``;
``PALM-Training400-Annotation-D&F.zip`` → ``…-D&F/Disc_Masks``;
``PALM-Training400-Annotation-Lession.zip`` (sic) → ``…-Lession/Lesion_Masks``), with the
annotation folders at the top. ``write(..., zipped=True)`` writes the same planted data as
the zips instead (layout from a third-party notebook, UNVERIFIED on our own download):

- ``training.zip`` → ``PALM-Training400/{PALM-Training400.zip,
  PALM-Training400-Annotation-D&F.zip, PALM-Training400-Annotation-Lession.zip}``, each
  inner zip holding its own top folder (``PALM-Training400/*.jpg``,
  ``PALM-Training400-Annotation-D&F/Disc_Masks/*.bmp``, ...), so unpacked in place the
  annotation folders sit inside ``PALM-Training400/``;
- ``validation.zip`` → ``PALM-Validation400/``; ``valid_gt.zip`` → ``PALM-Validation-GT/``.

Traps: ``&`` and the misspelling ``Lession`` in paths; disc masks are INVERTED (0 = disc);
images with no disc have all-255 masks; lesion masks share the image stems.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._files import save_jpeg
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "PALM19"
TRAIN_IMAGES = "PALM-Training400/PALM-Training400"
TRAIN_DISC = "PALM-Training400-Annotation-D&F/Disc_Masks"
TRAIN_ATROPHY = "PALM-Training400-Annotation-Lession/Lesion_Masks/Atrophy"
VALID_IMAGES = "PALM-Validation400"
VALID_DISC = "PALM-Validation-GT/Disc_Masks"
# zipped form: the zips inside training.zip (under PALM-Training400/) → the folder of the
# extracted layout each holds (as its last path part, the zip's top folder)
TRAIN_PARTS = {
    "PALM-Training400.zip": "PALM-Training400/PALM-Training400",
    "PALM-Training400-Annotation-D&F.zip": "PALM-Training400-Annotation-D&F",
    "PALM-Training400-Annotation-Lession.zip": "PALM-Training400-Annotation-Lession",
}
ZIP_DATE = (2019, 1, 1, 0, 0, 0)  # fixed member dates: the zips are byte-identical per seed
FUNDUS = (180, 70, 35)
DISC = (250, 225, 165)
ATROPHY = (225, 170, 120)
# (image folder, disc-mask folder, id, width, height, disc or None, atrophy or None)
IMAGES = [
    (
        TRAIN_IMAGES,
        TRAIN_DISC,
        "H0001",
        80,
        72,
        Ellipse("optic disc", 56, 34, 10, 11),
        Ellipse("atrophy", 20, 36, 7, 9),
    ),
    (TRAIN_IMAGES, TRAIN_DISC, "P0002", 72, 64, None, None),  # no disc: all-255 mask
    (VALID_IMAGES, VALID_DISC, "V0001", 72, 72, Ellipse("optic disc", 24, 38, 9, 8), None),
]


def _save_bmp(mask: np.ndarray, path: Path) -> None:
    """Inverted iChallenge convention: 0 where the structure is, 255 elsewhere."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.where(mask, 0, 255).astype(np.uint8)).save(path, format="BMP")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deterministic zip: ``members`` (name → bytes; a name ending in / is a folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
            info.external_attr = (0o40755 << 16) | 0x10 if name.endswith("/") else 0o644 << 16
            zf.writestr(info, members[name])
    return buffer.getvalue()


def folder_members(root: Path, folder: str, prefix: str) -> dict[str, bytes]:
    """Files (and sub-folders) of ``root/folder`` as zip members under ``prefix/``."""
    members = {f"{prefix}/": b""}
    for path in sorted((root / folder).rglob("*")):
        name = f"{prefix}/{path.relative_to(root / folder).as_posix()}"
        members[name + "/" if path.is_dir() else name] = b"" if path.is_dir() else path.read_bytes()
    return members


def _write_zipped(root: Path, seed: int) -> list[PlantedStructure]:
    with tempfile.TemporaryDirectory() as tmp:
        planted = write(Path(tmp), seed)
        inner = {
            name: zip_bytes(folder_members(Path(tmp), folder, folder.rsplit("/", 1)[-1]))
            for name, folder in TRAIN_PARTS.items()
        }
        training = {"PALM-Training400/": b""}
        training |= {f"PALM-Training400/{name}": data for name, data in inner.items()}
        root.mkdir(parents=True, exist_ok=True)
        (root / "training.zip").write_bytes(zip_bytes(training))
        for name, folder in (
            ("validation.zip", VALID_IMAGES),
            ("valid_gt.zip", "PALM-Validation-GT"),
        ):
            (root / name).write_bytes(zip_bytes(folder_members(Path(tmp), folder, folder)))
    return planted


def write(dataset_dir: Path, seed: int = 0, zipped: bool = False) -> list[PlantedStructure]:
    """The extracted layout, or with ``zipped`` the official zips of the same data."""
    root = Path(dataset_dir)
    if zipped:
        return _write_zipped(root, seed)
    planted = []
    for images, discs, image_id, width, height, disc, atrophy in IMAGES:
        dx, dy = seeded_shift(seed, image_id)
        blobs = [b for b in (disc, atrophy) if b is not None]
        masks = [
            Ellipse(b.label, b.cx + dx, b.cy + dy, b.rx, b.ry).mask(height, width) for b in blobs
        ]
        if masks:
            check_layout(masks)
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = FUNDUS
        for blob, mask in zip(blobs, masks, strict=True):
            rgb[mask] = DISC if blob is disc else ATROPHY
        save_jpeg(rgb, root / images / f"{image_id}.jpg")
        disc_mask = masks[0] if disc is not None else np.zeros((height, width), dtype=bool)
        _save_bmp(disc_mask, root / discs / f"{image_id}.bmp")
        if atrophy is not None:
            _save_bmp(masks[-1], root / TRAIN_ATROPHY / f"{image_id}.bmp")
        if disc is not None:
            planted.append(
                PlantedStructure(DATASET, image_id, "optic disc", None, None, extent_px(disc_mask))
            )
    return planted
