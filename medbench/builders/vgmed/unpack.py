"""Datasets shipped as zip archives (zips inside zips included), unpacked for the build.

The source folder is only read: a spec's ``archives`` (globs relative to ``<root>/<id>``)
are unpacked into ``<out>/.work/unpacked/<id>/``, which is then read like an extracted
source folder (``SourceSpec.locate`` against ``<out>/.work/unpacked``).

Where things land, as ``unzip A.zip -d <A's folder>`` would put them:

- an archive at ``<root>/<id>/sub/A.zip`` extracts into ``<unpacked>/<id>/sub/``;
- a ``*.zip`` among the extracted files extracts into the folder it was extracted to, and
  is then deleted (it is the build's copy, not the user's), down to ``MAX_DEPTH`` levels.

Safety: members with absolute paths, drive letters or ``..`` refuse the whole archive
(``UnpackError`` naming archive and member) before anything is written; ``__MACOSX/``
and AppleDouble ``._*`` members are skipped. A corrupt or truncated zip is an
``UnpackError`` naming the file (``outer.zip > inner.zip`` for a nested one). Messages
are one line.

Resume: each top-level archive is extracted into a staging folder next to the target,
then moved into place by renames; ``<unpacked>/<id>.unpacked.json`` records the name,
size and mtime of every archive fully moved in. A rerun skips those and redoes the rest
(an interrupted one included). If a recorded archive changed or is gone, or the record is
missing, the target is emptied and everything is unpacked again.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from medbench.builders.vgmed.spec import is_junk

MARKER_FORMAT = 1
MAX_DEPTH = 4  # zips inside zips inside ...: deeper nesting is refused (zip quines)
COPY_CHUNK = 1 << 20

Progress = Callable[[int, int], None]  # (members done, members known so far)


class UnpackError(Exception):
    """An archive cannot be unpacked safely; the message is one line naming the file."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def find_archives(dataset_dir: Path, patterns: list[str]) -> list[Path]:
    """Files matching ``patterns`` under ``dataset_dir`` (AppleDouble/hidden files skipped)."""
    if not dataset_dir.is_dir():
        return []
    found = {
        path
        for pattern in patterns
        for path in dataset_dir.glob(pattern)
        if path.is_file() and not is_junk(path)
    }
    return sorted(found)


def fingerprint(archive: Path) -> dict[str, int]:
    st = archive.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def member_parts(name: str, archive: str) -> list[str] | None:
    """Path parts a member extracts to, None to skip it; raise if it could escape."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or re.match(r"[A-Za-z]:", raw):
        raise UnpackError(f"{archive}: refused, member {name!r} has an absolute path")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnpackError(f"{archive}: refused, member {name!r} points outside the archive (..)")
    if not parts or "__MACOSX" in parts or parts[-1].startswith("._"):
        return None
    return parts


def _member_time(info: zipfile.ZipInfo) -> float | None:
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return None


def _extract_zip(
    archive: Path, label: str, dest: Path, depth: int, progress: Progress | None, counts: list
) -> None:
    """Extract ``archive`` into ``dest``, then any zip it held into that zip's folder."""
    nested: list[tuple[Path, str]] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            plan = []
            for info in zf.infolist():
                parts = member_parts(info.filename, label)
                if parts is not None:
                    plan.append((info, parts))
            counts[1] += len(plan)
            for info, parts in plan:
                target = dest.joinpath(*parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out, COPY_CHUNK)
                    stamp = _member_time(info)
                    if stamp is not None:  # stable mtimes keep the case cache valid
                        os.utime(target, (stamp, stamp))
                    if parts[-1].lower().endswith(".zip"):
                        nested.append((target, "/".join(parts)))
                counts[0] += 1
                if progress:
                    progress(counts[0], counts[1])
    except UnpackError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise UnpackError(f"{label}: corrupt or truncated zip ({_one_line(exc)})") from None
    except (NotImplementedError, RuntimeError) as exc:  # deflate64, encryption, ...
        raise UnpackError(f"{label}: cannot unpack ({_one_line(exc)})") from None
    except OSError as exc:
        raise UnpackError(f"{label}: cannot unpack ({_one_line(exc)})") from None
    for path, member in nested:
        inner = f"{label} > {member}"
        if depth + 1 > MAX_DEPTH:
            raise UnpackError(f"{inner}: zips nested more than {MAX_DEPTH} deep, refused")
        _extract_zip(path, inner, path.parent, depth + 1, progress, counts)
        path.unlink()


def _merge(src: Path, dst: Path) -> None:
    """Move ``src`` onto ``dst`` by renames, merging folders and replacing files."""
    if not dst.exists() and not dst.is_symlink():
        os.replace(src, dst)
    elif src.is_dir() and dst.is_dir():
        for child in list(src.iterdir()):
            _merge(child, dst / child.name)
    elif not src.is_dir() and not dst.is_dir():
        os.replace(src, dst)
    else:
        raise UnpackError(f"{dst}: both a file and a folder in the unpacked archives")


def _read_marker(path: Path) -> dict | None:
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        return None
    return marker


def _write_marker(path: Path, done: dict, merging: dict | None) -> None:
    tmp = path.with_name(f"{path.name}.writing")
    tmp.write_text(json.dumps({"format": MARKER_FORMAT, "archives": done, "merging": merging}))
    os.replace(tmp, path)


def marker_path(target: Path) -> Path:
    return target.with_name(f"{target.name}.unpacked.json")


def unpack_archives(
    archives: list[Path], base: Path, target: Path, progress: Progress | None = None
) -> Path:
    """Unpack ``archives`` (under ``base``) into ``target``; skip what is already done."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f".{glob.escape(target.name)}.unpacking-*"):
        shutil.rmtree(stale, ignore_errors=True)
    marker_file = marker_path(target)
    wanted = {archive.relative_to(base).as_posix(): fingerprint(archive) for archive in archives}

    marker = _read_marker(marker_file)
    done: dict[str, dict] = {}
    if marker is not None:
        done = dict(marker.get("archives") or {})
        merging = marker.get("merging")
        fresh = all(wanted.get(name) == fp for name, fp in done.items())
        if merging is not None:
            fresh &= wanted.get(merging.get("name")) == merging.get("fingerprint")
        if not fresh:
            marker = None
    if marker is None:  # no record, or an archive changed or went: start from scratch
        if target.exists():
            shutil.rmtree(target)
        done = {}
    target.mkdir(exist_ok=True)
    _write_marker(marker_file, done, None)

    counts = [0, 0]
    for archive in archives:
        name = archive.relative_to(base).as_posix()
        if done.get(name) == wanted[name]:
            continue
        stage = parent / f".{target.name}.unpacking-{os.getpid()}"
        try:
            dest = stage.joinpath(*Path(name).parent.parts)
            dest.mkdir(parents=True, exist_ok=True)
            _extract_zip(archive, str(archive), dest, 0, progress, counts)
            _write_marker(marker_file, done, {"name": name, "fingerprint": wanted[name]})
            for child in list(stage.iterdir()):
                _merge(child, target / child.name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        done[name] = wanted[name]
        _write_marker(marker_file, done, None)
    return target


def check_archives(archives: list[Path]) -> None:
    """Without unpacking: each archive's directory is readable and its member names safe."""
    for archive in archives:
        try:
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    member_parts(info.filename, str(archive))
        except (zipfile.BadZipFile, EOFError) as exc:
            raise UnpackError(f"{archive}: corrupt or truncated zip ({_one_line(exc)})") from None
        except OSError as exc:
            raise UnpackError(f"{archive}: cannot read ({_one_line(exc)})") from None
