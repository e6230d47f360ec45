"""Family H specs: boxes shipped with the images."""

from medbench.builders.vgmed.families import NativeBoxSource

SLAKE = NativeBoxSource(
    id="SLAKE",
    title="SLAKE 1.0 (detection boxes)",
    modality="CT",  # per image from the QA files; CT only when an image has no QA entry
    modalities=["CT", "MR", "X-ray"],
    body_part="various",
    license="CC-BY-4.0",
    homepage="https://www.med-vqa.com/slake/",
    anchor="Slake1.0",
    case_glob="Slake1.0/imgs/xmlab*",
    image="source.jpg",
    boxes="detection.json",
    qa_files=["Slake1.0/train.json", "Slake1.0/validate.json", "Slake1.0/test.json"],
    modality_names={"MRI": "MR", "X-Ray": "X-ray", "CT": "CT"},
    body_part_names={
        "Abdomen": "abdomen",
        "Chest": "thorax",
        "Lung": "thorax",
        "Brain": "head and neck",
        "Brain_Tissue": "head and neck",
        "Brain_Face": "head and neck",
        "Neck": "head and neck",
        "Pelvic Cavity": "pelvis",
    },
    notes="Boxes are used as shipped ([x, y, w, h] pixels); mask.png is not read.",
)

SPECS = [SLAKE]
