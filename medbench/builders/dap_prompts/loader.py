"""Reading the description table back, for the DAP trainer: one random description of the
image's disease label per training step (paper 000, sec. 4)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def _parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    data = path / "data" if (path / "data").is_dir() else path
    files = sorted(data.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{path}: no Parquet files (expected data/*.parquet)")
    return files


def load_descriptions(path: str | Path) -> dict[str, list[str]]:
    """``{disease: [description, ...]}`` from a ``dap-prompts`` build folder (or one of its
    Parquet files), each list in ``index`` order."""
    indexed: dict[str, list[tuple[int, str]]] = {}
    for file in _parquet_files(Path(path)):
        table = pq.read_table(file, columns=["disease", "description", "index"])
        for row in table.to_pylist():
            indexed.setdefault(row["disease"], []).append((row["index"], row["description"]))
    return {disease: [text for _, text in sorted(items)] for disease, items in indexed.items()}


def sample_description(table: dict[str, list[str]], disease: str, rng: Any) -> str:
    """A uniformly random description of ``disease``. ``rng`` is a ``random.Random`` or a
    ``numpy.random.Generator``. The name is matched exactly, else ignoring case (so MS-CXR's
    'Pleural Effusion' finds 'pleural effusion')."""
    descriptions = table.get(disease)
    if descriptions is None:
        folded = {name.casefold(): name for name in table}
        if disease.casefold() not in folded:
            raise KeyError(f"no descriptions for {disease!r}; known: {', '.join(table)}")
        descriptions = table[folded[disease.casefold()]]
    if not descriptions:
        raise ValueError(f"the description list of {disease!r} is empty")
    if isinstance(rng, random.Random):
        return descriptions[rng.randrange(len(descriptions))]
    return descriptions[int(rng.integers(len(descriptions)))]
