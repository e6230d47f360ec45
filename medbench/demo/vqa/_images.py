"""Small deterministic test images (a few hundred bytes each), distinct per ``key``."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def pixels(key: int, size: int = 16) -> np.ndarray:
    """A grey gradient with a bright square whose place and level depend on ``key``."""
    ramp = np.linspace(0, 200, size, dtype=np.float64)
    grey = (ramp[None, :] * 0.5 + ramp[:, None] * 0.5).astype(np.uint8)
    x = (key * 5) % (size - 4)
    y = (key * 3) % (size - 4)
    grey[y : y + 4, x : x + 4] = 100 + (key * 37) % 155
    return grey


def encode(key: int, fmt: str, size: int = 16) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(pixels(key, size))
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, format="JPEG", quality=90)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def save(data: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
