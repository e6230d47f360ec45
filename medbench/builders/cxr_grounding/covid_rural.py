"""COVID Rural: opacity masks drawn on chest X-rays of a COVID-19 positive rural US
population (TCIA COVID-19-AR images; masks by Tang et al., GitHub
``haimingt/opacity_segmentation_covid_chest_X_ray``).

Input, the repository's ``covid_rural_annot/`` folder (or the repository root holding it):
``jpgs/<stem>.jpg`` (stem ``COVID-19-AR-<patient>_<MM-DD-YYYY>-XR``), ``pngs_masks/<stem>.png``
(0 background, 1 opacity) and ``jpgs/jsons/<stem>.json`` (LabelMe polygons for the lungs and
opacities; not needed: the PNG masks are the rasterised opacities).

Rows: one per annotated image; query = "COVID-19" (the disease name, as DAP uses); one box
per 8-connected opacity component (``component_boxes``); an image whose mask is empty is a
zero-box row. Images without a mask are not annotated and are listed, not written. Image
sizes come from the JPEG header and must equal the mask's; when the JPEG is missing the
mask's size is used. No official split: every row is ``test`` (paper 000 only evaluates).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from medbench.builders.cxr_grounding.records import (
    BuildError,
    ImageStore,
    ReadResult,
    Sample,
    Skip,
    SourceInfo,
)
from medbench.hashing import stable_hash
from medbench.imaging.boxes import component_boxes
from medbench.imaging.errors import ImageReadError
from medbench.imaging.raster import binary_mask, read_raster
from medbench.schemas.gmpg import GroundingRow

NAME = "covid-rural"
QUERY = "COVID-19"
SPLIT = "test"
BOX_NAME = "opacity"
SIZE_FROM_MASK = "mask"
SOURCE = SourceInfo(
    id="COVID-Rural",
    title="COVID Rural: opacity segmentations on TCIA COVID-19-AR chest X-rays",
    license="other (images: TCIA COVID-19-AR, CC BY 4.0; masks: no licence stated by "
    "haimingt/opacity_segmentation_covid_chest_X_ray)",
    homepage="https://github.com/haimingt/opacity_segmentation_covid_chest_X_ray",
    terms="https://doi.org/10.7937/tcia.2020.py71-5978",
    credentialed=False,
    redistributable=False,
    citation="Desai et al., Chest imaging representing a COVID-19 positive rural U.S. "
    "population, Scientific Data 2020; Tang et al., medRxiv 2020.10.19.20215483",
    image_store="the covid_rural_annot folder (holding jpgs/)",
)
ANNOT_DIR = "covid_rural_annot"
IMAGE_DIR = "jpgs"
MASK_DIR = "pngs_masks"
_STEM = re.compile(r"^(?P<patient>COVID-19-AR-\d+)_(?P<date>\d{2}-\d{2}-\d{4})-XR$")


def annotation_dir(source_root: Path) -> Path:
    for folder in (source_root / ANNOT_DIR, source_root):
        if (folder / MASK_DIR).is_dir():
            return folder
    raise BuildError(f"{source_root}: no {MASK_DIR}/ (or {ANNOT_DIR}/{MASK_DIR}/) found")


def read(source_root: Path, image_root: Path | None) -> ReadResult:
    annot = annotation_dir(source_root)
    image_root = image_root or annot
    masks = {p.stem: p for p in (annot / MASK_DIR).glob("*.png") if p.is_file()}
    images = {p.stem for p in (annot / IMAGE_DIR).glob("*.jpg") if p.is_file()}
    store = ImageStore(image_root)
    notes: Counter = Counter()
    samples: list[Sample] = []
    skipped: list[Skip] = []
    for stem in sorted(set(masks) | images):
        if stem not in masks:
            skipped.append(Skip(stem, "not_annotated", f"no {MASK_DIR}/{stem}.png"))
            continue
        try:
            mask = binary_mask(read_raster(masks[stem]), threshold=0)  # opacity = 1
        except (ImageReadError, ValueError) as exc:
            skipped.append(Skip(stem, "unreadable_mask", str(exc)))
            continue
        mask_size = (int(mask.shape[1]), int(mask.shape[0]))
        rel = f"{IMAGE_DIR}/{stem}.jpg"
        probe = store.probe(rel)
        if probe.size is not None and probe.size != mask_size:
            why = f"mask {mask_size[0]}x{mask_size[1]} but image {probe.size[0]}x{probe.size[1]}"
            skipped.append(Skip(stem, "size_mismatch", why))
            continue
        store.report(rel, "row written (size from the mask)")
        boxes = [list(b.box) for b in component_boxes(mask)]
        notes["opacity_pixels"] += int(np.count_nonzero(mask))
        match = _STEM.match(stem)
        row = GroundingRow(
            sample_id=stable_hash(NAME, stem),
            dataset=NAME,
            image_id=stem,
            study_id=match["date"] if match else "",
            subject_id=match["patient"] if match else "",
            split=SPLIT,
            image_path=rel,
            image_width=mask_size[0],
            image_height=mask_size[1],
            # the JPEG's (equal to the mask's, checked above), or the mask's when it is missing
            image_size_source=probe.size_source if probe.size else SIZE_FROM_MASK,
            sentence=QUERY,
            boxes=boxes,
            box_names=[BOX_NAME] * len(boxes),
            groundable=bool(boxes),
            label=QUERY,
        )
        samples.append(Sample(row, probe.path))
    notes["masks"] = len(masks)
    notes["images"] = len(images)
    return ReadResult(
        samples=samples,
        skipped=skipped,
        image_issues=list(store.issues.values()),
        inputs={"masks": annot / MASK_DIR},
        image_root=image_root,
        notes=notes,
    )
