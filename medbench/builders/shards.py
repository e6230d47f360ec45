"""Hub-layout Parquet shards: ``data/<split>-NNNNN-of-NNNNN.parquet``.

Shard boundaries are planned from row sizes before anything is written, so every file
name carries the final shard count. Each shard is written to a staging folder and then
renamed into place, so a reader never sees a partial shard; shards of an earlier build
that are not part of the new set are removed last.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MAX_SHARD_BYTES = 500 * 1000 * 1000  # the Hub's default, datasets' MAX_SHARD_SIZE
IMAGE_ROW_GROUP_SIZE = 100  # the dataset viewer reads whole row groups
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
    keep = {Path(s.path).name for s in written}
    for old in data_dir.glob(f"{split}-*.parquet"):
        if SHARD_NAME.match(old.name) and old.name not in keep:
            old.unlink()
    return written
