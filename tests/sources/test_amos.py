"""AMOS2022: CT and MR share folders, told apart by case number; 2 = right kidney; label 15
is the prostate or the uterus by the patient's sex in the metadata CSV."""

import shutil

import pytest
from helpers import assert_frames_blob, assert_keeps_size_mm, build_dataset, write_replicas

from medbench.builders.vgmed.families.paired_volume import csv_id_key
from medbench.builders.vgmed.sources import SOURCES
from medbench.builders.vgmed.vocabulary import is_canonical
from medbench.demo import amos2022

SPEC = SOURCES["AMOS2022"]


def _build(root, out):
    rows, manifest = build_dataset(root, out, [SPEC])
    return rows, manifest["skipped"]


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    root = tmp_path_factory.mktemp("amos-src")
    return root, write_replicas(root, [amos2022])


@pytest.fixture(scope="module")
def built(replica, tmp_path_factory):
    return _build(replica[0], tmp_path_factory.mktemp("amos-out") / "out")


@pytest.fixture(scope="module")
def rows(built):
    return built[0]


def _variant(replica, tmp_path, csv_rows):
    """A copy of the replica whose metadata CSV holds ``csv_rows`` (None: no CSV at all)."""
    root = tmp_path / "src"
    shutil.copytree(replica[0], root)
    csv_path = root / "AMOS2022" / amos2022.META_CSV
    csv_path.unlink()
    if csv_rows is not None:
        amos2022.write_meta_csv(csv_path, csv_rows)
    return _build(root, tmp_path / "out")


def _label_15(rows) -> dict[str, str]:
    """case id → name of its label-15 box (one per case: the replica plants one blob)."""
    found = [(r["case_id"], r["label"]) for r in _boxes(rows) if r["source_label"] == "15"]
    assert len(found) == len(set(found))
    return dict(found)


def _boxes(rows) -> list[dict]:
    return [r for r in rows if r["question_type"] == "localization"]


def test_modality_follows_the_case_number(rows):
    by_case = {}
    for case_id, modality, intensity in zip(
        rows["case_id"], rows["modality"], rows["intensity"], strict=True
    ):
        by_case.setdefault(case_id, set()).add((modality, intensity.split(":")[0]))
    assert by_case == {"amos_0001": {("CT", "ct")}, "amos_0540": {("MR", "percentile")}}


def test_kidney_ids_and_sides(rows):
    for label, source_label, box, width in zip(
        rows["label"], rows["source_label"], rows["bbox"], rows["image_width"], strict=True
    ):
        centre = (box[0] + box[2]) / 2
        if label == "right kidney":
            assert source_label == "2" and centre < width / 2
        if label == "left kidney":
            assert source_label == "3" and centre > width / 2


def test_unlabelled_test_images_are_not_cases(rows):
    assert "amos_0600" not in set(rows["case_id"])
    assert SPEC.case_modality("amos_0500") == "CT"
    assert SPEC.case_modality("amos_0501") == "MR"


def test_label_15_is_named_by_sex(built, replica):
    rows, skipped = built
    # the replica's CSV: amos_id 1 is M (a CT case), 540 is F (an MR case)
    assert _label_15(rows) == {"amos_0001": "prostate", "amos_0540": "uterus"}
    _, planted = replica
    plants = {(p.case_key, p.label): p for p in planted}
    for row in _boxes(rows):
        if row["source_label"] != "15":
            continue
        plant = plants[(row["case_id"], row["label"])]
        # the box frames the planted blob in the PNG and keeps its size in mm
        assert_frames_blob(row, atol=1)
        assert_keeps_size_mm(row, plant.extent_mm)
    assert not [s for s in skipped if "(15)" in s["item"] or "metadata CSV" in s["reason"]]
    assert all(is_canonical(n) for n in SPEC.label_name_from_csv.names.values())


def test_label_15_falls_back_without_the_csv(replica, tmp_path):
    rows, skipped = _variant(replica, tmp_path, None)
    assert _label_15(rows) == {"amos_0001": "prostate or uterus", "amos_0540": "prostate or uterus"}
    (note,) = [s for s in skipped if "metadata CSV" in s["reason"]]
    assert note["case_id"] == "" and "labeled_data_meta*.csv" in note["item"]
    assert {r["label"] for r in rows} >= {"liver", "spleen"}  # the rest of the build goes on


def test_csv_ids_and_values_match_loosely_and_unknowns_fall_back(replica, tmp_path):
    # prefixed id and a lower-case, padded value; an unknown value; no row for amos_0540
    csv_rows = (("amos_0001", " m ", "061Y"), ("0540", "O", "047Y"))
    rows, skipped = _variant(replica, tmp_path, csv_rows)
    assert _label_15(rows) == {"amos_0001": "prostate", "amos_0540": "prostate or uterus"}
    (note,) = [s for s in skipped if s["item"] == "prostate or uterus (15)"]
    assert note["case_id"] == "amos_0540" and "'O'" in note["reason"]
    assert amos2022.META_CSV in note["reason"]


def test_a_case_without_a_csv_row_is_listed(replica, tmp_path):
    root = tmp_path / "AMOS2022"
    shutil.copytree(replica[0] / "AMOS2022", root)
    amos2022.write_meta_csv(root / amos2022.META_CSV, (("1", "F", "061Y"),))
    cases, skipped = SPEC.discover(root)
    names = {c.case_id: dict(c.get("label_names", ())) for c in cases}
    assert names == {"amos_0001": {15: "uterus"}, "amos_0540": {}}
    (note,) = [s for s in skipped if s.item == "prostate or uterus (15)"]
    assert note.case_id == "amos_0540" and 'no "Patient\'s Sex"' in note.reason


@pytest.mark.parametrize(
    ("written", "key"),
    [("1", "1"), ("0001", "1"), ("amos_0001", "1"), (" 1.0 ", "1"), ("540", "540"), ("X_a", "x_a")],
)
def test_csv_id_key_by_hand(written, key):
    assert csv_id_key(written) == key
