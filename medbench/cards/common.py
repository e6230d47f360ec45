"""What every dataset card shares: the Hub metadata of a one-config dataset whose split
``s`` is ``data/<s>-*.parquet``, rendering from a packaged template, and writing README.md."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from datasets import Features
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from huggingface_hub import DatasetCard, DatasetCardData


def size_category(n: int) -> str:
    """The Hub's size_categories bucket for ``n`` rows."""
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ]
    return next((name for bound, name in bounds if n < bound), "10M<n<100M")


def dataset_card_data(
    *,
    features: Features,
    splits: dict[str, tuple[int, int]],
    rows: int,
    total_bytes: int | None = None,
    **fields: Any,
) -> DatasetCardData:
    """``fields`` (pretty_name, license…, tags) plus size_categories for ``rows``, the
    default config's data files and the dataset info of ``splits``: split -> (bytes, rows).
    ``total_bytes`` (download and dataset size) defaults to the splits' bytes."""
    data = DatasetCardData(
        **fields,
        size_categories=[size_category(rows)],
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*"} for s in splits],
            }
        ],
    )
    if total_bytes is None:
        total_bytes = sum(num_bytes for num_bytes, _ in splits.values())
    info = DatasetInfo(
        features=features,
        splits=SplitDict(
            {
                s: SplitInfo(s, num_bytes=num_bytes, num_examples=num_examples)
                for s, (num_bytes, num_examples) in splits.items()
            }
        ),
        download_size=total_bytes,
        dataset_size=total_bytes,
    )
    DatasetInfosDict({"default": info}).to_dataset_card_data(data)
    return data


def packaged_template_card(data: DatasetCardData, template: str, **variables: Any) -> DatasetCard:
    """The card from ``template``, a Jinja file of the ``medbench.cards`` package."""
    path = resources.files("medbench.cards").joinpath(template)
    with resources.as_file(path) as template_path:
        return DatasetCard.from_template(data, template_path=str(template_path), **variables)


def write_readme(out: Path, card: DatasetCard) -> Path:
    """``<out>/README.md``, replaced atomically."""
    path = out / "README.md"
    tmp = path.with_name(f"README.md.tmp-{os.getpid()}")
    tmp.write_text(str(card), encoding="utf-8")
    os.replace(tmp, path)
    return path
