"""AMOS2022: CT and MR share folders, told apart by case number; 2 = right kidney."""

import pytest
from datasets import load_dataset

from medbench.builders.vgmed.build import BuildConfig, build_vgmed
from medbench.builders.vgmed.sources import SOURCES
from medbench.demo import amos2022


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    root = tmp_path_factory.mktemp("amos-src")
    amos2022.write(root / "AMOS2022")
    out = tmp_path_factory.mktemp("amos-out") / "out"
    build_vgmed(BuildConfig(source_root=root, out=out, datasets=["AMOS2022"]))
    return load_dataset(str(out), split="test")


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
    assert SOURCES["AMOS2022"].case_modality("amos_0500") == "CT"
    assert SOURCES["AMOS2022"].case_modality("amos_0501") == "MR"
