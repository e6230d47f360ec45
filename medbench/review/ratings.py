"""``medbench review import``: record clinician ratings on the rows, drop low-rated ones.

Ratings go into each row's ``review`` struct; a row rated below ``KEEP_AT_LEAST`` on any
scale is removed from the shards and listed (with its scores) in ``manifest.json`` and
``report/review_dropped.csv``. Shards are rewritten atomically; the card is re-rendered.
Ratings are not part of a build: after a rebuild, import the same CSV again.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from medbench.builders.outputs import write_json_atomic
from medbench.builders.shards import write_split
from medbench.builders.vgmed.build import ROW_OVERHEAD_BYTES
from medbench.cards.vgmed import write_card
from medbench.review.export import shard_paths
from medbench.review.scales import KEEP_AT_LEAST, SCALES
from medbench.schemas import VGMED_ARROW_SCHEMA


class RatingsError(Exception):
    """A ratings file that cannot be applied; one line naming the file and row."""


@dataclass
class ImportResult:
    rated: int = 0
    kept: int = 0
    dropped: list[dict] = field(default_factory=list)


def read_ratings(path: Path) -> dict[str, dict[str, int | None]]:
    """sample_id → {scale: score or None}; every problem is a RatingsError naming the row."""
    ratings: dict[str, dict[str, int | None]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"sample_id", *SCALES} - set(reader.fieldnames or [])
        if missing:
            raise RatingsError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, record in enumerate(reader, start=2):
            scores: dict[str, int | None] = {}
            for scale in SCALES:
                text = (record[scale] or "").strip()
                if not text:
                    scores[scale] = None
                    continue
                if not text.isdigit() or not 1 <= int(text) <= 5:
                    raise RatingsError(
                        f"{path}:{line}: {scale} must be an integer 1-5, got {text!r}"
                    )
                scores[scale] = int(text)
            if any(v is not None for v in scores.values()):
                ratings[record["sample_id"].strip()] = scores
    return ratings


def import_ratings(out: Path, ratings_path: Path) -> ImportResult:
    ratings = read_ratings(ratings_path)
    table = pa.concat_tables(pq.read_table(p, schema=VGMED_ARROW_SCHEMA) for p in shard_paths(out))
    ids = table.column("sample_id").to_pylist()
    unknown = sorted(set(ratings) - set(ids))
    if unknown:
        raise RatingsError(
            f"{ratings_path}: unknown sample_id {unknown[0]} ({len(unknown)} in all)"
        )
    reviews = table.column("review").to_pylist()
    keep, result = [], ImportResult()
    for i, sample_id in enumerate(ids):
        scores = ratings.get(sample_id)
        if scores is not None:
            result.rated += 1
            reviews[i] = scores
            low = [s for s, v in scores.items() if v is not None and v < KEEP_AT_LEAST]
            if low:
                result.dropped.append({"sample_id": sample_id, "below_threshold": low, **scores})
                continue
        keep.append(i)
    review_type = VGMED_ARROW_SCHEMA.field("review").type
    table = table.set_column(
        table.schema.get_field_index("review"), "review", pa.array(reviews, type=review_type)
    )
    table = table.take(pa.array(keep, type=pa.int64())).replace_schema_metadata(
        VGMED_ARROW_SCHEMA.metadata
    )
    result.kept = table.num_rows
    images = table.column("image").to_pylist()
    sizes = [len(img["bytes"]) + ROW_OVERHEAD_BYTES for img in images]
    manifest_path = out / "manifest.json"
    import json

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    split = manifest["config"]["split"]
    shards = write_split(
        out,
        split,
        VGMED_ARROW_SCHEMA,
        sizes,
        lambda r: table.slice(r.start, len(r)).to_pylist(),
        max_bytes=manifest["config"]["max_shard_bytes"],
    )
    _update_manifest(manifest, table, shards, ratings_path, result)
    write_json_atomic(manifest_path, manifest)
    _write_dropped_csv(out / "report" / "review_dropped.csv", result.dropped, table)
    write_card(out, manifest)
    return result


def _update_manifest(manifest, table, shards, ratings_path, result) -> None:
    rows = table.select(["pair_id", "dataset", "modality", "body_part", "question_type"])
    records = rows.to_pylist()
    pairs = {r["pair_id"]: r for r in records}
    counts = manifest["counts"]
    counts["rows"] = len(records)
    counts["image_box_pairs"] = len(pairs)
    counts["by_question_type"] = dict(Counter(r["question_type"] for r in records))
    for key, column in (
        ("by_dataset", "dataset"),
        ("by_modality", "modality"),
        ("by_body_part", "body_part"),
    ):
        counts[key] = dict(sorted(Counter(p[column] for p in pairs.values()).items()))
    per_dataset = counts["by_dataset"]
    for source in manifest["sources"]:
        source["pairs"] = per_dataset.get(source["id"], 0)
    manifest["shards"] = [vars(s) for s in shards]
    manifest["review"] = {
        "ratings_file": ratings_path.name,
        "ratings_sha256": hashlib.sha256(ratings_path.read_bytes()).hexdigest(),
        "keep_at_least": KEEP_AT_LEAST,
        "rated_rows": result.rated,
        "dropped_rows": result.dropped,
    }


def _write_dropped_csv(path: Path, dropped: list[dict], table) -> None:
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sample_id", *SCALES, "below_threshold"])
        for d in dropped:
            writer.writerow(
                [d["sample_id"], *(d[s] for s in SCALES), ";".join(d["below_threshold"])]
            )
