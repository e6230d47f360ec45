"""The VGMED dataset card (README.md) from the build manifest, via huggingface_hub."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from huggingface_hub import DatasetCard, DatasetCardData

from medbench.schemas import VGMED_FEATURES

TEMPLATE = "vgmed_card.md"


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


def card_data(manifest: dict) -> DatasetCardData:
    split = manifest["config"]["split"]
    shards = manifest["shards"]
    num_bytes = sum(s["num_bytes"] for s in shards)
    used = [s for s in manifest["sources"] if s["pairs"]]
    data = DatasetCardData(
        pretty_name="VGMED",
        license="other",
        license_name="per-source",
        license_details="Rows keep the licence of their source dataset: "
        + "; ".join(f"{s['id']}: {s['license']}" for s in used),
        language=["en"],
        task_categories=["visual-question-answering", "object-detection", "image-text-to-text"],
        tags=["medical", "visual-grounding", "radiology", "medbench"],
        size_categories=[size_category(manifest["counts"]["rows"])],
        source_datasets=[s["id"] for s in used],
        configs=[
            {"config_name": "default", "data_files": [{"split": split, "path": f"data/{split}-*"}]}
        ],
    )
    info = DatasetInfo(
        features=VGMED_FEATURES,
        splits=SplitDict(
            {split: SplitInfo(split, num_bytes=num_bytes, num_examples=manifest["counts"]["rows"])}
        ),
        download_size=num_bytes,
        dataset_size=num_bytes,
    )
    DatasetInfosDict({"default": info}).to_dataset_card_data(data)
    return data


def render_card(manifest: dict, load_path: str) -> DatasetCard:
    template = resources.files("medbench.cards").joinpath(TEMPLATE)
    with resources.as_file(template) as template_path:
        return DatasetCard.from_template(
            card_data(manifest),
            template_path=str(template_path),
            pretty_name="VGMED",
            attribute_source=manifest["attribute_question_source"],
            llm=manifest.get("llm", {}),
            medbench_version=manifest["medbench_version"],
            counts=manifest["counts"],
            sources=manifest["sources"],
            datasets_used=sum(1 for s in manifest["sources"] if s["pairs"]),
            config=manifest["config"],
            split=manifest["config"]["split"],
            load_path=load_path,
        )


def write_card(out: Path, manifest: dict) -> Path:
    card = render_card(manifest, load_path=str(out))
    path = out / "README.md"
    tmp = out / "README.md.tmp"
    tmp.write_text(str(card), encoding="utf-8")
    tmp.replace(path)
    return path
