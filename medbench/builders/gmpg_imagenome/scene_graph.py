"""Chest ImaGenome silver scene graphs, read one at a time from the extracted folder or straight
from ``scene_graph.zip``.

One file per frontal MIMIC-CXR image, ``<dicom_id>_SceneGraph.json``. The keys read here
(verified in public loaders: ttanida/rgrg ``create_dataset.py``, pamessina/medvqa, the Chest
ImaGenome example notebook):

- top level: ``image_id`` (the dicom id), ``patient_id``, ``study_id``; also ``viewpoint``,
  ``reason_for_exam``, ``relationships``, which the builder does not need;
- ``objects[]``: one per region with a box: ``bbox_name``, ``object_id``
  (``<dicom_id>_<bbox_name>``), ``original_x1/y1/x2/y2`` (pixels of the original image: may be
  negative, beyond the image, or zero-area), plus 224-space ``x1..y2`` and box sizes
  ``original_width/height`` (box, not image, sizes);
- ``attributes[]``: one per region the report mentions: ``bbox_name``, ``phrases`` (report
  sentences) and ``attributes`` (one list per phrase of ``"category|yes/no|name"`` strings,
  e.g. ``"anatomicalfinding|no|pneumothorax"``, ``"nlp|yes|abnormal"``). Text-only regions
  (``"left breast"``, ...) appear here with no object.

Nothing else is assumed: every other key is ignored, and a graph missing ``objects`` or
``attributes`` is a per-graph error, not a crashed build.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

try:  # ~4x faster on graphs of tens of KB; the stdlib parser gives the same values
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is optional
    _loads = json.loads

SUFFIX = "_SceneGraph.json"
ZIP_NAME = "scene_graph.zip"
Box = tuple[float, float, float, float]


class SceneGraphError(ValueError):
    """One graph that cannot be used; the build lists it and goes on."""


class Mention(NamedTuple):
    """One region–phrase link of ``attributes``: the region, the phrase, its attribute strings."""

    region: str
    phrase: str
    flags: tuple[str, ...]  # as shipped; non-string items are caught when grouped


@dataclass(slots=True)
class SceneGraph:
    image_id: str
    subject_id: str
    study_id: str
    boxes: dict[str, Box]  # bbox_name -> original-image box as shipped (not yet clipped)
    mentions: list[Mention]
    image_size: tuple[int, int] | None = None  # only if the graph itself carries one
    skipped: int = 0  # objects without usable coordinates, malformed attribute entries


def dicom_id_of(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base[: -len(SUFFIX)] if base.endswith(SUFFIX) else base


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _id(value: object) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


_OBJECT_FIELDS = itemgetter("bbox_name", "original_x1", "original_y1", "original_x2", "original_y2")
# UNVERIFIED: no public loader shows an image size in the scene graphs; these keys are read
# only if present, so a graph that has them is used and one that lacks them costs nothing.
_SIZE_KEYS = (("image_width", "image_height"), ("width", "height"))


def parse_graph(data: bytes | str, name: str = "") -> SceneGraph:
    try:
        graph = _loads(data)
    except ValueError as exc:
        raise SceneGraphError(f"not JSON: {exc}") from None
    if not isinstance(graph, dict):
        raise SceneGraphError("not a JSON object")
    objects, attributes = graph.get("objects"), graph.get("attributes")
    if not isinstance(objects, list) or not isinstance(attributes, list):
        raise SceneGraphError("no 'objects' / 'attributes' lists")
    skipped = 0
    boxes: dict[str, Box] = {}
    for obj in objects:
        try:
            region, x1, y1, x2, y2 = _OBJECT_FIELDS(obj)
            box = (float(x1), float(y1), float(x2), float(y2))
        except (KeyError, TypeError, ValueError):  # not an object with a box: counted
            skipped += 1
            continue
        if region.__class__ is str:
            boxes[region] = box
        else:
            skipped += 1
    mentions: list[Mention] = []
    for entry in attributes:
        if not isinstance(entry, dict):
            skipped += 1
            continue
        region = entry.get("bbox_name")
        phrases = entry.get("phrases")
        if not isinstance(region, str) or not isinstance(phrases, list):
            skipped += 1
            continue
        flag_lists = entry.get("attributes")
        flag_lists = flag_lists if isinstance(flag_lists, list) else []
        for i, phrase in enumerate(phrases):
            if not isinstance(phrase, str):
                skipped += 1
                continue
            flags = flag_lists[i] if i < len(flag_lists) else ()
            mentions.append(
                Mention(region, phrase, tuple(flags) if flags.__class__ is list else ())
            )
    size = None
    for wkey, hkey in _SIZE_KEYS:
        w, h = _number(graph.get(wkey)), _number(graph.get(hkey))
        if w and h and w > 0 and h > 0:
            size = (int(w), int(h))
            break
    image_id = _id(graph.get("image_id"))
    if image_id.endswith(".dcm"):
        image_id = image_id[: -len(".dcm")]
    return SceneGraph(
        image_id=image_id or dicom_id_of(name),
        subject_id=_id(graph.get("patient_id")),
        study_id=_id(graph.get("study_id")),
        boxes=boxes,
        mentions=mentions,
        image_size=size,
        skipped=skipped,
    )


class GraphSource:
    """The scene graphs of one Chest ImaGenome download, in a fixed (sorted) order.

    Only the member names (and, for the zip, its central directory) are held; each graph's
    bytes are read when iterated to it. The zip stays open between listing and reading: its
    directory of ~240K entries takes seconds to parse.
    """

    def __init__(
        self,
        path: Path,
        kind: str,
        names: list[str],
        zf: zipfile.ZipFile | None = None,
        infos: list[zipfile.ZipInfo] | None = None,
    ):
        self.path = path
        self.kind = kind  # "folder" | "zip"
        self.names = names
        self._zip = zf
        self._infos = infos

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def find(cls, imagenome_root: Path) -> GraphSource:
        """``silver_dataset/scene_graph/`` (any nesting) if it holds graphs, else
        ``silver_dataset/scene_graph.zip``; ``imagenome_root`` may also be either of them."""
        root = Path(imagenome_root)
        candidates = [root / "silver_dataset" / "scene_graph", root / "scene_graph", root]
        for folder in candidates:
            if folder.is_dir():
                names = _folder_names(folder)
                if names:
                    return cls(folder, "folder", names)
        zips = [root / "silver_dataset" / ZIP_NAME, root / ZIP_NAME]
        if root.is_file() and root.suffix == ".zip":
            zips.insert(0, root)
        for path in zips:
            if path.is_file():
                zf = zipfile.ZipFile(path)
                infos = sorted(
                    (i for i in zf.infolist() if i.filename.endswith(SUFFIX)),
                    key=lambda i: _by_file_name(i.filename),
                )
                if infos:
                    return cls(path, "zip", [i.filename for i in infos], zf, infos)
                zf.close()
        raise FileNotFoundError(
            f"{root}: no *{SUFFIX} under silver_dataset/scene_graph/ and no "
            f"silver_dataset/{ZIP_NAME}"
        )

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        if self.kind == "folder":
            prefix = f"{self.path}{os.sep}"
            for name in self.names:
                with open(prefix + name, "rb") as fh:
                    yield name, fh.read()
            return
        if self._zip is None or self._zip.fp is None:  # closed: open it again
            self._zip = zipfile.ZipFile(self.path)
            self._infos = [self._zip.getinfo(n) for n in self.names]
        zf, infos = self._zip, self._infos
        assert infos is not None
        for info in infos:
            yield info.filename, zf.read(info)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _folder_names(folder: Path) -> list[str]:
    names = []
    for dirpath, _dirs, files in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        for fn in files:
            if fn.endswith(SUFFIX):
                names.append(fn if rel == "." else f"{rel}/{fn}".replace(os.sep, "/"))
    names.sort(key=_by_file_name)
    return names


def _by_file_name(name: str) -> tuple[str, str]:
    """Order by dicom id, so the folder and the zip of the same download give the same rows."""
    return name.rsplit("/", 1)[-1], name
