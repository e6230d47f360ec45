"""The VGMED dataset card (README.md) from the build manifest, via huggingface_hub."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

from medbench.cards.common import dataset_card_data, packaged_template_card, write_readme
from medbench.schemas import VGMED_FEATURES

TEMPLATE = "vgmed_card.md"


def card_data(manifest: dict) -> DatasetCardData:
    split = manifest["config"]["split"]
    rows = manifest["counts"]["rows"]
    used = [s for s in manifest["sources"] if s["pairs"]]
    return dataset_card_data(
        features=VGMED_FEATURES,
        splits={split: (sum(s["num_bytes"] for s in manifest["shards"]), rows)},
        rows=rows,
        pretty_name="VGMED",
        license="other",
        license_name="per-source",
        license_details="Rows keep the licence of their source dataset: "
        + "; ".join(f"{s['id']}: {s['license']}" for s in used),
        language=["en"],
        task_categories=["visual-question-answering", "object-detection", "image-text-to-text"],
        tags=["medical", "visual-grounding", "radiology", "medbench"],
        source_datasets=[s["id"] for s in used],
    )


def render_card(manifest: dict, load_path: str) -> DatasetCard:
    return packaged_template_card(
        card_data(manifest),
        TEMPLATE,
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
    return write_readme(out, render_card(manifest, load_path=str(out)))
