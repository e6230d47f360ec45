"""GMPG-ImaGenome pieces on hand-made scene graphs with known answers: inversion and boxes,
the hierarchy decider and its containment check, the negative rules, report sentences,
MS-CXR leakage, the streaming reader and the streaming shard writer."""

from __future__ import annotations

import json
import zipfile

import pyarrow.parquet as pq
import pytest

from medbench.builders.gmpg_imagenome import negatives
from medbench.builders.gmpg_imagenome.inputs import SplitIndex
from medbench.builders.gmpg_imagenome.leakage import MsCxrOverlap
from medbench.builders.gmpg_imagenome.pairs import (
    DEGENERATE,
    NO_OBJECT,
    ValidBoxes,
    clip_box,
    group_mentions,
    invert,
)
from medbench.builders.gmpg_imagenome.regions import (
    BBOX_NAMES,
    ContainmentCheck,
    Hierarchy,
    HierarchyError,
)
from medbench.builders.gmpg_imagenome.reports import normalise, report_sentences
from medbench.builders.gmpg_imagenome.scene_graph import (
    GraphSource,
    SceneGraphError,
    parse_graph,
)
from medbench.builders.gmpg_imagenome.sink import ShardSink
from medbench.schemas.gmpg import GROUNDING_ARROW_SCHEMA, GroundingRow


def _obj(name, x1, y1, x2, y2):
    return {
        "object_id": f"d1_{name}",
        "bbox_name": name,
        "original_x1": x1,
        "original_y1": y1,
        "original_x2": x2,
        "original_y2": y2,
        "x1": 0,
        "y1": 0,
        "x2": 1,
        "y2": 1,
    }


def _attr(name, phrases, flags):
    return {name: True, "bbox_name": name, "phrases": phrases, "attributes": flags}


HAND_GRAPH = {
    "image_id": "d1",
    "patient_id": 10000001,
    "study_id": 50000001,
    "objects": [
        _obj("right lung", 100, 200, 500, 900),
        _obj("right lower lung zone", 110, 600, 480, 880),
        _obj("left lung", 600, 200, 1000, 900),
        _obj("left apical zone", 650, 210, 650, 300),  # zero width
        _obj("spine", -30, 50, 580, 1300),  # beyond the 1024 x 1200 image on two sides
        {"object_id": "d1_trachea", "bbox_name": "trachea"},  # no coordinates: skipped
    ],
    "attributes": [
        _attr(
            "right lung",
            ["Right basal\n opacity.", "No pneumothorax."],
            [["anatomicalfinding|yes|lung opacity"], ["anatomicalfinding|no|pneumothorax"]],
        ),
        _attr(
            "right lower lung zone",
            ["Right basal opacity. "],
            [["anatomicalfinding|yes|lung opacity", "nlp|yes|abnormal"]],
        ),
        _attr("left lung", ["No pneumothorax."], [["anatomicalfinding|no|pneumothorax"]]),
        _attr("left apical zone", ["No pneumothorax."], [[]]),
        {"left breast": False, "bbox_name": "left breast", "phrases": ["Clips."], "attributes": []},
    ],
    "relationships": [],
}


def test_inversion_by_hand():
    graph = parse_graph(json.dumps(HAND_GRAPH).encode(), "d1_SceneGraph.json")
    assert (graph.image_id, graph.subject_id, graph.study_id) == ("d1", "10000001", "50000001")
    assert len(graph.mentions) == 6
    assert graph.skipped == 1 and "trachea" not in graph.boxes
    valid = ValidBoxes.of(graph, (1024, 1200))
    assert valid.degenerate == ["left apical zone"]
    assert valid.boxes["spine"] == (0.0, 50.0, 580.0, 1200.0)  # clipped at 0 and at the height
    sentences = {s.key: s for s in invert(group_mentions(graph), valid)}
    # "Right basal\n opacity." and "Right basal opacity. " are one sentence
    assert sorted(sentences) == ["clips", "no pneumothorax", "right basal opacity"]
    opacity = sentences["right basal opacity"]
    assert opacity.text == "Right basal opacity."
    assert opacity.regions == ("right lung", "right lower lung zone")
    assert opacity.boxes == {
        "right lung": (100.0, 200.0, 500.0, 900.0),
        "right lower lung zone": (110.0, 600.0, 480.0, 880.0),
    }
    assert opacity.flags == ("anatomicalfinding|yes|lung opacity", "nlp|yes|abnormal")
    negative = sentences["no pneumothorax"]
    assert negative.regions == ("right lung", "left lung", "left apical zone")
    assert list(negative.boxes) == ["right lung", "left lung"]
    assert negative.no_box == {"left apical zone": DEGENERATE}
    assert sentences["clips"].no_box == {"left breast": NO_OBJECT}


def test_clip_box_unknown_size_clips_at_zero_only():
    assert clip_box((-5.0, -1.0, 50.0, 60.0), None) == (0.0, 0.0, 50.0, 60.0)
    assert clip_box((10.0, 10.0, 5000.0, 20.0), None) == (10.0, 10.0, 5000.0, 20.0)
    assert clip_box((10.0, 10.0, 5000.0, 20.0), (100, 100)) == (10.0, 10.0, 100.0, 20.0)
    assert clip_box((120.0, 10.0, 150.0, 20.0), (100, 100)) is None  # wholly outside
    assert clip_box((10.0, 10.0, 10.0, 20.0), None) is None  # zero width


def test_malformed_graphs_are_errors_not_crashes():
    with pytest.raises(SceneGraphError):
        parse_graph(b"{not json", "x")
    with pytest.raises(SceneGraphError):
        parse_graph(b'{"objects": []}', "x")
    bad = dict(HAND_GRAPH, attributes=[_attr("right lung", ["A."], [[["nested"]]])])
    with pytest.raises(SceneGraphError):
        group_mentions(parse_graph(json.dumps(bad), "x"))


def test_hierarchy_keeps_the_most_specific_regions():
    h = Hierarchy.load()
    assert h.most_specific(["right lung", "right lower lung zone"]) == (
        ["right lower lung zone"],
        {"right lung": "right lower lung zone"},
    )
    # transitively: the lung is dropped for the angle, and so is the zone
    kept, dropped = h.most_specific(
        ["right lung", "right lower lung zone", "right costophrenic angle"]
    )
    assert kept == ["right costophrenic angle"]
    assert set(dropped) == {"right lung", "right lower lung zone"}
    # both sides and unrelated regions stay
    kept, _ = h.most_specific(["right lung", "left lung", "left lower lung zone", "spine"])
    assert kept == ["right lung", "left lower lung zone", "spine"]
    kept, _ = h.most_specific(["mediastinum", "svc", "cavoatrial junction"])
    assert kept == ["svc", "cavoatrial junction"]
    assert h.most_specific(["cardiac silhouette"]) == (["cardiac silhouette"], {})


def test_hierarchy_file_is_checked():
    with pytest.raises(HierarchyError, match="not Chest ImaGenome bbox names"):
        Hierarchy.parse("children:\n  right lung: [right lung lobe]\n")
    with pytest.raises(HierarchyError, match="cycle"):
        Hierarchy.parse("children:\n  spine: [trachea]\n  trachea: [spine]\n")
    h = Hierarchy.load()
    assert all(p in BBOX_NAMES and c in BBOX_NAMES for p, c in h.pairs)
    assert ("right lung", "right apical zone") in h.pairs  # via the upper zone


def test_containment_check_counts_violations():
    h = Hierarchy.parse(
        "children:\n  right lung: [right lower lung zone, right hilar structures]\n"
    )
    check = ContainmentCheck(h, sample_every=1)
    inside = {"right lung": (0, 0, 100, 100), "right lower lung zone": (10, 50, 90, 95)}
    check.add(inside)
    check.add(dict(inside, **{"right lower lung zone": (50, 50, 150, 95)}))  # half outside
    check.add({**inside, "right hilar structures": (60, 20, 95, 40), "spine": (40, 0, 60, 100)})
    edges = {(e["parent"], e["child"]): e for e in check.edges()}
    zone = edges[("right lung", "right lower lung zone")]
    assert (zone["images_with_both"], zone["violations"]) == (3, 1)
    assert edges[("right lung", "right hilar structures")]["violations"] == 0
    assert check.summary()["violations"] == 1
    # the spine box lies inside the lung box in the one image with both: a candidate pair
    candidates = {(c["parent"], c["child"]) for c in check.candidates()}
    assert ("right lung", "spine") in candidates
    assert ("right lung", "right lower lung zone") not in candidates  # in the hierarchy


@pytest.mark.parametrize(
    ("flags", "text", "zero", "rule"),
    [
        (
            ("anatomicalfinding|no|pneumothorax", "nlp|yes|normal"),
            "no pneumothorax",
            True,
            negatives.ALL_NEGATIVE,
        ),
        (
            ("anatomicalfinding|no|effusion", "anatomicalfinding|yes|atelectasis"),
            "no effusion but atelectasis",
            False,
            negatives.POSITIVE,
        ),
        (("nlp|yes|normal",), "the heart size is normal", True, negatives.NORMAL),
        (("nlp|yes|abnormal",), "abnormal", False, negatives.POSITIVE),
        (("tubesandlines|yes|picc",), "picc in place", False, negatives.POSITIVE),
        ((), "there is no pleural effusion", True, negatives.NEGATION_CUE),
        (("severity|yes|mild",), "without focal consolidation", True, negatives.NEGATION_CUE),
        ((), "the lungs are clear", True, negatives.NEGATION_CUE),
        ((), "there has been no change in the right effusion", False, negatives.NO_EVIDENCE),
        ((), "stable appearance of the chest", False, negatives.NO_EVIDENCE),
    ],
)
def test_negative_rules(flags, text, zero, rule):
    decision = negatives.decide(flags, text)
    assert (decision.zero, decision.rule) == (zero, rule)


def test_report_sentences():
    report = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with cough.

 FINDINGS:

 PA and lateral views of the chest were obtained.  A 1.5 cm nodule, seen by Dr.
 Smith, is unchanged.  No pneumothorax.

 IMPRESSION:

 1. No pneumothorax. 2. Nodule, see above.
"""
    assert report_sentences(report) == [
        "PA and lateral views of the chest were obtained.",
        "A 1.5 cm nodule, seen by Dr. Smith, is unchanged.",
        "No pneumothorax.",
        "Nodule, see above.",
    ]
    old_style = """                                 FINAL REPORT
 CHEST RADIOGRAPH PERFORMED ON ___

 CLINICAL HISTORY:  Shortness of breath.

 Moderate cardiomegaly is stable.  ___.
"""
    assert report_sentences(old_style) == ["Moderate cardiomegaly is stable."]
    assert normalise("  No\n pneumothorax. ") == "no pneumothorax"


def _splits(tmp_path):
    folder = tmp_path / "silver_dataset" / "splits"
    folder.mkdir(parents=True)
    header = ",subject_id,study_id,dicom_id,path,ViewPosition\n"
    (folder / "train.csv").write_text(
        header
        + "0,10000001,50000001,d1,files/p10/p10000001/s50000001/d1.dcm,PA\n"
        + "1,10000001,50000001,d2,files/p10/p10000001/s50000001/d2.dcm,AP\n"
        + "2,10000002,50000002,d3,files/p10/p10000002/s50000002/d3.dcm,PA\n"
    )
    (folder / "test.csv").write_text(header + "0,10000003,50000003,d4,x.dcm,PA\n")
    return SplitIndex.load(tmp_path)


def test_leakage_matches_by_study_and_dicom(tmp_path):
    splits = _splits(tmp_path)
    assert splits.entries["d1"].jpg_path == "files/p10/p10000001/s50000001/d1.jpg"
    assert splits.entries["d4"].jpg_path == "files/p10/p10000003/s50000003/d4.jpg"
    ms_cxr = tmp_path / "ms.csv"
    ms_cxr.write_text(
        "dicom_id,category_name,label_text,path,x,y,w,h\n"
        "d1,Pneumonia,opacity,files/p10/p10000001/s50000001/d1.jpg,1,2,3,4\n"
        "d1,Pneumonia,opacity,files/p10/p10000001/s50000001/d1.jpg,5,6,7,8\n"
        "d4,Pneumothorax,ptx,,1,2,3,4\n"  # no path: the study comes from the splits
    )
    overlap = MsCxrOverlap.load(ms_cxr, splits)
    assert overlap.studies == {"50000001", "50000003"}
    assert overlap.overlaps("d1", "50000001") == "dicom_id"
    assert overlap.overlaps("d2", "50000001") == "study"  # same study, other image
    assert overlap.overlaps("d3", "50000002") is None
    assert overlap.overlaps("d4", "50000003") == "dicom_id"


def test_reader_streams_folder_and_zip_in_the_same_order(tmp_path):
    folder = tmp_path / "a" / "silver_dataset" / "scene_graph" / "scene_graph"
    folder.mkdir(parents=True)
    for dicom in ("b2", "a1", "c3"):
        (folder / f"{dicom}_SceneGraph.json").write_text(json.dumps({"image_id": dicom}))
    zip_root = tmp_path / "z" / "silver_dataset"
    zip_root.mkdir(parents=True)
    with zipfile.ZipFile(zip_root / "scene_graph.zip", "w") as zf:
        for dicom in ("c3", "a1", "b2"):
            zf.writestr(f"scene_graph/{dicom}_SceneGraph.json", json.dumps({"image_id": dicom}))
    from_folder = GraphSource.find(tmp_path / "a")
    from_zip = GraphSource.find(tmp_path / "z")
    assert (from_folder.kind, from_zip.kind) == ("folder", "zip")
    it = iter(from_zip)  # lazy: one graph's bytes at a time
    assert json.loads(next(it)[1])["image_id"] == "a1"
    assert [json.loads(d)["image_id"] for _, d in from_folder] == ["a1", "b2", "c3"]
    assert [json.loads(d)["image_id"] for _, d in from_zip] == ["a1", "b2", "c3"]


def _row(i: int) -> dict:
    row = GroundingRow(
        sample_id=f"s{i}",
        dataset="gmpg-imagenome",
        image_id=f"d{i}",
        split="train",
        image_path=f"files/p10/p1/s1/d{i}.jpg",
        image_width=100,
        image_height=100,
        sentence="x " * 50,
        boxes=[[1.0, 2.0, 3.0, 4.0]],
        box_names=["spine"],
        groundable=True,
    )
    return row.model_dump()


def test_sink_rolls_shards_and_names_them_at_the_end(tmp_path):
    sink = ShardSink(tmp_path, GROUNDING_ARROW_SCHEMA, max_bytes=20_000, batch_rows=50)
    sink.open_split("valid")  # no rows: still one (empty) shard
    for i in range(400):
        sink.add("train", _row(i))
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").iterdir())
    shards = sink.close()
    train = [s for s in shards if s.path.startswith("data/train-")]
    assert len(train) > 1
    assert all(s.path.endswith(f"-of-{len(train):05d}.parquet") for s in train)
    assert sum(s.num_rows for s in train) == 400
    rows = [r for s in train for r in pq.read_table(tmp_path / s.path).to_pylist()]
    assert [r["image_id"] for r in rows] == [f"d{i}" for i in range(400)]
    valid = [s for s in shards if s.path.startswith("data/valid-")]
    assert [s.num_rows for s in valid] == [0]


def test_sample_id_is_the_stable_hash_of_dataset_image_and_sentence():
    from medbench.builders.gmpg_imagenome.build import DATASET, _sample_id
    from medbench.hashing import stable_hash

    assert _sample_id("d1", "no pneumothorax") == stable_hash(DATASET, "d1", "no pneumothorax")


def test_sink_flushes_by_image_bytes(tmp_path):
    """Rows with image bytes end a batch (one row group) once its images pass batch_bytes, so
    memory never holds more than about that much image data per split."""
    sink = ShardSink(tmp_path, GROUNDING_ARROW_SCHEMA, batch_rows=1000, batch_bytes=1000)
    image = bytes(range(256)) * 2  # 512 bytes: a batch ends at every second row
    for i in range(7):
        sink.add("train", {**_row(i), "image": {"bytes": image, "path": None}}, len(image))
    for i in range(7, 10):
        sink.add("train", _row(i))  # no image: counts rows only
    (shard,) = sink.close()
    parquet = pq.ParquetFile(tmp_path / shard.path)
    sizes = [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)]
    assert sizes == [2, 2, 2, 4]
    rows = parquet.read().to_pylist()
    assert [r["image"]["bytes"] if r["image"] else None for r in rows] == [image] * 7 + [None] * 3
