"""Med-VQA layout replicas: each benchmark's published files in miniature (3–6 questions),
with planted problems (a missing image, an unusable record) and planted normalisation cases.

Not part of ``medbench.demo.write_demo_root`` (that one lists VGMED sources).
``write_all(root)`` writes ``root/<benchmark>/`` for the six benchmarks and ``root/huatuo/``
(HuatuoGPT-Vision's combined evaluation data); each module's docstring lists what it plants.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.vqa import huatuo, mmmu, omnimedvqa, pathvqa, pmc_vqa, slake, vqa_rad

REPLICAS = {
    "vqa-rad": vqa_rad.write,
    "slake": slake.write,
    "pathvqa": pathvqa.write,
    "pmc-vqa": pmc_vqa.write,
    "omnimedvqa": omnimedvqa.write,
    "mmmu-med": mmmu.write,
    "huatuo": huatuo.write,
}


def write_all(root: Path, only: tuple[str, ...] | None = None) -> Path:
    """Write the replicas (all, or the folders named in ``only``) under ``root``."""
    root = Path(root)
    for name, write in REPLICAS.items():
        if only is None or name in only:
            write(root / name)
    return root
