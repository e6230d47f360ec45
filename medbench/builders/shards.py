"""Hub-layout Parquet shards: ``data/<split>-NNNNN-of-NNNNN.parquet``.

Two writers, one layout. ``write_split`` plans shard boundaries from every row's size before
anything is written, so each file is written under its final name. ``ShardWriter`` takes rows
one at a time (a build that streams its input cannot know the sizes up front): a shard ends
where ``plan_shards`` would end it, rows go to ``.work/staging/<split>-NNNNN.parquet.partial``
as they come, and only once the split is complete, and the shard count known, are the staged
files renamed to their Hub names. Given the same rows and sizes both give byte-identical
files: same boundaries, row groups, compression and ``huggingface`` footer (the schema's).

Either way a shard reaches ``data/`` by an atomic rename, so a reader never sees a partial
shard, and shards of an earlier build that are not part of the new set are removed last.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

MAX_SHARD_BYTES = 500 * 1000 * 1000  # the Hub's default, datasets' MAX_SHARD_SIZE
IMAGE_ROW_GROUP_SIZE = 100  # the dataset viewer reads whole row groups
# Rows without pixels: 100-row groups would make a text table's file ~4x larger (per-group
# metadata, short zstd frames) and its writing ~5x slower; 10K rows of ~500 bytes is ~5 MB.
TEXT_ROW_GROUP_SIZE = 10_000
TEXT_ROW_BYTES = 512  # the size estimate of a row without pixels: ids, paths, text, a few boxes
STREAM_BATCH_ROWS = 5000  # ShardWriter: rows converted to Arrow and written at a time (at least)
STREAM_BATCH_BYTES = 64 * 1024 * 1024  # ... or fewer, once their sizes pass this (image rows)
PARTIAL = ".parquet.partial"
_PARTIAL_NAME = re.compile(r"^(?P<split>.+)-(?P<index>\d{5})\.parquet\.partial$")
SHARD_NAME = re.compile(r"^(?P<split>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet$")


@dataclass(frozen=True)
class ShardInfo:
    path: str  # relative to the output folder
    num_rows: int
    num_bytes: int
    sha256: str


def plan_shards(row_sizes: Sequence[int], max_bytes: int = MAX_SHARD_BYTES) -> list[range]:
    """Split rows, in order, into consecutive ranges whose summed size stays ≤ max_bytes.

    A single row larger than ``max_bytes`` gets a shard of its own. Zero rows → one empty
    shard, so a split always has a file.
    """
    ranges: list[range] = []
    start, size = 0, 0
    for i, row_size in enumerate(row_sizes):
        if i > start and size + row_size > max_bytes:
            ranges.append(range(start, i))
            start, size = i, 0
        size += row_size
    ranges.append(range(start, len(row_sizes)))
    return ranges


def shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_split(
    out_dir: Path,
    split: str,
    schema: pa.Schema,
    row_sizes: Sequence[int],
    rows_for: Callable[[range], Iterable[dict]],
    *,
    max_bytes: int = MAX_SHARD_BYTES,
    row_group_size: int = IMAGE_ROW_GROUP_SIZE,
) -> list[ShardInfo]:
    """Write one split as Hub shards under ``out_dir/data``.

    ``rows_for(r)`` yields the rows (dicts matching ``schema``) of the row range ``r``;
    it is called once per shard so only one shard's rows are in memory at a time.
    A split with no rows is an error: `datasets` cannot read a zero-row shard back.
    """
    if not row_sizes:
        raise ValueError(f"split {split!r} has no rows: nothing to write under {out_dir}")
    data_dir = out_dir / "data"
    staging = out_dir / ".work" / "staging"
    data_dir.mkdir(parents=True, exist_ok=True)
    staging.mkdir(parents=True, exist_ok=True)
    ranges = plan_shards(row_sizes, max_bytes)
    written: list[ShardInfo] = []
    for index, rows in enumerate(ranges):
        name = shard_name(split, index, len(ranges))
        tmp = staging / name
        table = pa.Table.from_pylist(list(rows_for(rows)), schema=schema)
        pq.write_table(table, tmp, row_group_size=row_group_size, compression="zstd")
        final = data_dir / name
        os.replace(tmp, final)
        info = ShardInfo(f"data/{name}", len(rows), final.stat().st_size, sha256_file(final))
        written.append(info)
    _remove_stale(data_dir, split, written)
    return written


def _remove_stale(data_dir: Path, split: str, written: list[ShardInfo]) -> None:
    """The split's shards of an earlier build that the new set does not replace."""
    keep = {Path(s.path).name for s in written}
    for old in data_dir.glob(f"{split}-*.parquet"):
        match = SHARD_NAME.match(old.name)
        if match and match.group("split") == split and old.name not in keep:
            old.unlink()


def remove_other_splits(out_dir: Path, splits: Iterable[str]) -> list[str]:
    """Remove the shards under ``out_dir/data`` of every split not in ``splits`` (an earlier
    build's: a card's ``data/<split>-*`` glob would load them). Returns the removed names."""
    keep = set(splits)
    removed = []
    for old in sorted((out_dir / "data").glob("*.parquet")):
        match = SHARD_NAME.match(old.name)
        if match and match.group("split") not in keep:
            old.unlink()
            removed.append(old.name)
    return removed


class ShardWriter:
    """One split's Hub shards from rows that arrive one at a time (see the module doc).

    ``add(row, nbytes)`` takes a row (matching ``schema``) and its size estimate, the
    one ``write_split`` would get in ``row_sizes``. Memory holds at most ``batch_rows`` rows, or
    about ``batch_bytes`` of them plus one row group: the buffer is written out at row-group
    boundaries only, so row groups are ``row_group_size`` rows as with ``write_split`` (whose
    default, for image tables, is this one's too; ``TEXT_ROW_GROUP_SIZE`` suits text rows).
    ``close()`` renames the staged files into ``data/`` and returns them; a split that got no
    rows is an error, as in ``write_split``. Leaving a ``with`` block on an exception, or
    ``abort()``, deletes the staged files; a killed process leaves them in ``.work/staging``,
    and the next writer of the split deletes them when it starts.
    """

    def __init__(
        self,
        out_dir: Path,
        split: str,
        schema: pa.Schema,
        *,
        max_bytes: int = MAX_SHARD_BYTES,
        row_group_size: int = IMAGE_ROW_GROUP_SIZE,
        batch_rows: int | None = None,
        batch_bytes: int = STREAM_BATCH_BYTES,
    ):
        if batch_rows is None:  # the first multiple of row_group_size from STREAM_BATCH_ROWS
            batch_rows = -(-STREAM_BATCH_ROWS // row_group_size) * row_group_size
        if batch_rows < row_group_size or batch_rows % row_group_size:
            raise ValueError(f"batch_rows {batch_rows} is not a multiple of {row_group_size}")
        self.out_dir = Path(out_dir)
        self.split = split
        self.schema = schema
        self.max_bytes = max_bytes
        self.row_group_size = row_group_size
        self.batch_rows = batch_rows
        self.batch_bytes = batch_bytes
        self.staging = self.out_dir / ".work" / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)
        for stale in self.staging.glob(f"{split}-*{PARTIAL}"):  # a killed run's
            match = _PARTIAL_NAME.match(stale.name)
            if match and match.group("split") == split:
                stale.unlink()
        self.rows = 0
        self._buffer: list[Any] = []
        self._tuples: bool | None = None  # rows given as tuples (None: no row yet)
        self._buffer_bytes = 0
        self._shard_rows = 0  # rows of the current shard, buffered ones included
        self._shard_bytes = 0
        self._staged: list[tuple[Path, int]] = []  # (staged file, rows) per finished shard
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    def add(self, row: Mapping[str, Any] | tuple, nbytes: int) -> None:
        """``row``: a mapping by column name, or a tuple of the values in the schema's column
        order (cheaper: no dict to build, and columns convert to Arrow one at a time). All
        rows of one writer take the same form."""
        if self._closed:
            raise ValueError(f"split {self.split!r}: add() after close()")
        as_tuple = row.__class__ is tuple
        if as_tuple is not self._tuples:
            if self._tuples is not None:
                raise ValueError(f"split {self.split!r}: rows mix tuples and mappings")
            self._tuples = as_tuple
        # plan_shards' rule: a shard ends before the row that would take it past max_bytes
        if self._shard_rows and self._shard_bytes + nbytes > self.max_bytes:
            self._end_shard()
        self._buffer.append(row)
        self._buffer_bytes += nbytes
        self._shard_rows += 1
        self._shard_bytes += nbytes
        self.rows += 1
        buffered = len(self._buffer)
        if buffered >= self.batch_rows or (
            self._buffer_bytes >= self.batch_bytes and buffered % self.row_group_size == 0
        ):
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._tuples:
            columns = list(zip(*self._buffer, strict=True))
            if len(columns) != len(self.schema):
                raise ValueError(
                    f"split {self.split!r}: rows of {len(columns)} values, the schema has "
                    f"{len(self.schema)} columns"
                )
            arrays = [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)]
            table = pa.Table.from_arrays(arrays, schema=self.schema)
        else:
            table = pa.Table.from_pylist(self._buffer, schema=self.schema)
        self._buffer = []
        self._buffer_bytes = 0
        if self._writer is None:
            path = self.staging / f"{self.split}-{len(self._staged):05d}{PARTIAL}"
            # write_split's settings (pq.write_table's defaults otherwise): same bytes
            self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")
            self._staged.append((path, 0))
        self._writer.write_table(table, row_group_size=self.row_group_size)
        path, rows = self._staged[-1]
        self._staged[-1] = (path, rows + table.num_rows)

    def _end_shard(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._shard_rows = self._shard_bytes = 0

    def close(self) -> list[ShardInfo]:
        """Finish the split: its shards, renamed into ``data/`` under their final names."""
        if self._closed:
            raise ValueError(f"split {self.split!r}: closed twice")
        self._end_shard()
        self._closed = True
        if not self._staged:
            raise ValueError(
                f"split {self.split!r} has no rows: nothing to write under {self.out_dir}"
            )
        data_dir = self.out_dir / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for index, (path, rows) in enumerate(self._staged):
            name = shard_name(self.split, index, len(self._staged))
            final = data_dir / name
            os.replace(path, final)
            written.append(
                ShardInfo(f"data/{name}", rows, final.stat().st_size, sha256_file(final))
            )
        _remove_stale(data_dir, self.split, written)
        return written

    def abort(self) -> None:
        """Drop everything staged; ``data/`` is left as it was."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for path, _ in self._staged:
            path.unlink(missing_ok=True)
        self._staged = []
        self._buffer = []
        self._closed = True

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and not self._closed:
            self.abort()
