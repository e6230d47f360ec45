"""Layout replica of the GMPG-ImaGenome inputs, as PhysioNet ships them, with planted cases.

``write(root)`` writes:

- ``chest-imagenome/silver_dataset/scene_graph.zip`` (members ``scene_graph/<dicom_id>_SceneGraph
  .json``) or, with ``form="folder"``, the extracted ``silver_dataset/scene_graph/`` folder;
- ``chest-imagenome/silver_dataset/splits/{train,valid,test}.csv`` and ``images_to_avoid.csv``;
- ``mimic-cxr-reports/files/pXX/pXXXXXXXX/sXXXXXXXX.txt``;
- ``mimic-cxr-jpg/files/.../<dicom_id>.jpg`` for some images (uniform grey, real sizes) and
  ``mimic-cxr-jpg/mimic-cxr-2.0.0-metadata.csv.gz``;
- ``ms-cxr/MS_CXR_Local_Alignment_v1.1.0.csv`` overlapping one study.

Each scene graph has the keys public loaders read (see
``medbench.builders.gmpg_imagenome.scene_graph``): all 36 ``objects`` with ``original_*`` and
224-space coordinates, ``attributes`` per mentioned region with ``phrases`` and
``category|yes/no|name`` lists, and ``relationships``. Keys no public loader reads
(``phrase_IDs`` values, ``relationships`` entries, ``gender``...) are filled in plausible
shapes, marked UNVERIFIED: the builder does not read them.

The planted images (``IMAGES``; the tests count their expected rows by hand):

- ``A`` train: negatives by flags, a normal sentence, bilateral specificity, a phrase with a line
  break, a text-only region (right breast), two report sentences with no region;
- ``B`` train: a box beyond the image (clipped), a zero-width box (dropped), a costophrenic
  angle box outside its lower zone (one hierarchy violation), a ``nlp|yes|normal`` sentence;
- ``C`` train, in MS-CXR; ``D`` train, same study as ``C`` (excluded by study);
- ``E`` valid, gold image (``images_to_avoid.csv``): excluded;
- ``F`` test, gold image but test: kept; its size only in the metadata CSV; a box below the image;
- ``G`` in no split: excluded;
- ``H`` valid, no size anywhere (0 × 0); a sentence with no flags and a negation cue; an
  unlabelled old-style report;
- ``I`` train: the same sentences and regions as ``F`` and ``A`` (LLM requests de-duplicated).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from medbench.builders.gmpg_imagenome.regions import BBOX_NAMES
from medbench.demo.cxr.ms_cxr import COLUMNS as MS_CXR_COLUMNS
from medbench.hashing import stable_hash

IMAGENOME = "chest-imagenome"
REPORTS = "mimic-cxr-reports"
JPG = "mimic-cxr-jpg"
MS_CXR_CSV = "ms-cxr/MS_CXR_Local_Alignment_v1.1.0.csv"

# Region boxes as fractions (x1, y1, x2, y2) of a PA film; the patient's right is image left.
ATLAS: dict[str, tuple[float, float, float, float]] = {
    "right lung": (0.10, 0.12, 0.48, 0.78),
    "right upper lung zone": (0.12, 0.14, 0.47, 0.33),
    "right mid lung zone": (0.11, 0.33, 0.47, 0.52),
    "right lower lung zone": (0.10, 0.52, 0.47, 0.77),
    "right hilar structures": (0.33, 0.33, 0.46, 0.50),
    "right apical zone": (0.14, 0.14, 0.40, 0.22),
    "right costophrenic angle": (0.11, 0.68, 0.20, 0.76),
    "right cardiophrenic angle": (0.36, 0.68, 0.46, 0.76),
    "right hemidiaphragm": (0.10, 0.70, 0.48, 0.82),
    "left lung": (0.52, 0.12, 0.90, 0.80),
    "left upper lung zone": (0.53, 0.14, 0.88, 0.33),
    "left mid lung zone": (0.53, 0.33, 0.89, 0.52),
    "left lower lung zone": (0.53, 0.52, 0.90, 0.79),
    "left hilar structures": (0.54, 0.33, 0.67, 0.50),
    "left apical zone": (0.60, 0.14, 0.86, 0.22),
    "left costophrenic angle": (0.80, 0.70, 0.89, 0.78),
    "left cardiophrenic angle": (0.54, 0.70, 0.64, 0.78),
    "left hemidiaphragm": (0.52, 0.72, 0.90, 0.84),
    "trachea": (0.46, 0.05, 0.54, 0.32),
    "spine": (0.45, 0.02, 0.55, 0.95),
    "right clavicle": (0.12, 0.08, 0.47, 0.16),
    "left clavicle": (0.53, 0.08, 0.88, 0.16),
    "aortic arch": (0.50, 0.20, 0.59, 0.30),
    "mediastinum": (0.36, 0.04, 0.66, 0.80),
    "upper mediastinum": (0.40, 0.04, 0.60, 0.34),
    "svc": (0.41, 0.18, 0.48, 0.33),
    "cardiac silhouette": (0.36, 0.45, 0.66, 0.78),
    "left cardiac silhouette": (0.51, 0.45, 0.66, 0.78),
    "right cardiac silhouette": (0.36, 0.45, 0.51, 0.78),
    "cavoatrial junction": (0.40, 0.40, 0.48, 0.47),
    "right atrium": (0.37, 0.50, 0.47, 0.74),
    "descending aorta": (0.52, 0.30, 0.60, 0.78),
    "carina": (0.47, 0.27, 0.53, 0.31),
    "left upper abdomen": (0.52, 0.85, 0.90, 0.98),
    "right upper abdomen": (0.10, 0.85, 0.48, 0.98),
    "abdomen": (0.10, 0.84, 0.90, 0.99),
}
assert set(ATLAS) == set(BBOX_NAMES)
JITTER = 0.002  # of the image size, per coordinate: keeps every hierarchy pair nested
SYNSETS = {name: f"C{int(stable_hash('synset', name), 16) % 10**7:07d}" for name in ATLAS}
TEXT_ONLY_SYNSET = "C0006141"

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Phrase:
    text: str
    regions: tuple[str, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ImageSpec:
    role: str
    subject_id: str
    study_id: str
    split: str | None  # None: in no split CSV
    size: tuple[int, int]  # (width, height) of the image
    phrases: tuple[Phrase, ...]
    report: str
    jpg: bool = True  # the MIMIC-CXR-JPG file exists
    metadata: bool = True  # a row in mimic-cxr-2.0.0-metadata.csv.gz
    avoid: bool = False  # in images_to_avoid.csv
    ms_cxr: bool = False  # in the MS-CXR CSV
    boxes: dict[str, Box] = field(default_factory=dict)  # planted pixel boxes, as shipped

    @property
    def dicom_id(self) -> str:
        h = stable_hash("imagenome-demo", self.role, length=40)
        return "-".join(h[i : i + 8] for i in range(0, 40, 8))


NEG = "anatomicalfinding|no|"
POS = "anatomicalfinding|yes|"
ABNORMAL = "nlp|yes|abnormal"
NORMAL = "nlp|yes|normal"

_REPORT_A = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with new onset ascites  // eval for infection

 TECHNIQUE:  Chest PA and lateral

 COMPARISON:  None.

 FINDINGS:

 PA and lateral views of the chest were obtained.  There is no focal consolidation,
 pleural effusion or pneumothorax.  Patchy opacity in the right lower lung zone may
 reflect atelectasis.  Surgical clips project over the right breast.  The heart size
 is normal.  Mild bibasilar atelectasis.

 IMPRESSION:

 No acute cardiopulmonary process.
"""
_REPORT_B = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PORTABLE AP)

 INDICATION:  ___M with chest pain.

 FINDINGS:

 Elevation of the left hemidiaphragm is unchanged.  Small left apical pneumothorax.
 Lungs are otherwise clear.

 IMPRESSION:

 Small left apical pneumothorax.
"""
_REPORT_CD = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 FINDINGS:

 Left lower lobe consolidation.  No pleural effusion.

 IMPRESSION:

 Left lower lobe pneumonia.
"""
_REPORT_E = """                                 FINAL REPORT
 FINDINGS:

 No pneumothorax.
"""
_REPORT_F = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PORTABLE AP)

 INDICATION:  PICC placement.

 FINDINGS:

 Right PICC line tip is in the cavoatrial junction.  No pneumothorax.

 IMPRESSION:

 1. PICC in standard position. 2. No pneumothorax.
"""
_REPORT_G = """                                 FINAL REPORT
 FINDINGS:

 Stable appearance of the chest.
"""
_REPORT_H = """                                 FINAL REPORT
 CHEST RADIOGRAPH PERFORMED ON ___

 COMPARISON:  Prior exam from ___.

 CLINICAL HISTORY:  Shortness of breath.

 Moderate cardiomegaly is stable.  There is no pleural effusion.  Median sternotomy
 wires are intact.
"""
_REPORT_I = """                                 FINAL REPORT
 FINDINGS:

 The heart size is normal.  No pneumothorax.

 IMPRESSION:

 No acute process.
"""

_LUNGS = ("right lung", "left lung")
IMAGES: tuple[ImageSpec, ...] = (
    ImageSpec(
        "A",
        "10000032",
        "50414267",
        "train",
        (2544, 3056),
        (
            Phrase(
                "There is no focal consolidation,\n pleural effusion or pneumothorax.",
                (*_LUNGS, "right costophrenic angle", "left costophrenic angle"),
                (NEG + "lung opacity", NEG + "pleural effusion", NEG + "pneumothorax", NORMAL),
            ),
            Phrase(
                "Patchy opacity in the right lower lung zone may\n reflect atelectasis.",
                ("right lung", "right lower lung zone"),
                (POS + "lung opacity", POS + "atelectasis", ABNORMAL),
            ),
            Phrase(
                "Surgical clips project over the right breast.",
                ("right breast",),
                ("device|yes|clip", ABNORMAL),
            ),
            Phrase(
                "The heart size\n is normal.",
                ("cardiac silhouette", "mediastinum"),
                (NEG + "enlarged cardiac silhouette", NORMAL),
            ),
            Phrase(
                "Mild bibasilar atelectasis.",
                ("right lung", "right lower lung zone", "left lung", "left lower lung zone"),
                (POS + "atelectasis", ABNORMAL, "severity|yes|mild"),
            ),
        ),
        _REPORT_A,
        boxes={"right clavicle": (-14.0, 230.0, 1196.0, 489.0)},  # clipped at x = 0
    ),
    ImageSpec(
        "B",
        "10000764",
        "57375967",
        "train",
        (2539, 3050),
        (
            Phrase(
                "Elevation of the left hemidiaphragm is unchanged.",
                ("left hemidiaphragm",),
                (POS + "elevated hemidiaphragm", ABNORMAL, "temporal|yes|unchanged"),
            ),
            Phrase(
                "Small left apical pneumothorax.",
                ("left lung", "left upper lung zone", "left apical zone"),
                (POS + "pneumothorax", ABNORMAL, "severity|yes|small"),
            ),
            Phrase("Lungs are otherwise clear.", _LUNGS, (NORMAL,)),
        ),
        _REPORT_B,
        boxes={
            "left hemidiaphragm": (1320.0, 2196.0, 2600.0, 2562.0),  # beyond x = 2539
            "left apical zone": (1523.0, 427.0, 1523.0, 671.0),  # zero width
            "right costophrenic angle": (762.0, 610.0, 1016.0, 793.0),  # above its lower zone
        },
    ),
    ImageSpec(
        "C",
        "10001122",
        "53447138",
        "train",
        (2544, 3056),
        (
            Phrase(
                "Left lower lobe consolidation.",
                ("left lung", "left lower lung zone"),
                (POS + "consolidation", ABNORMAL),
            ),
            Phrase("No pleural effusion.", _LUNGS, (NEG + "pleural effusion",)),
        ),
        _REPORT_CD,
        ms_cxr=True,
    ),
    ImageSpec(
        "D",
        "10001122",
        "53447138",
        "train",
        (3056, 2544),
        (
            Phrase(
                "Left lower lobe consolidation.",
                ("left lung", "left lower lung zone"),
                (POS + "consolidation", ABNORMAL),
            ),
            Phrase("No pleural effusion.", _LUNGS, (NEG + "pleural effusion",)),
        ),
        _REPORT_CD,
    ),
    ImageSpec(
        "E",
        "10002428",
        "59414257",
        "valid",
        (2544, 3056),
        (Phrase("No pneumothorax.", _LUNGS, (NEG + "pneumothorax",)),),
        _REPORT_E,
        avoid=True,
    ),
    ImageSpec(
        "F",
        "10003400",
        "50553213",
        "test",
        (2539, 3050),
        (
            Phrase(
                "Right PICC line tip is in the cavoatrial junction.",
                ("mediastinum", "svc", "cavoatrial junction"),
                ("tubesandlines|yes|picc",),
            ),
            Phrase("No pneumothorax.", _LUNGS, (NEG + "pneumothorax",)),
        ),
        _REPORT_F,
        jpg=False,
        avoid=True,
        boxes={"left upper abdomen": (1320.0, 3100.0, 2285.0, 3180.0)},  # below the image
    ),
    ImageSpec(
        "G",
        "10005348",
        "53189527",
        None,
        (2544, 3056),
        (Phrase("Stable appearance of the chest.", _LUNGS, (NORMAL,)),),
        _REPORT_G,
    ),
    ImageSpec(
        "H",
        "10004235",
        "51251522",
        "valid",
        (2544, 3056),
        (
            Phrase(
                "Moderate cardiomegaly is stable.",
                ("cardiac silhouette", "mediastinum"),
                (POS + "enlarged cardiac silhouette", ABNORMAL, "severity|yes|moderate"),
            ),
            Phrase(
                "There is no pleural effusion.",
                ("right costophrenic angle", "left costophrenic angle"),
                (),
            ),
        ),
        _REPORT_H,
        jpg=False,
        metadata=False,
        boxes={"right clavicle": (-20.0, 230.0, 1196.0, 489.0)},
    ),
    ImageSpec(
        "I",
        "10006580",
        "59128214",
        "train",
        (2544, 3056),
        (
            Phrase("No  pneumothorax.", _LUNGS, (NEG + "pneumothorax",)),
            Phrase(
                "The heart size is normal.",
                ("cardiac silhouette", "mediastinum"),
                (NEG + "enlarged cardiac silhouette", NORMAL),
            ),
        ),
        _REPORT_I,
    ),
)
BY_ROLE = {spec.role: spec for spec in IMAGES}
MS_CXR_EXTRA_DICOM = "ffffffff-0000aaaa-1111bbbb-2222cccc-3333dddd"  # in MS-CXR, not here


# -- scene graphs --------------------------------------------------------------------------


def atlas_boxes(size: tuple[int, int], rng: random.Random) -> dict[str, Box]:
    """Pixel boxes of all 36 regions for an image of ``size``, jittered slightly."""
    width, height = size
    out = {}
    for name in BBOX_NAMES:
        x1, y1, x2, y2 = ATLAS[name]
        jit = [rng.uniform(-JITTER, JITTER) for _ in range(4)]
        out[name] = (
            float(round((x1 + jit[0]) * width)),
            float(round((y1 + jit[1]) * height)),
            float(round((x2 + jit[2]) * width)),
            float(round((y2 + jit[3]) * height)),
        )
    return out


def _object(dicom: str, name: str, box: Box, size: tuple[int, int]) -> dict:
    width, height = size
    ratio = 224 / max(width, height)  # letterboxed to 224 × 224 (the gold scaling file's form)
    left = (224 - round(width * ratio)) // 2
    top = (224 - round(height * ratio)) // 2
    x1, y1, x2, y2 = box
    small = [round(x1 * ratio) + left, round(y1 * ratio) + top]
    small += [round(x2 * ratio) + left, round(y2 * ratio) + top]
    return {
        "object_id": f"{dicom}_{name}",
        "x1": small[0],
        "y1": small[1],
        "x2": small[2],
        "y2": small[3],
        "width": small[2] - small[0],
        "height": small[3] - small[1],
        "bbox_name": name,
        "synsets": [SYNSETS[name]],
        "name": name.capitalize(),
        "original_x1": int(x1),
        "original_y1": int(y1),
        "original_x2": int(x2),
        "original_y2": int(y2),
        "original_width": int(x2 - x1),
        "original_height": int(y2 - y1),
    }


def _cues(flags: tuple[str, ...], category: str) -> list[str]:
    return [f.split("|", 2)[2] for f in flags if f.startswith(category + "|")]


def scene_graph(
    dicom: str,
    subject_id: str,
    study_id: str,
    size: tuple[int, int],
    phrases: tuple[Phrase, ...],
    boxes: dict[str, Box],
    *,
    previous: str | None = None,
    reason: str = "___ year old with shortness of breath",
) -> dict:
    """One ``<dicom_id>_SceneGraph.json`` in Chest ImaGenome's structure."""
    by_region: dict[str, list[tuple[int, Phrase]]] = {}
    for index, phrase in enumerate(phrases):
        for region in phrase.regions:
            by_region.setdefault(region, []).append((index, phrase))
    attributes = []
    for region, items in by_region.items():
        boxed = region in boxes
        attributes.append(
            {
                region: boxed,  # INFERRED: True for regions with a box (example notebook)
                "bbox_name": region,
                "synsets": [SYNSETS.get(region, TEXT_ONLY_SYNSET)],
                "name": region.capitalize(),
                "attributes": [list(p.flags) for _, p in items],
                "attributes_ids": [
                    [f"CL{int(stable_hash(f), 16) % 10**6:06d}" for f in p.flags] for _, p in items
                ],
                "phrases": [p.text for _, p in items],
                "phrase_IDs": [f"{study_id}|{i}" for i, _ in items],  # UNVERIFIED shape
                "sections": ["finalreport" for _ in items],  # UNVERIFIED values
                "comparison_cues": [[] for _ in items],
                "temporal_cues": [_cues(p.flags, "temporal") for _, p in items],
                "severity_cues": [_cues(p.flags, "severity") for _, p in items],
                "texture_cues": [[] for _ in items],
                "object_id": f"{dicom}_{region}",
            }
        )
    relationships = []
    if previous is not None:  # UNVERIFIED shape: comparisons with the patient's previous image
        for region in list(by_region)[:4]:
            if region not in boxes:
                continue
            relationships.append(
                {
                    "relationship_id": f"{dicom}_{previous}_{region}",
                    "predicate": '["No change"]',
                    "synsets": ["C0442739"],
                    "relationship_names": ["comparison|yes|no change"],
                    "relationship_contexts": [1.0],
                    "phrase": by_region[region][0][1].text,
                    "attributes": list(by_region[region][0][1].flags),
                    "bbox_name": region,
                    "subject_id": f"{dicom}_{region}",
                    "object_id": f"{previous}_{region}",
                }
            )
    return {
        "image_id": dicom,
        "viewpoint": "PA",
        "patient_id": int(subject_id),
        "study_id": int(study_id),
        "gender": "F",  # UNVERIFIED key
        "age_decile": "60-70",  # UNVERIFIED key
        "reason_for_exam": reason,
        "StudyOrder": 2 if previous else 1,  # UNVERIFIED key
        "StudyDateTime": "2180-05-06 22:01:18 UTC",  # UNVERIFIED key
        "objects": [_object(dicom, name, boxes[name], size) for name in BBOX_NAMES],
        "attributes": attributes,
        "relationships": relationships,
    }


def _graph_for(spec: ImageSpec, seed: int) -> dict:
    rng = random.Random(f"{seed}-{spec.role}")
    boxes = atlas_boxes(spec.size, rng)
    boxes.update(spec.boxes)
    return scene_graph(
        spec.dicom_id, spec.subject_id, spec.study_id, spec.size, spec.phrases, boxes
    )


def graph_bytes(graph: dict) -> bytes:
    return json.dumps(graph, indent=2).encode("utf-8")


# -- the other files -----------------------------------------------------------------------


def _dicom_path(spec: ImageSpec) -> str:
    s = spec.subject_id
    return f"files/p{s[:2]}/p{s}/s{spec.study_id}/{spec.dicom_id}.dcm"


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _split_rows(specs: list[ImageSpec]) -> list[list]:
    return [
        [i, s.subject_id, s.study_id, s.dicom_id, _dicom_path(s), "PA"] for i, s in enumerate(specs)
    ]


SPLIT_HEADER = ["", "subject_id", "study_id", "dicom_id", "path", "ViewPosition"]


def write(root: Path, seed: int = 0, form: str = "zip") -> dict[str, Path]:
    """Write the replica under ``root``; returns the paths a build needs."""
    if form not in ("zip", "folder"):
        raise ValueError("form is 'zip' or 'folder'")
    silver = root / IMAGENOME / "silver_dataset"
    silver.mkdir(parents=True, exist_ok=True)
    graphs = {spec.dicom_id: graph_bytes(_graph_for(spec, seed)) for spec in IMAGES}
    if form == "zip":
        with zipfile.ZipFile(silver / "scene_graph.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for dicom in sorted(graphs):
                info = zipfile.ZipInfo(
                    f"scene_graph/{dicom}_SceneGraph.json", (2021, 7, 13, 0, 0, 0)
                )
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, graphs[dicom])
    else:
        folder = silver / "scene_graph"
        folder.mkdir(exist_ok=True)
        for dicom, data in graphs.items():
            (folder / f"{dicom}_SceneGraph.json").write_bytes(data)
    splits = silver / "splits"
    for split in ("train", "valid", "test"):
        _write_csv(
            splits / f"{split}.csv",
            SPLIT_HEADER,
            _split_rows([s for s in IMAGES if s.split == split]),
        )
    _write_csv(
        splits / "images_to_avoid.csv", SPLIT_HEADER, _split_rows([s for s in IMAGES if s.avoid])
    )
    reports = root / REPORTS / "files"
    for spec in IMAGES:
        s = spec.subject_id
        path = reports / f"p{s[:2]}" / f"p{s}" / f"s{spec.study_id}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(spec.report, encoding="utf-8")
    jpg = root / JPG
    jpg.mkdir(parents=True, exist_ok=True)
    metadata = io.StringIO()
    writer = csv.writer(metadata)
    writer.writerow(
        [
            "dicom_id",
            "subject_id",
            "study_id",
            "PerformedProcedureStepDescription",
            "ViewPosition",
            "Rows",
            "Columns",
            "StudyDate",
            "StudyTime",
        ]
    )
    for spec in IMAGES:
        if spec.metadata:
            width, height = spec.size
            writer.writerow(
                [
                    spec.dicom_id,
                    spec.subject_id,
                    spec.study_id,
                    "CHEST (PA AND LAT)",
                    "PA",
                    height,
                    width,
                    "21800506",
                    "213014.531",
                ]
            )
        if spec.jpg:
            path = jpg / _dicom_path(spec).replace(".dcm", ".jpg")
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("L", spec.size, 96).save(path, quality=75)
    with gzip.GzipFile(jpg / "mimic-cxr-2.0.0-metadata.csv.gz", "wb", mtime=0) as gz:
        gz.write(metadata.getvalue().encode("utf-8"))
    ms_cxr_rows = []
    for spec in IMAGES:
        if spec.ms_cxr:
            width, height = spec.size
            path = _dicom_path(spec).replace(".dcm", ".jpg")
            ms_cxr_rows.append(
                [
                    spec.dicom_id,
                    "Pneumonia",
                    "Left lower lobe consolidation",
                    path,
                    1400,
                    1600,
                    700,
                    700,
                    width,
                    height,
                    "train",
                ]
            )
    ms_cxr_rows.append(
        [
            MS_CXR_EXTRA_DICOM,
            "Pleural effusion",
            "small left effusion",
            f"files/p19/p19999999/s59999999/{MS_CXR_EXTRA_DICOM}.jpg",
            2000,
            2200,
            400,
            300,
            2544,
            3056,
            "test",
        ]
    )
    _write_csv(root / MS_CXR_CSV, MS_CXR_COLUMNS, ms_cxr_rows)  # the MS-CXR replica's layout
    return {
        "imagenome_root": root / IMAGENOME,
        "mimic_reports": root / REPORTS,
        "mimic_jpg": jpg,
        "ms_cxr": root / MS_CXR_CSV,
    }
