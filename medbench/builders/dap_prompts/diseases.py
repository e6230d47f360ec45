"""Which diseases get descriptions, and which words count as mentioning each.

The default list is the set DAP is evaluated on (paper 000, sec. 4 "Datasets"): the eight
MS-CXR findings plus COVID-19 for COVID Rural; RSNA Pneumonia's label, pneumonia, is one of
MS-CXR's. The eight names are MS-CXR's ``category_name`` values (PhysioNet ``ms-cxr``;
paper 002, table 5 lists the same eight), lower-cased so they read naturally inside the prompt
("For the disease pleural effusion, ..."); a lookup by MS-CXR's spelling works through
``medbench.builders.dap_prompts.loader.sample_description``, which falls back to a
case-insensitive match.
"""

from __future__ import annotations

from medbench.builders.dap_prompts.filters import words

MS_CXR_FINDINGS: tuple[str, ...] = (
    "atelectasis",
    "cardiomegaly",
    "consolidation",
    "edema",
    "lung opacity",
    "pleural effusion",
    "pneumonia",
    "pneumothorax",
)
COVID_RURAL_FINDING = "COVID-19"
DEFAULT_DISEASES: tuple[str, ...] = (*MS_CXR_FINDINGS, COVID_RURAL_FINDING)

# A description must name its disease, by the name itself or one of these terms (medbench's
# choice; a term also matches with a trailing plural "s"/"es", e.g. "effusions"). A disease not
# in this table is matched by its own name only.
DISEASE_TERMS: dict[str, tuple[str, ...]] = {
    "atelectasis": ("atelectasis", "atelectatic", "atelectases"),
    "cardiomegaly": (
        "cardiomegaly",
        "cardiac enlargement",
        "enlarged heart",
        "cardiac silhouette",
        "cardiothoracic ratio",
    ),
    "consolidation": ("consolidation", "consolidative", "consolidated"),
    "edema": ("edema", "oedema"),
    "lung opacity": ("opacity", "opacities", "opacification"),
    "pleural effusion": ("effusion",),
    "pneumonia": ("pneumonia",),
    "pneumothorax": ("pneumothorax", "pneumothoraces"),
    "covid-19": ("covid-19", "covid", "sars-cov-2", "coronavirus"),
}


def disease_terms(disease: str) -> tuple[tuple[str, ...], ...]:
    """The word sequences that count as naming ``disease``."""
    by_words = {" ".join(words(name)): terms for name, terms in DISEASE_TERMS.items()}
    terms = (disease, *by_words.get(" ".join(words(disease)), ()))
    seen: dict[tuple[str, ...], None] = {}
    for term in terms:
        seen.setdefault(tuple(words(term)), None)
    return tuple(t for t in seen if t)


def parse_disease_list(text: str) -> tuple[str, ...]:
    """A comma-separated list, whitespace collapsed, duplicates (ignoring case) dropped."""
    diseases: dict[str, str] = {}
    for item in text.split(","):
        name = " ".join(item.split())
        if name:
            diseases.setdefault(name.casefold(), name)
    return tuple(diseases.values())
