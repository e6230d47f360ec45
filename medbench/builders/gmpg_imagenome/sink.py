"""Streaming Hub shards: rows arrive image by image and are written as they come.

``medbench.builders.shards.write_split`` plans shard boundaries from every row's size before it
writes, so it needs all rows (or their sizes and a way to re-read them) up front. Here rows go
to a staging file per split in batches (one Parquet row group each) and a new staging file is
started whenever the current one passes ``max_bytes`` (Arrow in-memory bytes, as the Hub's
limit is meant), so memory holds one batch per split. Only when the split is complete, and the
shard count known, is each staged file renamed to ``data/<split>-NNNNN-of-NNNNN.parquet``.
With image bytes in the rows (``--embed-images``) a batch also ends once its images pass
``batch_bytes``, so memory holds at most about that much image data per split.
Shards of an earlier build that are not part of the new set are removed last; a crashed build
leaves only ``.work/staging`` behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from medbench.builders.shards import (
    MAX_SHARD_BYTES,
    SHARD_NAME,
    ShardInfo,
    sha256_file,
    shard_name,
)

BATCH_ROWS = 10_000  # rows per write (one row group): text rows, no image bytes
BATCH_BYTES = 64 * 1024 * 1024  # image bytes per write, when rows carry them


@dataclass
class _SplitState:
    buffer: list[dict] = field(default_factory=list)
    buffer_bytes: int = 0  # image bytes in the buffer
    staged: list[Path] = field(default_factory=list)
    rows_per_file: list[int] = field(default_factory=list)
    writer: pq.ParquetWriter | None = None
    bytes_in_file: int = 0


class ShardSink:
    def __init__(
        self,
        out: Path,
        schema: pa.Schema,
        *,
        max_bytes: int = MAX_SHARD_BYTES,
        batch_rows: int = BATCH_ROWS,
        batch_bytes: int = BATCH_BYTES,
    ):
        self.out = out
        self.schema = schema
        self.max_bytes = max_bytes
        self.batch_rows = batch_rows
        self.batch_bytes = batch_bytes
        self.staging = out / ".work" / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)
        self._splits: dict[str, _SplitState] = {}

    def open_split(self, split: str) -> None:
        """Make sure the split gets a file even if no row arrives."""
        self._splits.setdefault(split, _SplitState())

    def add(self, split: str, row: dict, image_bytes: int = 0) -> None:
        """``image_bytes``: the size of the image the row carries (0 without one)."""
        state = self._splits.setdefault(split, _SplitState())
        state.buffer.append(row)
        state.buffer_bytes += image_bytes
        if len(state.buffer) >= self.batch_rows or state.buffer_bytes >= self.batch_bytes:
            self._flush(split, state)

    def _flush(self, split: str, state: _SplitState) -> None:
        if not state.buffer:
            return
        table = pa.Table.from_pylist(state.buffer, schema=self.schema)
        state.buffer = []
        state.buffer_bytes = 0
        if state.writer is not None and state.bytes_in_file + table.nbytes > self.max_bytes:
            state.writer.close()
            state.writer = None
        if state.writer is None:
            path = self.staging / f"{split}-{len(state.staged):05d}.parquet.partial"
            state.staged.append(path)
            state.rows_per_file.append(0)
            state.bytes_in_file = 0
            state.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        state.writer.write_table(table, row_group_size=max(len(table), 1))
        state.bytes_in_file += table.nbytes
        state.rows_per_file[-1] += len(table)

    def close(self) -> list[ShardInfo]:
        """Finish every split: rename staged files into ``data/`` with their final names."""
        data_dir = self.out / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        shards: list[ShardInfo] = []
        for split in sorted(self._splits):
            state = self._splits[split]
            self._flush(split, state)
            if state.writer is not None:
                state.writer.close()
                state.writer = None
            if not state.staged:  # a split with no rows still gets one (empty) shard
                path = self.staging / f"{split}-00000.parquet.partial"
                pq.write_table(self.schema.empty_table(), path, compression="zstd")
                state.staged.append(path)
                state.rows_per_file.append(0)
            count = len(state.staged)
            keep = set()
            for index, (path, rows) in enumerate(
                zip(state.staged, state.rows_per_file, strict=True)
            ):
                name = shard_name(split, index, count)
                final = data_dir / name
                os.replace(path, final)
                keep.add(name)
                shards.append(
                    ShardInfo(f"data/{name}", rows, final.stat().st_size, sha256_file(final))
                )
            for old in data_dir.glob(f"{split}-*.parquet"):
                if SHARD_NAME.match(old.name) and old.name not in keep:
                    old.unlink()
        return shards

    def remove_other_splits(self, keep: set[str]) -> None:
        """Shards of splits this build did not write (an earlier build's) are removed."""
        data_dir = self.out / "data"
        for old in data_dir.glob("*.parquet"):
            match = SHARD_NAME.match(old.name)
            if match and match.group("split") not in keep:
                old.unlink()
