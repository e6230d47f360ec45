"""GMPG-ImaGenome pieces on hand-made scene graphs with known answers: inversion and boxes,
the hierarchy decider and its containment check, the negative rules, report sentences,
MS-CXR leakage and the streaming reader (the streaming shard writer is tested with the other
shard writer, in test_shards_and_schema.py)."""

from __future__ import annotations

import json
import zipfile

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


def test_sample_id_is_the_stable_hash_of_dataset_image_and_sentence():
    from medbench.builders.gmpg_imagenome.build import DATASET, _sample_id
    from medbench.hashing import stable_hash

    assert _sample_id("d1", "no pneumothorax") == stable_hash(DATASET, "d1", "no pneumothorax")


# --- what the faster paths must still do (see scene_graph, pairs, reports, regions) ---------------


@pytest.mark.parametrize(
    "text",
    [
        '{"objects": [], "attributes": [], "x": NaN}',  # json.loads would take it
        '{"objects": [], "attributes": [], "x": -Infinity}',
        '{"objects": [], "attributes": [], "x": 1}\ufeff',
    ],
)
def test_json_that_is_not_json_is_an_error(text):
    with pytest.raises(SceneGraphError, match="not JSON"):
        parse_graph(text.encode("utf-8"), "d1_SceneGraph.json")
    with pytest.raises(SceneGraphError, match="not JSON"):
        parse_graph(b'{"objects": [], "attributes": [], "x": "\xff"}', "d1_SceneGraph.json")


def test_text_that_cannot_be_written_makes_the_graph_an_error():
    for attrs in (
        [_attr("spine", ["Lone \\ud800 surrogate."], [["a|yes|b"]])],  # in a phrase
        [_attr("spine", ["Fine."], [["anatomicalfinding|yes|\\udc00"]])],  # in a flag
        [_attr("sp\\ud800ine", ["Fine."], [["a|yes|b"]])],  # in a region
    ):
        text = json.dumps(dict(HAND_GRAPH, attributes=[]))[:-1] + ', "attributes": '
        text += json.dumps(attrs).replace("\\\\u", "\\u") + "}"
        graph = parse_graph(text.encode("ascii"), "d1_SceneGraph.json")
        with pytest.raises(SceneGraphError, match="not UTF-8 text"):
            group_mentions(graph)
    # a surrogate pair is one character, and fine
    text = json.dumps(dict(HAND_GRAPH, attributes=[_attr("spine", ["X \\ud83d\\ude00."], [[]])]))
    graph = parse_graph(text.replace("\\\\u", "\\u").encode("ascii"), "d1_SceneGraph.json")
    assert [g.text for g in group_mentions(graph).values()] == ["X \U0001f600."]


def test_objects_without_finite_corners_are_skipped():
    objects = [
        _obj("right lung", "nan", 0, 10, 10),  # a string float() reads as NaN
        _obj("left lung", 0, 0, 7777777, 10),  # written 1e400 below: JSON reads infinity
        _obj("spine", "12", 0, 30, 40),  # a string that is a number: used, as before
    ]
    text = json.dumps(dict(HAND_GRAPH, objects=objects)).replace("7777777", "1e400")
    graph = parse_graph(text.encode(), "d1")
    assert graph.boxes == {"spine": (12.0, 0.0, 30.0, 40.0)} and graph.skipped == 2


def test_zip_members_read_directly_equal_zipfile_and_bad_ones_fall_back(tmp_path):
    import zlib

    from medbench.builders.gmpg_imagenome.scene_graph import _member_bytes

    path = tmp_path / "scene_graph.zip"
    members = {
        f"scene_graph/m{i}_SceneGraph.json": (b'{"i": %d}' % i) * (50 * i + 1) for i in range(6)
    }
    with zipfile.ZipFile(path, "w") as zf:
        for i, (name, data) in enumerate(members.items()):
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_STORED if i % 2 else zipfile.ZIP_DEFLATED
            if i == 4:  # a long extra field
                info.extra = b"\x99\x99" + (400).to_bytes(2, "little") + bytes(400)
            zf.writestr(info, data)
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            assert _member_bytes(fh.fileno(), info) == members[info.filename]
    # one stored member's bytes damaged: the CRC no longer matches, ZipFile.read decides
    raw = bytearray(path.read_bytes())
    stored = members["scene_graph/m1_SceneGraph.json"]
    at = raw.index(stored)
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        info = zf.getinfo("scene_graph/m1_SceneGraph.json")
        assert zlib.crc32(bytes(raw[at : at + len(stored)])) != info.CRC
        assert _member_bytes(fh.fileno(), info) is None
        with pytest.raises(zipfile.BadZipFile):
            zf.read(info)


def test_report_sentences_by_hand():
    from medbench.builders.gmpg_imagenome.reports import split_sentences

    # list markers only at the start or after ". ", ": "...; not in "T12. Spine" or "1.5 cm"
    text = "1. Tube in place. 2) No effusion: 3. Stable. At T12. Spine ok. A 1.5 cm. Node."
    assert split_sentences(text) == (
        "Tube in place.",
        "No effusion:",
        "Stable.",
        "At T12.",
        "Spine ok.",
        "A 1.5 cm.",
        "Node.",
    )
    # abbreviations (any case, any trailing dots) and initials do not end a sentence
    text = "Seen by DR. Smith vs. Jones approx... 3 cm. J. Doe agrees with É. Zed here. Ok."
    assert split_sentences(text) == (
        "Seen by DR. Smith vs. Jones approx... 3 cm.",
        "J. Doe agrees with É. Zed here.",
        "Ok.",
    )
    assert split_sentences("  ___.  1. ") == ()


def test_reports_are_read_as_text_mode_reads_them(tmp_path):
    from medbench.builders.gmpg_imagenome.reports import read_report

    folder = tmp_path / "p10" / "p10000001"
    folder.mkdir(parents=True)
    data = b"FINDINGS:\r\n No \xff effusion.\rIMPRESSION:\r\n\r\n Caf\xc3\xa9.\n\xed\xa0\x80"
    (folder / "s50000001.txt").write_bytes(data)
    with open(folder / "s50000001.txt", encoding="utf-8", errors="replace") as fh:
        expected = fh.read()  # text mode: universal newlines, bad bytes replaced
    assert read_report(tmp_path, "10000001", "50000001") == expected
    assert read_report(tmp_path, "10000001", "59999999") is None


def test_containment_counts_equal_a_plain_per_image_count():
    """Random images, checked in vectorised batches; the expected counts come from a plain
    loop over every image and hierarchy pair, written here."""
    import random

    from medbench.builders.gmpg_imagenome import regions as regions_module

    rng = random.Random(5)
    hierarchy = Hierarchy.load()
    images = []
    for _ in range(700):
        boxes = {}
        for name in rng.sample(BBOX_NAMES, rng.randint(2, 36)):
            x1, y1 = rng.uniform(0, 900), rng.uniform(0, 900)
            boxes[name] = (x1, y1, x1 + rng.uniform(1, 300), y1 + rng.uniform(1, 300))
        if rng.random() < 0.1:
            boxes["left breast"] = (1.0, 1.0, 5.0, 5.0)  # text-only name: ignored
        images.append(boxes)
    check = ContainmentCheck(hierarchy, sample_every=3)
    for boxes in images:
        check.add(boxes)
    assert regions_module.CONTAINMENT_BATCH < 700  # several batches
    both, nested = {}, {}
    for boxes in images:
        for parent, child in hierarchy.pairs:
            if parent in boxes and child in boxes:
                p, c = boxes[parent], boxes[child]
                iw = min(p[2], c[2]) - max(p[0], c[0])
                ih = min(p[3], c[3]) - max(p[1], c[1])
                area = (c[2] - c[0]) * (c[3] - c[1])
                both[parent, child] = both.get((parent, child), 0) + 1
                inside = iw > 0 and ih > 0 and iw * ih >= 0.9 * area
                nested[parent, child] = nested.get((parent, child), 0) + inside
    edges = {(e["parent"], e["child"]): e for e in check.edges()}
    for pair, edge in edges.items():
        assert edge["images_with_both"] == both.get(pair, 0), pair
        assert edge["child_inside_parent"] == nested.get(pair, 0), pair
    # the all-pairs matrix over every 3rd image (0, 3, 6, ...)
    sampled = [boxes for i, boxes in enumerate(images) if i % 3 == 0]
    assert check.sampled_images == len(sampled)
    right, spine = BBOX_NAMES.index("right lung"), BBOX_NAMES.index("spine")
    assert check.both[right, spine] == sum("right lung" in b and "spine" in b for b in sampled)
