"""Tiny synthetic datasets in each source's REAL on-disk layout, with known planted truth.

``write_demo_root(root)`` writes every replica to ``root/<dataset id>/`` (the folder a user
would have after extracting the official archives) and returns what was planted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medbench.demo import (
    abdomenct_1k,
    adam,
    amos2022,
    atm2022,
    autopet,
    brats2013,
    brats2015,
    brats2018,
    brats2019,
    brats2020,
    brats2021,
    btcv,
    busi,
    chaos,
    chest_image_pneum,
    ct_org,
    ctpelvic1k,
    cvc_clinicdb,
    flare21,
    flare22,
    hvsmr2016,
    isic2016,
    isic2017,
    isic2018,
    isles,
    kits2019,
    kits2021,
    kvasir_seg,
    luna16,
    msd_brain_tumor,
    msd_liver,
    msd_pancreas,
    msd_spleen,
    palm19,
    polypdb,
    promise09,
    promise12,
    siim_acr,
    slake,
    structseg2019_task1,
    structseg2019_task2,
    totalsegmentator,
    ultrasound_nerve,
    word,
)
from medbench.demo.truth import PlantedStructure

Writer = Callable[[Path, int], list[PlantedStructure]]

REPLICAS: dict[str, Writer] = {
    "MSD-Spleen": msd_spleen.write,
    "BraTS2021": brats2021.write,
    "BraTS2015": brats2015.write,
    "TotalSegmentator": totalsegmentator.write,
    "CHAOS": chaos.write,
    "SIIM-ACR": siim_acr.write,
    "ISIC2018": isic2018.write,
    "SLAKE": slake.write,
    "BTCV": btcv.write,
    "WORD": word.write,
    "FLARE22": flare22.write,
    "FLARE21": flare21.write,
    "AbdomenCT-1K": abdomenct_1k.write,
    "AMOS2022": amos2022.write,
    "ISIC2017": isic2017.write,
    "ISIC2016": isic2016.write,
    "Kvasir-SEG": kvasir_seg.write,
    "CVC-ClinicDB": cvc_clinicdb.write,
    "BUSI": busi.write,
    "ADAM": adam.write,
    "PALM19": palm19.write,
    "PolypDB": polypdb.write,
    "UltrasoundNerve": ultrasound_nerve.write,
    "BraTS2020": brats2020.write,
    "BraTS2019": brats2019.write,
    "BraTS2018": brats2018.write,
    "MSD-BrainTumor": msd_brain_tumor.write,
    "BraTS2013": brats2013.write,
    "ISLES": isles.write,
    "MSD-Liver": msd_liver.write,
    "MSD-Pancreas": msd_pancreas.write,
    "KiTS2019": kits2019.write,
    "Chest_Image_Pneum": chest_image_pneum.write,
    "KiTS2021": kits2021.write,
    "CT-ORG": ct_org.write,
    "ATM2022": atm2022.write,
    "HVSMR2016": hvsmr2016.write,
    "PROMISE12": promise12.write,
    "PROMISE09": promise09.write,
    "StructSeg2019-Task1": structseg2019_task1.write,
    "StructSeg2019-Task2": structseg2019_task2.write,
    "CTPelvic1K": ctpelvic1k.write,
    "autoPET": autopet.write,
    "LUNA16": luna16.write,
}


def write_demo_root(
    root: Path, seed: int = 0, datasets: list[str] | None = None
) -> list[PlantedStructure]:
    """Write the chosen replicas (all by default) under ``root/<dataset id>/``."""
    names = list(REPLICAS) if datasets is None else list(datasets)
    unknown = sorted(set(names) - set(REPLICAS))
    if unknown:
        raise KeyError(f"no replica for {unknown}; known: {sorted(REPLICAS)}")
    planted: list[PlantedStructure] = []
    for name in names:
        target = Path(root) / name
        target.mkdir(parents=True, exist_ok=True)
        planted += REPLICAS[name](target, seed)
    return planted


__all__ = ["REPLICAS", "PlantedStructure", "write_demo_root"]
