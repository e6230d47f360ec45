"""``medbench build dap-prompts``: the DAP disease-description table (paper 000, sec. 4, app. D).

Output folder::

    data/train-00000-of-00001.parquet   disease, description, index, source, prompt_id, prompt_hash
    report/rejected.csv                 every sentence not kept, with its reason
    manifest.json                       config, counts per disease, shortfalls, LLM requests/tokens
    README.md                           dataset card
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from medbench import __version__
from medbench.builders.dap_prompts.collect import Collected, collect
from medbench.builders.dap_prompts.diseases import DEFAULT_DISEASES
from medbench.builders.dap_prompts.filters import (
    ARTICLES,
    LOCATION_WORDS_FILE,
    MAX_WORDS,
    MIN_WORDS,
    location_words,
)
from medbench.builders.dap_prompts.output import (
    RECORDED_PACKAGES,
    write_card,
    write_rejected,
    write_table,
)
from medbench.builders.outputs import package_versions, write_json_atomic
from medbench.builders.shards import ShardInfo
from medbench.llm.runner import LLMClient
from medbench.prompts.templates import load_template
from medbench.schemas.dap_prompts import DAPDescriptionRow

PROMPT_ID = "dap-disease-descriptions"
PAPER_PER_DISEASE = 50  # paper 000, sec. 4: "50 unique text descriptions per disease label"
DEFAULT_MAX_ROUNDS = 4  # the first request and at most three re-asks with another seed


@dataclass(frozen=True)
class DAPPromptsConfig:
    out: Path
    diseases: tuple[str, ...] = DEFAULT_DISEASES
    per_disease: int = PAPER_PER_DISEASE
    seed: int = 0
    max_rounds: int = DEFAULT_MAX_ROUNDS
    split: str = "train"

    def __post_init__(self) -> None:
        if not self.diseases:
            raise ValueError("no diseases given")
        if self.per_disease < 1:
            raise ValueError("per_disease must be at least 1")
        if self.max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")

    def public_dict(self) -> dict:
        return {
            "diseases": list(self.diseases),
            "per_disease": self.per_disease,
            "seed": self.seed,
            "max_rounds": self.max_rounds,
            "split": self.split,
            "min_words": MIN_WORDS,
            "max_words": MAX_WORDS,
            "dedup_ignores": ["case", "whitespace", "punctuation", *sorted(ARTICLES)],
        }


@dataclass
class DAPPromptsResult:
    out: Path
    rows: list[DAPDescriptionRow]
    collected: Collected
    shards: list[ShardInfo]
    manifest: dict = field(repr=False)

    @property
    def shortfalls(self) -> dict[str, dict]:
        return self.manifest["shortfalls"]


def build_dap_prompts(config: DAPPromptsConfig, client: LLMClient) -> DAPPromptsResult:
    template = load_template(PROMPT_ID)
    collected = collect(
        client, template, config.diseases, config.per_disease, config.seed, config.max_rounds
    )
    source = client.provenance(template)
    rows = [
        DAPDescriptionRow(
            disease=disease,
            description=text,
            index=index,
            source=source,
            prompt_id=template.id,
            prompt_hash=template.sha256,
        )
        for disease in config.diseases
        for index, text in enumerate(collected.outcomes[disease].kept)
    ]
    config.out.mkdir(parents=True, exist_ok=True)
    shards = write_table(config.out, config.split, rows)
    write_rejected(config.out, collected.rejections)
    by_disease = {d: collected.outcomes[d].summary(config.per_disease) for d in config.diseases}
    words = location_words()
    manifest = {
        "name": "dap-prompts",
        "medbench_version": __version__,
        "config": config.public_dict(),
        "packages": package_versions(RECORDED_PACKAGES),
        "prompt": {"id": template.id, "sha256": template.sha256, "source": template.source},
        "location_words": {
            "file": f"medbench/prompts/{LOCATION_WORDS_FILE}",
            "sha256": words.sha256,
            "entries": len(words.entries),
        },
        "description_source": source,
        "counts": {
            "rows": len(rows),
            "rejected": len(collected.rejections),
            "by_disease": by_disease,
        },
        "shortfalls": {
            d: {"kept": c["kept"], "wanted": c["wanted"], "missing": c["wanted"] - c["kept"]}
            for d, c in by_disease.items()
            if c["kept"] < c["wanted"]
        },
        "llm": collected.stats.as_dict(),
        "shards": [vars(s) for s in shards],
    }
    write_json_atomic(config.out / "manifest.json", manifest)
    write_card(config.out, manifest)
    return DAPPromptsResult(config.out, rows, collected, shards, manifest)


def shortfall_line(shortfalls: dict[str, dict]) -> str:
    """One line naming every disease that got fewer descriptions than asked for."""
    parts = [f"{d} {s['kept']}/{s['wanted']}" for d, s in shortfalls.items()]
    return "shortfall (kept/wanted): " + ", ".join(parts)
