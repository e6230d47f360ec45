"""What every chest X-ray grounding build writes: ``data/<split>-*.parquet`` (GroundingRow),
``manifest.json``, ``report/skipped.csv`` + ``report/missing_images.csv`` and the card.

Rows carry ``image_path`` into the user's licensed image store, not pixels; with
``embed_images`` the bytes are read one shard at a time, so memory stays bounded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

from medbench import __version__
from medbench.builders.cxr_grounding.embed import DICOM_RENDERING, image_bytes
from medbench.builders.cxr_grounding.records import (
    ReadResult,
    Sample,
    SourceInfo,
    box_count_bucket,
)
from medbench.builders.outputs import package_versions, write_csv, write_json_atomic
from medbench.builders.shards import (
    TEXT_ROW_BYTES,
    ShardInfo,
    remove_other_splits,
    sha256_file,
    write_split,
)
from medbench.cards.common import dataset_card_data, write_readme
from medbench.schemas.fields import to_arrow_row
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA, GROUNDING_FEATURES

SPLIT_ORDER = ("train", "validation", "val", "validate", "test")
SKIP_COLUMNS = ["item", "kind", "reason"]
ISSUE_COLUMNS = ["image_path", "problem", "outcome"]
NO_LABEL = "(none)"  # rows whose source gives no label (e.g. PadChest-GR normal sentences)


@dataclass(frozen=True)
class BenchmarkText:
    """What the card says about one benchmark beyond the manifest."""

    pretty_name: str
    query: str  # how the text query is chosen
    boxes: str  # where the boxes come from
    splits: str  # where the splits come from


def split_order(splits: list[str]) -> list[str]:
    known = [s for s in SPLIT_ORDER if s in splits]
    return known + sorted(s for s in splits if s not in SPLIT_ORDER)


def write_rows(out: Path, samples: list[Sample], embed_images: bool) -> list[ShardInfo]:
    by_split: dict[str, list[Sample]] = {}
    for s in samples:
        by_split.setdefault(s.row.split, []).append(s)
    shards: list[ShardInfo] = []
    for split in split_order(list(by_split)):
        rows = by_split[split]

        def size(s: Sample) -> int:
            if embed_images and s.image_file is not None:
                return TEXT_ROW_BYTES + s.image_file.stat().st_size
            return TEXT_ROW_BYTES

        def arrow_rows(span: range, rows: list[Sample] = rows):
            for i in span:
                sample = rows[i]
                row = sample.row
                if embed_images and sample.image_file is not None:
                    row = row.model_copy(update={"image": image_bytes(sample.image_file)})
                yield to_arrow_row(row)

        shards += write_split(
            out, split, GROUNDING_ARROW_SCHEMA, [size(s) for s in rows], arrow_rows
        )
    # shards of splits this build no longer has would be loaded by the card's globs
    remove_other_splits(out, by_split)
    return shards


def _counts(samples: list[Sample]) -> dict:
    rows = [s.row for s in samples]
    return {
        "rows": len(rows),
        "images": len({r.image_id for r in rows}),
        "boxes": sum(len(r.boxes) for r in rows),
        "groundable": sum(r.groundable for r in rows),
        "by_label": dict(sorted(Counter(r.label or NO_LABEL for r in rows).items())),
        "by_box_count": {
            k: sum(box_count_bucket(len(r.boxes)) == k for r in rows) for k in ("0", "1", "2+")
        },
        "by_image_size_source": dict(sorted(Counter(r.image_size_source for r in rows).items())),
    }


def _input_entry(path: Path) -> dict:
    if path.is_dir():
        return {"path": str(path), "files": sum(1 for p in path.iterdir() if p.is_file())}
    return {"path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def build_manifest(
    name: str,
    source: SourceInfo,
    result: ReadResult,
    shards: list[ShardInfo],
    config: dict,
    embed_images: bool,
) -> dict:
    samples = result.samples
    splits = split_order(sorted({s.row.split for s in samples}))
    embedded = sum(1 for s in samples if embed_images and s.image_file is not None)
    return {
        "name": name,
        "medbench_version": __version__,
        "config": config,
        "input": {role: _input_entry(path) for role, path in result.inputs.items()},
        "image_root": str(result.image_root) if result.image_root else None,
        "packages": package_versions(),
        # pixels in the shards make the build itself a copy of the restricted images
        "images_embedded": embed_images,
        "image_rendering": DICOM_RENDERING if embed_images else None,
        "counts": {
            **_counts(samples),
            "images_embedded": embedded,
            "by_split": {
                split: _counts([s for s in samples if s.row.split == split]) for split in splits
            },
            "skipped": len(result.skipped),
            "skipped_by_kind": dict(sorted(Counter(s.kind for s in result.skipped).items())),
            "image_issues": len(result.image_issues),
            "notes": dict(sorted(result.notes.items())),
        },
        # one entry, in the shape `medbench publish` checks: credentialed / not
        # redistributable sources with rows are refused for public repos
        "sources": [
            {
                "id": source.id,
                "title": source.title,
                "license": source.license,
                "homepage": source.homepage,
                "terms": source.terms,
                "credentialed": source.credentialed,
                "redistributable": False if embed_images else source.redistributable,
                "images_embedded": embed_images,
                "found": True,
                "pairs": len(samples),
            }
        ],
        "shards": [vars(s) for s in shards],
        "skipped": [vars(s) for s in result.skipped],
        "image_issues": [vars(i) for i in result.image_issues],
    }


def write_report(out: Path, result: ReadResult) -> None:
    report = out / "report"
    report.mkdir(parents=True, exist_ok=True)
    write_csv(
        report / "skipped.csv",
        SKIP_COLUMNS,
        [[s.item, s.kind, s.reason] for s in result.skipped],
    )
    write_csv(
        report / "missing_images.csv",
        ISSUE_COLUMNS,
        [[i.image_path, i.problem, i.outcome] for i in result.image_issues],
    )


CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ pretty_name }}

Chest X-ray grounding benchmark rows built by `medbench {{ medbench_version }}`
(`medbench build {{ name }}`) from {{ source.title }}: each row is one text query on one
image with zero, one or several boxes `[x1, y1, x2, y2]` in pixels of the original image
(the `GroundingRow` schema of generalised medical phrase grounding, paper 002 sec. 3.1).

## Licence and images

**{{ source.license }}** ({{ source.terms }}).
{% if images_embedded %}
**This build embeds the images (`--embed-images`) for local use only.** It is a copy of
restricted data: do not share it or push it to a public repository (`medbench publish`
refuses to).
{% else %}
**The images are not included.** Rows carry `image_path`, relative to your own licensed
copy of {{ source.image_store }}; obtain the images from the source under its terms.
{% endif %}
{% if source.credentialed %}Access to the source is credentialed. {% endif %}This dataset
may not be redistributed: `medbench publish` refuses public uploads of it.

Cite: {{ source.citation }}.

## Contents

| split | rows | images | boxes | 0 boxes | 1 box | 2+ boxes |
|---|---|---|---|---|---|---|
{% for r in split_rows %}| {{ r | join(" | ") }} |
{% endfor %}
Left out: {{ counts.skipped }} annotation item(s), each with its reason in
`report/skipped.csv`; images missing or unreadable in the image store:
{{ counts.image_issues }} (`report/missing_images.csv`, with what became of their rows).

### Labels

| label | rows |
|---|---|
{% for k, v in counts.by_label.items() %}| {{ k }} | {{ v }} |
{% endfor %}
## How it was built

- Query: {{ text.query }}
- Boxes: {{ text.boxes }}
- Splits: {{ text.splits }}
- Image sizes: each row's `image_size_source` says where its `image_width` /
  `image_height` came from (rows by source: {% for k, v in counts.by_image_size_source.items()
  %}`{{ k }}` {{ v }}{{ ", " if not loop.last }}{% endfor %}); see `manifest.json` for the
  inputs (with checksums), counts and every left-out item.

## Loading

```python
from datasets import load_dataset

ds = load_dataset("{{ load_path }}", split="{{ first_split }}")
row = ds[0]
row["sentence"], row["boxes"], row["groundable"]
image_file = IMAGE_ROOT / row["image_path"]  # your licensed copy
```
"""


def card_data(manifest: dict, text: BenchmarkText) -> DatasetCardData:
    by_split = manifest["counts"]["by_split"]
    num_bytes = {s: 0 for s in by_split}
    for shard in manifest["shards"]:
        split = Path(shard["path"]).name.rsplit("-", 3)[0]
        num_bytes[split] = num_bytes.get(split, 0) + shard["num_bytes"]
    source = manifest["sources"][0]
    embedded, notes = manifest["images_embedded"], manifest["counts"]["notes"]
    return dataset_card_data(
        features=GROUNDING_FEATURES,
        splits={s: (num_bytes[s], c["rows"]) for s, c in by_split.items()},
        rows=manifest["counts"]["rows"],
        total_bytes=sum(num_bytes.values()),
        pretty_name=text.pretty_name,
        license="other",
        license_name=source["id"].lower() + "-terms",
        license_link=source["terms"],
        license_details=f"{source['license']}. Images are not redistributed"
        + (" (this local build embeds them: do not share it)." if embedded else "."),
        language=["en", "es"] if notes.get("queries_in_spanish") else ["en"],
        task_categories=["object-detection", "zero-shot-object-detection"],
        tags=["medical", "chest-x-ray", "visual-grounding", "phrase-grounding", "medbench"],
    )


def write_card(out: Path, manifest: dict, source: SourceInfo, text: BenchmarkText) -> Path:
    card = DatasetCard.from_template(
        card_data(manifest, text),
        template_str=CARD_TEMPLATE,
        pretty_name=text.pretty_name,
        name=manifest["name"],
        medbench_version=manifest["medbench_version"],
        source=source,
        images_embedded=manifest["images_embedded"],
        counts=manifest["counts"],
        text=text,
        load_path=str(out),
        first_split=next(iter(manifest["counts"]["by_split"]), "test"),
        split_rows=[
            [s, c["rows"], c["images"], c["boxes"], *c["by_box_count"].values()]
            for s, c in manifest["counts"]["by_split"].items()
        ],
    )
    return write_readme(out, card)


def write_manifest(out: Path, manifest: dict) -> None:
    write_json_atomic(out / "manifest.json", manifest)
