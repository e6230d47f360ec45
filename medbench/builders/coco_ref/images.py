"""The image bytes a row stores, checked against what the annotations say.

A COCO file's own bytes are kept as they are (the HF ``Image`` feature takes JPEG). One case
cannot be: ``datasets`` applies a file's EXIF orientation when it decodes an image, so a
JPEG tagged with orientation 2–8 would load turned or mirrored, away from boxes drawn on
its stored pixels. Such a file is stored as a lossless PNG of the pixels its annotations
refer to (its stored pixels; or, when only the oriented size matches the annotated size,
the oriented ones), and the row's ``image_note`` says so.

Each image is decoded once (at 1/8 scale for JPEGs, which still reads every byte of the
entropy-coded data), so a truncated or corrupt file is found before anything is written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

ORIENTATION_TAG = 0x0112  # EXIF Orientation
TRANSPOSED_ORIENTATIONS = {5, 6, 7, 8}  # these swap width and height


@dataclass(frozen=True)
class StoredImage:
    """What a row will hold for one COCO image."""

    width: int
    height: int
    format: str  # PIL's name of the stored bytes: "JPEG" (the file's own) or "PNG"
    num_bytes: int
    note: str  # '' when the bytes are the file's own
    png: bytes | None = None  # the re-encoded bytes, when the file's cannot be used


class ImageProblem(Exception):
    """The file cannot back its annotations (one-line reason)."""


def _encode_png(image: Image.Image) -> bytes:
    if image.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def inspect_image(path: Path, annotated_size: tuple[int, int]) -> StoredImage:
    """Decode ``path`` and decide which bytes represent it; raises ``ImageProblem``."""
    width, height = annotated_size
    try:
        with Image.open(path) as image:
            stored_size = image.size
            file_format = image.format or "unknown"
            orientation = image.getexif().get(ORIENTATION_TAG)
            if file_format == "JPEG":
                image.draft(image.mode, (max(1, stored_size[0] // 8), max(1, stored_size[1] // 8)))
            image.load()
    except FileNotFoundError:
        raise ImageProblem("missing image file") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise ImageProblem(f"unreadable image: {exc}") from None
    oriented = isinstance(orientation, int) and 2 <= orientation <= 8
    if not oriented:
        if stored_size != (width, height):
            raise ImageProblem(
                f"image is {stored_size[0]}×{stored_size[1]} but its annotations say "
                f"{width}×{height}"
            )
        return StoredImage(width, height, file_format, path.stat().st_size, "")
    turned = (
        (stored_size[1], stored_size[0]) if orientation in TRANSPOSED_ORIENTATIONS else stored_size
    )
    if stored_size == (width, height):
        frame = "stored"
    elif turned == (width, height):
        frame = "oriented"
    else:
        raise ImageProblem(
            f"image is {stored_size[0]}×{stored_size[1]} (EXIF orientation {orientation}) but "
            f"its annotations say {width}×{height}"
        )
    with Image.open(path) as image:
        image.load()
        pixels = ImageOps.exif_transpose(image) if frame == "oriented" else image.copy()
    png = _encode_png(pixels)
    note = (
        f"re-encoded as PNG: the file's EXIF orientation {orientation} would turn the image "
        f"away from its boxes; pixels are the file's {frame} pixels, which the boxes refer to"
    )
    return StoredImage(width, height, "PNG", len(png), note, png)


def image_bytes(path: Path, stored: StoredImage) -> bytes:
    return stored.png if stored.png is not None else path.read_bytes()
