"""Family G specs for the photo-like 2D sources: dermoscopy, endoscopy, fundus, ultrasound.

Modality and body part follow the paper's table C.2 (lower case): endoscopy and the nerve
ultrasound are "others", fundus "head and neck", BUSI "thorax".
"""

from medbench.builders.vgmed.families import Paired2DSource

ISIC2017 = Paired2DSource(
    id="ISIC2017",
    title="ISIC 2017 Task 1: lesion segmentation",
    modality="dermoscopy",
    body_part="skin",
    license="CC-BY-NC-4.0",
    homepage="https://challenge.isic-archive.com/data/#2017",
    anchor="ISIC-2017_Training_Data",
    # *.jpg only: the data folders also hold <id>_superpixels.png and a metadata CSV
    image_globs=[
        "ISIC-2017_Training_Data/*.jpg",
        "ISIC-2017_Validation_Data/*.jpg",
        "ISIC-2017_Test_v2_Data/*.jpg",
    ],
    mask="ISIC-2017_*_Part1_GroundTruth/{stem}_segmentation.png",
    label="skin lesion",
    notes="Image ids overlap ISIC 2016 and 2018: deduplicate across sources.",
)

ISIC2016 = Paired2DSource(
    id="ISIC2016",
    title="ISIC 2016 (ISBI) Task 1 (Part 1): lesion segmentation",
    modality="dermoscopy",
    body_part="skin",
    license="CC-BY-NC-4.0",
    homepage="https://challenge.isic-archive.com/data/#2016",
    anchor="ISBI2016_ISIC_Part1_Training_Data",
    image_globs=["ISBI2016_ISIC_Part1_Training_Data/*.jpg", "ISBI2016_ISIC_Part1_Test_Data/*.jpg"],
    mask="ISBI2016_ISIC_Part1_*_GroundTruth/{stem}_Segmentation.png",  # capital S in 2016
    label="skin lesion",
    notes="Licence as for the later ISIC challenges (UNVERIFIED for 2016). Ids overlap ISIC "
    "2017/2018.",
)

KVASIR_SEG = Paired2DSource(
    id="Kvasir-SEG",
    title="Kvasir-SEG: segmented polyp dataset",
    modality="endoscopy",
    body_part="others",
    license="research-and-education-only",
    homepage="https://datasets.simula.no/kvasir-seg/",
    anchor="images",  # the zip extracts to Kvasir-SEG/ (one wrapping folder is tolerated)
    image_globs=["images/*.jpg"],
    mask="masks/{stem}.jpg",  # JPEG masks: the binary decoder thresholds at 127
    label="polyp",
    # rows keep the mask boxes (as the paper); the shipped boxes are only cross-checked
    native_box_check={"path": "kavsir_bboxes.json", "format": "xyxy_by_stem", "min_iou": 0.5},
    notes="Boxes come from the masks. The native xyxy boxes in kavsir_bboxes.json (sic) are "
    "cross-checked against the mask's connected components: every disagreement is a "
    "'cross-check:' line in the report (whether xmax/ymax are inclusive is UNVERIFIED; at "
    "IoU 0.5 it does not matter). Body part: the paper says 'others' (gastrointestinal "
    "tract would be the anatomical answer).",
)

CVC_CLINICDB = Paired2DSource(
    id="CVC-ClinicDB",
    title="CVC-ClinicDB: colonoscopy polyp frames",
    modality="endoscopy",
    body_part="others",
    license="research-only",
    homepage="https://polyp.grand-challenge.org/CVCClinicDB/",
    anchor="Original",
    image_globs=["Original/*.tif"],
    mask="Ground Truth/{stem}.tif",  # folder name with a space; masks may be 3-channel
    label="polyp",
    notes="Official TIFF layout. The Kaggle mirror (PNG/Original, PNG/Ground Truth) is not "
    "read. 612 frames of 31 sequences: near-duplicate frames.",
)

BUSI = Paired2DSource(
    id="BUSI",
    title="BUSI: breast ultrasound images",
    modality="ultrasound",
    body_part="thorax",
    license="CC0-1.0",
    homepage="https://scholar.cu.edu.eg/?q=afahmy/pages/dataset",
    anchor="Dataset_BUSI_with_GT",
    # "<class> (n).png" never matches the masks "<class> (n)_mask*.png" in the same folder
    image_globs=[
        "Dataset_BUSI_with_GT/benign/benign (*).png",
        "Dataset_BUSI_with_GT/malignant/malignant (*).png",
        "Dataset_BUSI_with_GT/normal/normal (*).png",
    ],
    mask="{parent}/{stem}_mask*.png",  # _mask.png, _mask_1.png, ...: one lesion each
    label="breast tumor",
    notes="One label for benign and malignant: the family reader has no per-folder label "
    "(needs a reader option to name 'benign/malignant breast tumor'). Normal images have "
    "empty masks and give no sample. Licence CC0 as on the Kaggle mirror (UNVERIFIED).",
)

ADAM = Paired2DSource(
    id="ADAM",
    title="ADAM (iChallenge-AMD) task 2: optic disc segmentation",
    modality="fundus",
    body_part="head and neck",
    license="research-only",
    homepage="https://amd.grand-challenge.org/",
    anchor="Training400",
    image_globs=["Training400/AMD/*.jpg", "Training400/Non-AMD/*.jpg"],
    mask="Annotation-DF-Training400/Training400/Disc_Masks/{stem}.bmp",
    decoder="inverted",  # 0 = optic disc, 255 = background
    label="optic disc",
    # zipped download (AMD-Training400.zip → Training400/, DF-Annotation-Training400.zip →
    # Annotation-DF-Training400/, names UNVERIFIED): unpacked into the build's work folder
    archives=["*.zip"],
    notes="Polarity taken from PALM (UNVERIFIED for ADAM's own files); flip decoder to "
    "'binary' if the disc is white. All-255 masks (no visible disc) give no sample. Zips "
    "are unpacked in place (each into its own folder) when Training400/ is absent.",
)

PALM19 = Paired2DSource(
    id="PALM19",
    title="PALM (iChallenge-PM) 2019: optic disc segmentation",
    modality="fundus",
    body_part="head and neck",
    license="research-only",
    homepage="https://palm.grand-challenge.org/",
    anchor="PALM-Training400/PALM-Training400",
    image_globs=["PALM-Training400/PALM-Training400/*.jpg", "PALM-Validation400/*.jpg"],
    # PALM-Validation-GT/Disc_Masks, and PALM-Training400-Annotation-D&F/Disc_Masks either
    # at the top or inside PALM-Training400/ (where training.zip's copy extracts in place)
    mask="PALM-*/**/Disc_Masks/{stem}.bmp",
    decoder="inverted",  # 0 = optic disc, 255 = background
    label="optic disc",
    # training.zip, validation.zip, valid_gt.zip; the zips inside training.zip are unpacked
    # too, each into the folder it sits in
    archives=["*.zip"],
    notes="Read extracted, or from the zips (unpacked into the build's work folder when "
    "the anchor is absent). Assumed zip layout, from a third-party notebook and tree "
    "(UNVERIFIED on our own download): training.zip holds PALM-Training400/ with "
    "PALM-Training400.zip (→ PALM-Training400/*.jpg) and the Annotation-D&F / "
    "Annotation-Lession (sic) zips (→ PALM-Training400-Annotation-D&F/Disc_Masks, ...), "
    "each extracted into PALM-Training400/; validation.zip → PALM-Validation400/, "
    "valid_gt.zip → PALM-Validation-GT/. If the annotation zips extract elsewhere, the "
    "mask glob (any depth under PALM-*) still finds Disc_Masks unless it leaves PALM-*.",
)

POLYPDB = Paired2DSource(
    id="PolypDB",
    title="PolypDB: multi-centre, multi-modality colonoscopy polyps",
    modality="endoscopy",
    body_part="others",
    license="CC-BY-4.0",
    homepage="https://github.com/DebeshJha/PolypDB",
    anchor="WLI/images",
    # modality-wise view only: the centre-wise view repeats the same images
    image_globs=[f"{m}/images/*.jpg" for m in ("BLI", "FICE", "LCI", "NBI", "WLI")],
    mask="{parent}/../annotations/{stem}.jpg",  # JPEG masks, thresholded
    label="polyp",
    notes="Licence UNVERIFIED. Case ids are file stems: a stem repeated across modalities "
    "would collide (UNVERIFIED). Simula images may overlap Kvasir-SEG.",
)

ULTRASOUND_NERVE = Paired2DSource(
    id="UltrasoundNerve",
    title="Ultrasound Nerve Segmentation (Kaggle 2016)",
    modality="ultrasound",
    body_part="others",
    license="other (Kaggle competition rules)",
    redistributable=False,
    homepage="https://www.kaggle.com/c/ultrasound-nerve-segmentation",
    anchor="train",
    # "<subject>_<n>.tif" ends in a digit; the masks "<subject>_<n>_mask.tif" do not
    image_globs=["train/*[0-9].tif"],
    mask="train/{stem}_mask.tif",
    label="brachial plexus nerve",
    notes="test/ has no masks and is not read; train_masks.csv (RLE) is redundant. About "
    "59% of masks are empty. Split by subject (near-duplicate frames).",
)

SPECS = [
    ISIC2017,
    ISIC2016,
    KVASIR_SEG,
    CVC_CLINICDB,
    BUSI,
    ADAM,
    PALM19,
    POLYPDB,
    ULTRASOUND_NERVE,
]
