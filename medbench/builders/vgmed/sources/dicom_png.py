"""Family E specs: DICOM series with per-slice PNG masks."""

from medbench.builders.vgmed.families import DicomPngSource, DicomSeriesMasks

CHAOS = DicomPngSource(
    id="CHAOS",
    title="CHAOS challenge, MR abdominal organs (Task 4/5 training sets)",
    modality="MR",
    body_part="abdomen",
    license="CC-BY-SA-4.0",
    homepage="https://chaos.grand-challenge.org/",
    anchor="CHAOS_Train_Sets",
    case_glob="CHAOS_Train_Sets/Train_Sets/MR/*",
    series=[
        DicomSeriesMasks(channel="T2SPIR", dicom_dir="T2SPIR/DICOM_anon", mask_dir="T2SPIR/Ground"),
        DicomSeriesMasks(
            channel="T1DUAL-InPhase",
            dicom_dir="T1DUAL/DICOM_anon/InPhase",
            mask_dir="T1DUAL/Ground",
        ),
        # One ground-truth set serves both phases; it is named after the in-phase files.
        DicomSeriesMasks(
            channel="T1DUAL-OutPhase",
            dicom_dir="T1DUAL/DICOM_anon/OutPhase",
            mask_dir="T1DUAL/Ground",
            masks_named_after="T1DUAL/DICOM_anon/InPhase",
        ),
    ],
    # Grey values in the Ground PNGs (nominal 63/126/189/252) vary slightly between files.
    mask_ranges={
        "liver": (55, 70),
        "right kidney": (110, 135),
        "left kidney": (175, 200),
        "spleen": (240, 255),
    },
)

SPECS = [CHAOS]
