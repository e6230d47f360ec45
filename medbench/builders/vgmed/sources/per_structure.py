"""Family D specs: one mask file per structure."""

from medbench.builders.vgmed.families import PerStructureSource

TOTALSEGMENTATOR = PerStructureSource(
    id="TotalSegmentator",
    title="TotalSegmentator CT dataset v2.0.1",
    modality="CT",
    body_part="whole body",
    license="CC-BY-4.0",
    homepage="https://zenodo.org/records/10047292",
    anchor="Totalsegmentator_dataset_v201",
    case_glob="Totalsegmentator_dataset_v201/s*",
    image="ct.nii.gz",
    mask_glob="segmentations/*.nii.gz",
    ct_window="abdomen",
    notes="Structure names come from file stems (kidney_right → right kidney); v1 names "
    "map the same way. All-zero files (structures outside the field of view) are listed "
    "as skipped.",
)

SPECS = [TOTALSEGMENTATOR]
