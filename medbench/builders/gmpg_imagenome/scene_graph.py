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
import struct
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from operator import itemgetter
from pathlib import Path

from isal import isal_zlib

SUFFIX = "_SceneGraph.json"
ZIP_NAME = "scene_graph.zip"
Box = tuple[float, float, float, float]


class SceneGraphError(ValueError):
    """One graph that cannot be used; the build lists it and goes on."""


# One region–phrase link of ``attributes``: (region, phrase, the phrase's attribute strings as
# shipped: non-string items are caught when grouped). A plain tuple: a graph has dozens.
Mention = tuple[str, str, Sequence[str]]


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
    text = str(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeError as exc:
            raise SceneGraphError(f"not UTF-8 text: {exc}") from None
    return text


_OBJECT_FIELDS = itemgetter("bbox_name", "original_x1", "original_y1", "original_x2", "original_y2")
# UNVERIFIED: no public loader shows an image size in the scene graphs; these keys are read
# only if present, so a graph that has them is used and one that lacks them costs nothing.
_SIZE_KEYS = (("image_width", "image_height"), ("width", "height"))


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


# The standard parser, made as strict as JSON itself: NaN / Infinity (which json.loads accepts)
# and bytes that are not UTF-8 make a graph unreadable, never a box with a NaN corner.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _loads(data: bytes | str) -> object:
    # Text from a \\uXXXX escape may still hold a lone surrogate: the strings the build uses
    # are checked where they are read (pairs.group_mentions, _id), which costs far less than
    # searching every graph for escapes.
    return _DECODER.decode(data.decode("utf-8") if isinstance(data, bytes) else data)


def parse_graph(data: bytes | str, name: str = "") -> SceneGraph:
    try:
        graph = _loads(data)
    except ValueError as exc:  # UnicodeError included
        raise SceneGraphError(f"not JSON: {exc}") from None
    if not isinstance(graph, dict):
        raise SceneGraphError("not a JSON object")
    objects, attributes = graph.get("objects"), graph.get("attributes")
    if not isinstance(objects, list) or not isinstance(attributes, list):
        raise SceneGraphError("no 'objects' / 'attributes' lists")
    # exact-class checks: json.loads makes only dict, list, str, int, float, bool and None
    skipped = 0
    boxes: dict[str, Box] = {}
    for obj in objects:
        try:
            region, x1, y1, x2, y2 = _OBJECT_FIELDS(obj)
            box = (float(x1), float(y1), float(x2), float(y2))
        except (KeyError, TypeError, ValueError):  # not an object with a box: counted
            skipped += 1
            continue
        total = box[0] + box[1] + box[2] + box[3]
        if region.__class__ is str and total - total == 0.0:  # no NaN or infinite corner
            boxes[region] = box
        else:
            skipped += 1
    mentions: list[Mention] = []
    append = mentions.append
    for entry in attributes:
        if entry.__class__ is not dict:
            skipped += 1
            continue
        region = entry.get("bbox_name")
        phrases = entry.get("phrases")
        if region.__class__ is not str or phrases.__class__ is not list:
            skipped += 1
            continue
        flag_lists = entry.get("attributes")
        if flag_lists.__class__ is not list:
            flag_lists = ()
        for phrase, flags in zip_longest(phrases, flag_lists[: len(phrases)], fillvalue=()):
            if phrase.__class__ is not str:
                skipped += 1
                continue
            append((region, phrase, flags if flags.__class__ is list else ()))
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
        with open(self.path, "rb") as fp:
            fd = fp.fileno()
            for info in infos:
                data = _member_bytes(fd, info)
                yield info.filename, data if data is not None else zf.read(info)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name and extra field lengths
_READ_SLACK = 256  # bytes read past the central directory's guess of the data's end
_NOT_PLAIN = 0x1 | 0x20 | 0x40  # encrypted, compressed patch data, strong encryption
_pread = getattr(os, "pread", None)  # POSIX; elsewhere ZipFile.read reads every member


def _member_bytes(fd: int, info: zipfile.ZipInfo) -> bytes | None:
    """A stored or deflated, unencrypted member's bytes, read with one ``pread`` where the
    central directory's name and extra lengths hold for the local header too, inflated with
    python-isal (~2x zlib's speed) and checked against the central directory's size and
    CRC-32; None for anything else (other methods, encryption, a header, size or CRC that does
    not match), which ``ZipFile.read`` then reads, or rejects, as it always does."""
    plain = info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
    if _pread is None or info.flag_bits & _NOT_PLAIN or not plain:
        return None
    name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    guess = _LOCAL_HEADER.size + len(name) + len(info.extra) + _READ_SLACK
    chunk = _pread(fd, guess + info.compress_size, info.header_offset)
    if len(chunk) < _LOCAL_HEADER.size:
        return None
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(chunk)
    at = _LOCAL_HEADER.size
    if signature != b"PK\x03\x04" or chunk[at : at + name_length] != name:
        return None  # ZipFile.read names the problem
    start = at + name_length + extra_length
    raw = memoryview(chunk)[start : start + info.compress_size]
    if len(raw) < info.compress_size:  # a longer local header than guessed: read the data
        raw = memoryview(_pread(fd, info.compress_size, info.header_offset + start))
        if len(raw) < info.compress_size:
            return None
    if info.compress_type == zipfile.ZIP_STORED:
        data = bytes(raw)
    else:
        try:
            data = isal_zlib.decompress(raw, wbits=-15)
        except (isal_zlib.error, ValueError):
            return None
    if len(data) != info.file_size or isal_zlib.crc32(data) != info.CRC:
        return None
    return data


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
