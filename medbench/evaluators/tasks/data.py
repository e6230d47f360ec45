"""Finding and reading a task's rows: local Hub-layout shards or a Hub dataset.

Where a task's data is, first match wins:

1. an explicit location for the task (``--data TASK=LOCATION`` or the config's ``data:``):
   a folder (``<folder>/data/<split>-*.parquet`` or ``<folder>/<split>-*.parquet``), one
   ``.parquet`` file, or ``hf:<repo_id>[:<config>]`` for ``datasets.load_dataset``; a trailing
   ``@<split>`` picks the split;
2. ``<data root>/<task subpath>`` (the root is ``--data-root``, else ``$MEDBENCH_DATA_ROOT``,
   else ``./medbench-data``);
3. the task's Hub default, if it has one.

Local shards are read with pyarrow one record batch at a time (no copy into the ``datasets``
cache); images stay encoded bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from medbench.builders.shards import SHARD_NAME
from medbench.evaluators.tasks.spec import HubData, TaskSpec
from medbench.schemas.fields import arrow_schema_for, image_field_names, image_list_field_names

DATA_ROOT_ENV = "MEDBENCH_DATA_ROOT"
DEFAULT_DATA_ROOT = "medbench-data"
HUB_PREFIX = "hf:"
_SPLIT_SUFFIX = re.compile(r"^(?P<base>.+)@(?P<split>[A-Za-z0-9_.-]+)$")


class DataError(Exception):
    """A task's data cannot be found or does not match its row schema (one-line message)."""


def data_root(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT).expanduser()


@dataclass(frozen=True)
class Location:
    """A resolved data location: a local path or a Hub dataset, and an explicit split."""

    path: Path | None = None
    hub: HubData | None = None
    split: str | None = None
    origin: str = ""  # how it was chosen: "--data", "data root", "hub default"

    def describe(self) -> str:
        if self.hub is not None:
            cfg = f":{self.hub.config}" if self.hub.config else ""
            return f"{HUB_PREFIX}{self.hub.repo_id}{cfg}"
        return str(self.path)


def parse_location(text: str, *, origin: str = "--data") -> Location:
    """``hf:<repo>[:<config>][@split]`` or ``<path>[@split]`` (see the module docstring)."""
    text = text.strip()
    split = None
    m = _SPLIT_SUFFIX.match(text)
    if m and (text.startswith(HUB_PREFIX) or not Path(text).expanduser().exists()):
        text, split = m.group("base"), m.group("split")
    if text.startswith(HUB_PREFIX):
        rest = text[len(HUB_PREFIX) :]
        repo, _, config = rest.partition(":")
        if not repo:
            raise DataError(f"empty Hub dataset id in {text!r}")
        return Location(
            hub=HubData(repo_id=repo, config=config or None), split=split, origin=origin
        )
    return Location(path=Path(text).expanduser(), split=split, origin=origin)


def resolve_location(task: TaskSpec, root: Path, override: str | None = None) -> Location:
    if override:
        return parse_location(override)
    local = root / task.data.subpath
    if local.exists() or task.data.hub is None:
        return Location(path=local, origin="data root")
    return Location(hub=task.data.hub, split=task.data.hub.split, origin="hub default")


def _not_found(task: TaskSpec, path: Path) -> DataError:
    return DataError(
        f"no data folder {path} (build it, or point to it with --data-root, "
        f"${DATA_ROOT_ENV} or --data {task.name}=PATH)"
    )


# --------------------------------------------------------------------------------- sources


class RowSource:
    """Rows of one split, read in record batches."""

    location: str
    split: str
    num_rows: int
    schema: pa.Schema

    def batches(self, size: int = 256) -> Iterator[list[dict[str, Any]]]:
        raise NotImplementedError


class ParquetRows(RowSource):
    def __init__(self, files: list[Path], split: str, location: str) -> None:
        self.files = files
        self.split = split
        self.location = location
        self.num_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        self.schema = pq.read_schema(files[0]) if files else pa.schema([])

    def batches(self, size: int = 256) -> Iterator[list[dict[str, Any]]]:
        for path in self.files:
            with pq.ParquetFile(path) as pf:
                for batch in pf.iter_batches(batch_size=size):
                    yield batch.to_pylist()


class HubRows(RowSource):
    def __init__(
        self,
        hub: HubData,
        split: str,
        image_fields: list[str],
        image_list_fields: list[str] | tuple[str, ...] = (),
    ) -> None:
        try:
            from datasets import Image, List, load_dataset
        except ImportError as exc:  # pragma: no cover - datasets is a dependency
            raise DataError(f"reading {hub.repo_id} needs the datasets package: {exc}") from exc
        try:
            ds = load_dataset(hub.repo_id, hub.config, split=split)
        except Exception as exc:  # network, missing repo, missing split, bad files
            raise DataError(f"cannot load {HUB_PREFIX}{hub.repo_id} split {split}: {exc}") from exc
        for name in image_fields:
            if name in ds.column_names:
                ds = ds.cast_column(name, Image(decode=False))
        for name in image_list_fields:  # lists of images stay encoded too (MMMU)
            if name in ds.column_names:
                ds = ds.cast_column(name, List(Image(decode=False)))
        self.ds = ds
        self.split = split
        self.location = f"{HUB_PREFIX}{hub.repo_id}" + (f":{hub.config}" if hub.config else "")
        self.num_rows = len(ds)
        self.schema = ds.features.arrow_schema

    def batches(self, size: int = 256) -> Iterator[list[dict[str, Any]]]:
        for start in range(0, self.num_rows, size):
            chunk = self.ds[start : start + size]
            names = list(chunk)
            yield [
                dict(zip(names, values, strict=True))
                for values in zip(*chunk.values(), strict=True)
            ]


def _split_files(folder: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for base in (folder / "data", folder):
        if not base.is_dir():
            continue
        for path in sorted(base.glob("*.parquet")):
            m = SHARD_NAME.match(path.name)
            if m:
                found.setdefault(m.group("split"), []).append(path)
        if found:
            break
    return found


def open_rows(task: TaskSpec, location: Location) -> RowSource:
    """The rows of ``task`` at ``location``; DataError when absent or without the split."""
    if location.hub is not None:
        split = location.split or task.data.splits[0]
        return HubRows(
            location.hub,
            split,
            image_field_names(task.row_model),
            image_list_field_names(task.row_model),
        )
    path = location.path
    assert path is not None
    if not path.exists():
        raise _not_found(task, path)
    if path.is_file():
        return ParquetRows([path], location.split or path.stem, str(path))
    by_split = _split_files(path)
    if not by_split:
        raise DataError(f"no shards data/<split>-NNNNN-of-NNNNN.parquet in {path}")
    wanted = (location.split,) if location.split else task.data.splits
    for split in wanted:
        if split in by_split:
            return ParquetRows(by_split[split], split, str(path))
    raise DataError(
        f"{path} has no split {' or '.join(wanted)} (it has {', '.join(sorted(by_split))})"
    )


# --------------------------------------------------------------------------------- rows


def schema_problems(task: TaskSpec, schema: pa.Schema) -> list[str]:
    """Columns of the task's row schema that are missing from ``schema`` or typed otherwise."""
    expected = arrow_schema_for(task.row_model)
    images = set(image_field_names(task.row_model))
    fields = task.row_model.model_fields
    problems = []
    for field in expected:
        if field.name not in schema.names:
            # a column added to the schema later, with a default: older shards still read
            if not fields[field.name].is_required():
                continue
            problems.append(f"missing column {field.name!r}")
            continue
        got = schema.field(field.name).type
        if field.name in images:
            ok = pa.types.is_binary(got) or (
                pa.types.is_struct(got) and got.get_field_index("bytes") >= 0
            )
        else:
            ok = got.equals(field.type) or _compatible(got, field.type)
        if not ok:
            problems.append(f"column {field.name!r} is {got}, expected {field.type}")
    return problems


def _compatible(got: pa.DataType, want: pa.DataType) -> bool:
    """Loose equality: any integer width for ints, any float width for floats, string or
    large_string, lists of compatible items."""
    if pa.types.is_integer(want):
        return pa.types.is_integer(got)
    if pa.types.is_floating(want):
        return pa.types.is_floating(got) or pa.types.is_integer(got)
    if pa.types.is_string(want) or pa.types.is_large_string(want):
        return pa.types.is_string(got) or pa.types.is_large_string(got)
    list_types = (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list)
    if any(t(want) for t in list_types) and any(t(got) for t in list_types):
        return _compatible(got.value_type, want.value_type) or got.value_type.equals(
            want.value_type
        )
    if pa.types.is_struct(want) and pa.types.is_struct(got):
        return all(got.get_field_index(f.name) >= 0 for f in want)
    return got.equals(want)


@cache
def image_columns(row_model: type[BaseModel]) -> tuple[str, ...]:
    """The row model's image fields (derived from its features once per model)."""
    return tuple(image_field_names(row_model))


@cache
def image_list_columns(row_model: type[BaseModel]) -> tuple[str, ...]:
    """The row model's image-list fields (once per model: deriving features is slow)."""
    return tuple(image_list_field_names(row_model))


def image_bytes(value: Any, base: Path | None = None) -> bytes | None:
    """Encoded image bytes of an Arrow/HF image cell (``{bytes, path}`` or raw bytes)."""
    if value is None or isinstance(value, bytes | bytearray):
        return bytes(value) if value is not None else None
    if isinstance(value, dict):
        if value.get("bytes") is not None:
            return bytes(value["bytes"])
        path = value.get("path")
        if path:
            candidate = Path(path)
            if not candidate.is_absolute() and base is not None:
                candidate = base / candidate
            if candidate.is_file():
                return candidate.read_bytes()
    return None


def matches_filters(task: TaskSpec, raw: dict[str, Any]) -> bool:
    return all(str(raw.get(key)) == value for key, value in task.data.filters.items())


def to_row(task: TaskSpec, raw: dict[str, Any], base: Path | None = None) -> BaseModel:
    """Validate one raw row against the task's row model (images as bytes); DataError if not."""
    values = dict(raw)
    for name in image_columns(task.row_model):
        data = image_bytes(values.get(name), base)
        if data is None:
            raise DataError(f"row {values.get('sample_id')!r}: no bytes in image column {name!r}")
        values[name] = data
    try:
        return task.row_model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise DataError(
            f"row {values.get('sample_id')!r} does not match {task.row_model.__name__}: "
            f"{where}: {first.get('msg')}"
        ) from None
