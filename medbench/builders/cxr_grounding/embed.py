"""Image bytes for ``--embed-images`` (local use only: these sources may not be redistributed).

JPEG and PNG files are embedded exactly as shipped (no re-encoding, so pixels and boxes stay
aligned). DICOM cannot be decoded by the HF ``Image`` feature, so it becomes an 8-bit PNG:
modality LUT applied and MONOCHROME1 inverted (``read_dicom_image``), then the image's own
value range stretched linearly to 0..255. Geometry is unchanged: one PNG pixel per DICOM pixel.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from medbench.imaging.dicom import read_dicom_image

DICOM_RENDERING = "dicom→png: modality LUT, MONOCHROME1 inverted, min–max to 8 bit"


def dicom_png_bytes(path: Path) -> bytes:
    pixels, _ = read_dicom_image(path)
    if pixels.ndim == 3:  # colour DICOM: already RGB
        arr = np.ascontiguousarray(pixels.astype(np.uint8))
    else:
        low, high = float(pixels.min()), float(pixels.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        arr = np.clip(np.rint((pixels - low) * scale), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def image_bytes(path: Path) -> bytes:
    if path.suffix.lower() == ".dcm":
        return dicom_png_bytes(path)
    return path.read_bytes()
