"""``medbench build vqa`` over the Med-VQA layout replicas (medbench.demo.vqa).

Every expectation below is written out by hand from what the replica modules plant (see
their docstrings), not recomputed from them: row counts, closed/open, options in prompt
order with the answer index, yes/no normalisation, the missing image listed while the rest
builds, HuatuoGPT-Vision's combined JSON giving the native rows for SLAKE's closed yes/no
questions, and byte-identical shards across two builds.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Image, List, load_dataset
from typer.testing import CliRunner

from medbench.builders.vqa.build import BuildError, VQABuildConfig, build_vqa, expand_benchmarks
from medbench.builders.vqa.records import RawQuestion, finalize, natural_key, yes_no
from medbench.cli import app
from medbench.demo.vqa import write_all

SPLITS = {
    "vqa-rad": "test",
    "slake": "test",
    "pathvqa": "test",
    "pmc-vqa": "test",
    "omnimedvqa": "test",
    "mmmu-med": "validation",
}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory) -> Path:
    return write_all(tmp_path_factory.mktemp("vqa-sources"))


def _build(root: Path, out: Path, **kwargs):
    return build_vqa(VQABuildConfig(source_root=root, out=out, **kwargs))


@pytest.fixture(scope="module")
def native(replicas, tmp_path_factory):
    out = tmp_path_factory.mktemp("vqa-native")
    return out, _build(replicas, out, input="native")


@pytest.fixture(scope="module")
def huatuo(replicas, tmp_path_factory):
    out = tmp_path_factory.mktemp("vqa-huatuo")
    return out, _build(replicas, out, input="huatuo")


def load_rows(out: Path, benchmark: str) -> list[dict]:
    ds = load_dataset(str(out / benchmark), split=SPLITS[benchmark])
    ds = ds.cast_column("image", Image(decode=False))
    return list(ds.cast_column("extra_images", List(Image(decode=False))))


def key(row: dict) -> tuple:
    """What a benchmark row says, image aside."""
    return (
        row["source_id"],
        row["question"],
        row["options"],
        row["answer"],
        row["answer_index"],
        row["answer_type"],
    )


def skipped(result, benchmark: str) -> dict[str, str]:
    build = next(b for b in result.built if b.benchmark == benchmark)
    return {s.source_id: s.reason for s in build.skipped}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- one test per benchmark: rows against the replica's planted questions -----------------


def test_vqa_rad(native, replicas):
    out, result = native
    rows = load_rows(out, "vqa-rad")
    assert [key(r) for r in rows] == [
        ("1", "Is there a pneumothorax?", ["yes", "no"], "yes", 0, "closed"),
        ("2", "Is the heart enlarged?", ["yes", "no"], "yes", 0, "closed"),  # "yes."
        ("3", "What imaging modality was used?", [], "MRI T2 weighted", None, "open"),
        ("4", "Is the lesion on the left or right?", [], "left", None, "closed"),
        ("10", "How many lesions are there?", [], "2", None, "open"),  # a JSON number
    ]
    assert [(r["question_type"], r["body_part"]) for r in rows] == [
        ("PRES", "CHEST"),
        ("SIZE", "CHEST"),
        ("MODALITY", "HEAD"),
        ("POS", "HEAD"),
        ("COUNT", "HEAD"),
    ]
    assert {r["split"] for r in rows} == {"test"} and {r["benchmark"] for r in rows} == {"vqa-rad"}
    reasons = skipped(result, "vqa-rad")
    assert list(reasons) == ["5"]
    assert "synpic300.jpg not found" in reasons["5"]
    image_dir = replicas / "vqa-rad" / "VQA_RAD Image Folder"
    # image bytes are the file as shipped
    assert rows[0]["image"]["bytes"] == (image_dir / "synpic100.jpg").read_bytes()
    assert rows[2]["image"]["bytes"] == (image_dir / "synpic200.jpg").read_bytes()
    assert rows[0]["image_name"] == "synpic100.jpg"
    build = next(b for b in result.built if b.benchmark == "vqa-rad")
    assert dict(build.read.excluded) == {"phrase_type freeform": 1, "phrase_type frame": 1}


def test_slake_english_by_default(native):
    out, result = native
    rows = load_rows(out, "slake")
    assert [key(r) for r in rows] == [
        ("11934", "What modality is used to take this image?", [], "CT", None, "open"),
        ("11938", "Does the picture contain liver?", ["yes", "no"], "no", 1, "closed"),
        ("11939", "Does the picture contain lung?", ["yes", "no"], "yes", 0, "closed"),
        (
            "11944",
            "Which is the biggest in this image,lung,liver or heart?",
            [],
            "Lung",
            None,
            "closed",
        ),
        ("11970", "Are there abnormalities in this image?", ["yes", "no"], "yes", 0, "closed"),
    ]
    assert [(r["question_type"], r["modality"], r["body_part"]) for r in rows][-1] == (
        "Abnormality",
        "X-Ray",
        "Chest",
    )
    assert {r["language"] for r in rows} == {"en"}
    assert rows[0]["image_name"] == "xmlab1/source.jpg"
    assert list(skipped(result, "slake")) == ["11990"]
    assert "xmlab3/source.jpg not found" in skipped(result, "slake")["11990"]
    build = next(b for b in result.built if b.benchmark == "slake")
    assert dict(build.read.excluded) == {"language zh": 1}


def test_slake_language_option_adds_chinese(replicas, tmp_path):
    result = _build(replicas, tmp_path, benchmarks=["slake"], languages=("en", "zh"))
    rows = load_rows(tmp_path, "slake")
    assert [r["source_id"] for r in rows] == ["11934", "11938", "11939", "11944", "11945", "11970"]
    chinese = rows[4]
    assert (chinese["language"], chinese["question"], chinese["answer"]) == (
        "zh",
        "这张图片包含肺吗?",
        "是",
    )
    assert (chinese["answer_type"], chinese["options"]) == ("closed", [])
    assert not result.built[0].read.excluded


def test_slake_validation_split(replicas, tmp_path):
    _build(replicas, tmp_path, benchmarks=["slake"], split="validate")
    ds = load_dataset(str(tmp_path / "slake"), split="validation")
    assert [(r["source_id"], r["answer"], r["split"]) for r in ds] == [
        ("9001", "yes", "validation")
    ]


def test_pathvqa(native):
    out, result = native
    rows = load_rows(out, "pathvqa")
    assert [key(r) for r in rows] == [
        ("1", "What have lost their nuclei?", [], "neutrophils", None, "open"),
        ("2", "Does this image show fibrosis?", ["yes", "no"], "no", 1, "closed"),
        ("3", "Is the nucleus enlarged?", ["yes", "no"], "yes", 0, "closed"),
        ("5", "How are the cells arranged?", [], "in sheets", None, "open"),
    ]
    assert rows[0]["image_name"] == "test_0001.jpg"
    assert list(skipped(result, "pathvqa")) == ["4"]
    assert "test_0003.jpg not found" in skipped(result, "pathvqa")["4"]


def test_pathvqa_question_only_pickle(replicas, tmp_path):
    """Without ``test_vqa.pkl``, ``test/test_qa.pkl`` is read: ids are list positions and
    closed means a yes/no answer."""
    root = tmp_path / "src"
    shutil.copytree(replicas / "pathvqa", root / "pathvqa")
    (root / "pathvqa" / "pvqa" / "qas" / "test_vqa.pkl").unlink()
    result = _build(root, tmp_path / "out", benchmarks=["pathvqa"])
    rows = load_rows(tmp_path / "out", "pathvqa")
    assert [key(r) for r in rows] == [
        ("#0", "Is the nucleus enlarged?", ["yes", "no"], "yes", 0, "closed"),
        ("#1", "What have lost their nuclei?", [], "neutrophils", None, "open"),
        ("#2", "Does this image show fibrosis?", ["yes", "no"], "no", 1, "closed"),
        ("#4", "How are the cells arranged?", [], "in sheets", None, "open"),
    ]
    assert list(skipped(result, "pathvqa")) == ["#3"]


def test_pmc_vqa(native):
    out, result = native
    rows = load_rows(out, "pmc-vqa")
    assert [key(r) for r in rows] == [
        (
            "0",
            "What is the uptake pattern in the breast?",
            [
                "Diffuse uptake pattern",
                "Focal uptake pattern",
                "No uptake pattern",
                "Cannot determine from the information given",
            ],
            "Focal uptake pattern",
            1,
            "closed",
        ),
        (
            "1",
            "Which imaging modality was used?",
            ["CT", "X-ray", "MRI", "Ultrasound"],
            "MRI",
            2,
            "closed",
        ),
        (
            "3",
            "Is the lesion hyperintense?",
            ["Yes", "No", "Cannot tell", "Not shown"],  # four options: not a yes/no pair
            "Yes",
            0,
            "closed",
        ),
    ]
    assert list(skipped(result, "pmc-vqa")) == ["2"]
    assert "PMC300_F1.jpg not found" in skipped(result, "pmc-vqa")["2"]


def test_omnimedvqa(native):
    out, result = native
    rows = load_rows(out, "omnimedvqa")
    assert [key(r) for r in rows] == [
        (
            "Chest CT Scan_0",
            "What abnormality is shown in this CT image?",
            ["Normal", "Adenocarcinoma", "Squamous cell carcinoma", "Large cell carcinoma"],
            "Adenocarcinoma",
            1,
            "closed",
        ),
        # options "No", "Yes" are a yes/no pair: the canonical order, index following
        (
            "Chest CT Scan_1",
            "Is there any abnormality in this image?",
            ["yes", "no"],
            "no",
            1,
            "closed",
        ),
        (
            "Retinal OCT-C8_0",
            "Which layer is thickened?",
            ["Nerve fibre layer", "Choroid", "Retinal pigment epithelium"],
            "Retinal pigment epithelium",
            2,
            "closed",
        ),
    ]
    assert [(r["subset"], r["modality"], r["question_type"]) for r in rows] == [
        ("Chest CT Scan", "CT(Computed Tomography)", "Disease Diagnosis"),
        ("Chest CT Scan", "CT(Computed Tomography)", "Disease Diagnosis"),  # spelt 'modality'
        ("Retinal OCT-C8", "OCT (Optical Coherence Tomography", "Anatomy Identification"),
    ]
    assert list(skipped(result, "omnimedvqa")) == ["Chest CT Scan_2"]
    build = next(b for b in result.built if b.benchmark == "omnimedvqa")
    assert [p.name for p in build.read.input_files] == ["Chest CT Scan.json", "Retinal OCT-C8.json"]


def replica_images(replicas: Path, subject: str, source_id: str) -> list[bytes]:
    """The image_1, image_2, ... bytes of one MMMU replica record, read with pyarrow."""
    table = pq.read_table(
        replicas / "mmmu-med" / "MMMU" / subject / "validation-00000-of-00001.parquet"
    )
    (record,) = [r for r in table.to_pylist() if r["id"] == source_id]
    return [record[f"image_{i}"]["bytes"] for i in range(1, 8) if record[f"image_{i}"]]


def test_mmmu_health_and_medicine(native, replicas):
    out, result = native
    rows = load_rows(out, "mmmu-med")
    assert [key(r) for r in rows] == [
        (
            "validation_Clinical_Medicine_1",
            "<image 1> What is the most likely diagnosis?",
            ["Pneumonia", "Pneumothorax", "Pleural effusion", "Normal"],
            "Pneumothorax",
            1,
            "closed",
        ),
        # two images: built, no longer skipped; answer "A" is the first option
        (
            "validation_Clinical_Medicine_2",
            "Compare <image 1> and <image 2>. Which shows edema?",
            ["Left", "Right"],
            "Left",
            0,
            "closed",
        ),
        (
            "validation_Pharmacy_1",
            "<image 1> What is the half-life in hours?",
            [],
            "3.5",
            None,
            "open",
        ),
    ]
    assert [(r["subset"], r["question_type"], r["modality"]) for r in rows] == [
        ("Clinical_Medicine", "Pulmonary, Respiratory", "X-Rays"),
        ("Clinical_Medicine", "Cardiology", "X-Rays"),
        ("Pharmacy", "Pharmacology and Drug Synthesis", "Plots and Charts"),
    ]
    # <image k> is image k of (image, *extra_images): the replica's image_1, image_2 bytes
    two = replica_images(replicas, "Clinical_Medicine", "validation_Clinical_Medicine_2")
    assert len(two) == 2 and two[0] != two[1]
    assert rows[1]["image"]["bytes"] == two[0] and rows[1]["image_name"] == "a.png"
    assert [i["bytes"] for i in rows[1]["extra_images"]] == [two[1]]
    one = replica_images(replicas, "Clinical_Medicine", "validation_Clinical_Medicine_1")
    assert [rows[0]["image"]["bytes"]] == one and rows[0]["extra_images"] == []
    assert rows[2]["extra_images"] == []
    reasons = skipped(result, "mmmu-med")
    assert set(reasons) == {"validation_Pharmacy_2"}
    assert "no image" in reasons["validation_Pharmacy_2"]
    assert rows[0]["split"] == "validation"  # MMMU's test answers are hidden
    build = next(b for b in result.built if b.benchmark == "mmmu-med")
    assert "Art" not in {p.parent.name for p in build.read.input_files}
    # every image counted: three rows, four PNGs
    assert dict(build.image_formats) == {"PNG": 4}


def test_mmmu_extra_images_decode_as_a_list_of_images(native):
    out, _ = native
    ds = load_dataset(str(out / "mmmu-med"), split="validation")
    assert ds.features["extra_images"] == List(Image())
    sizes = [[im.size for im in row["extra_images"]] for row in ds]
    assert sizes == [[], [(16, 16)], []]  # the replica's images are 16x16 PNGs


def test_mmmu_placeholders_that_cannot_be_mapped_are_skipped(replicas, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(replicas / "mmmu-med", root / "mmmu-med")
    path = root / "mmmu-med" / "MMMU" / "Clinical_Medicine" / "validation-00000-of-00001.parquet"
    table = pq.read_table(path)
    records = table.to_pylist()
    gap, extra_ref, three = dict(records[1]), dict(records[0]), dict(records[1])
    # image_1 and image_3 only: <image 2> would be the row's second image, image_3
    gap.update(id="gap", image_3=gap["image_2"], image_2=None)
    # one image, but the question names <image 2>
    extra_ref.update(id="extra_ref", question="<image 1> or <image 2>?")
    # three images, the third named in an option: built, in column order
    three.update(id="three", image_3=records[0]["image_1"], options="['<image 3>', 'Right']")
    pq.write_table(pa.Table.from_pylist([*records, gap, extra_ref, three], table.schema), path)
    result = _build(root, tmp_path / "out", benchmarks=["mmmu-med"])
    reasons = skipped(result, "mmmu-med")
    assert "not image_1..image_2" in reasons["gap"]
    assert "<image 2> names none of its 1 image(s)" in reasons["extra_ref"]
    rows = {r["source_id"]: r for r in load_rows(tmp_path / "out", "mmmu-med")}
    assert [i["bytes"] for i in rows["three"]["extra_images"]] == [
        records[1]["image_2"]["bytes"],
        records[0]["image_1"]["bytes"],
    ]
    assert rows["three"]["options"] == ["<image 3>", "Right"]


def test_huatuo_record_with_two_images_builds_one_row_with_both(replicas, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(replicas / "huatuo", root / "huatuo")
    path = root / "huatuo" / "medical_multimodel_evaluation_data.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    mmmu = next(r for r in records if r["dataset"] == "MMMU_Medical_Validation")
    two = {
        **mmmu,
        "question": "Compare <image 1> and <image 2>.",
        "image": ["images/synpic200.jpg", "images/synpic100.jpg"],
    }
    path.write_text(json.dumps([*records, two]), encoding="utf-8")
    _build(root, tmp_path / "out", input="huatuo", benchmarks=["mmmu-med"])
    rows = {r["question"]: r for r in load_rows(tmp_path / "out", "mmmu-med")}
    row = rows["Compare <image 1> and <image 2>."]
    images = root / "huatuo" / "images"
    # the record's list order: the first in image, the second in extra_images
    assert row["image"]["bytes"] == (images / "synpic200.jpg").read_bytes()
    assert [i["bytes"] for i in row["extra_images"]] == [(images / "synpic100.jpg").read_bytes()]
    assert row["image_name"] == "images/synpic200.jpg"


# --- normalisation rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Yes", "yes"),
        ("yes.", "yes"),
        (" NO ", "no"),
        ("No!", "no"),
        ("yesterday", None),
        ("no change", None),
        ("", None),
    ],
)
def test_yes_no(text, word):
    assert yes_no(text) == word


def test_finalize_rules():
    def final(**kw):
        return finalize(RawQuestion(source_id="q", image_name="x", **kw))

    closed = final(question="Is it?", answer="Yes.", label="closed")
    assert (closed.options, closed.answer, closed.answer_index) == (["yes", "no"], "yes", 0)
    # an open-labelled question keeps no options even with a yes/no answer
    assert final(question="Q", answer="yes", label="open").answer_type == "open"
    # unlabelled benchmarks: yes/no answer means closed
    assert final(question="Q", answer="No", label="").options == ["yes", "no"]
    assert final(question="Q", answer="a mass", label="").answer_type == "open"
    swapped = final(question="Q", answer="Yes", options=("No", "Yes"))
    assert (swapped.options, swapped.answer, swapped.answer_index) == (["yes", "no"], "yes", 0)
    by_index = final(question="Q", answer="ignored", options=("No", "Yes"), answer_index=0)
    assert (by_index.answer, by_index.answer_index) == ("no", 1)
    picked = final(question="Q", answer=" lung ", options=("Heart", "Lung"))
    assert (picked.answer, picked.answer_index) == ("Lung", 1)
    assert "not among the options" in final(question="Q", answer="x", options=("a", "b"))
    assert final(question="  ", answer="x") == "empty question"


def test_natural_order():
    ids = ["10", "2", "1", "Chest_10", "Chest_9", "#3"]
    assert sorted(ids, key=natural_key) == ["1", "2", "10", "#3", "Chest_9", "Chest_10"]


# --- HuatuoGPT-Vision's combined evaluation data -------------------------------------------


def test_huatuo_gives_the_native_rows_for_slake_yes_no(native, huatuo):
    """Same question, options, answer, index and image bytes; the ids differ (the combined
    JSON has none: its source id is the record position), its open questions are absent and
    its which-of question comes with options the native files do not ship."""

    def projection(rows):
        return {
            (
                r["question"],
                tuple(r["options"]),
                r["answer"],
                r["answer_index"],
                sha(r["image"]["bytes"]),
            )
            for r in rows
            if r["options"] == ["yes", "no"]
        }

    native_rows = load_rows(native[0], "slake")
    huatuo_rows = load_rows(huatuo[0], "slake")
    assert len(projection(native_rows)) == 3
    assert projection(huatuo_rows) == projection(native_rows)
    assert [r["source_id"] for r in huatuo_rows] == ["0", "1", "2", "3"]
    which = huatuo_rows[2]
    assert (which["options"], which["answer"], which["answer_index"]) == (
        ["Lung", "Liver", "Heart"],
        "Lung",
        0,
    )
    assert {r["answer_type"] for r in huatuo_rows} == {"closed"}
    assert list(skipped(huatuo[1], "slake")) == ["4"]  # its image is missing there too


def test_huatuo_other_benchmarks(huatuo):
    out, result = huatuo
    assert {b.benchmark: b.input_kind for b in result.built} == {
        "vqa-rad": "huatuo",
        "slake": "huatuo",
        "pathvqa": "huatuo",
        "pmc-vqa": "huatuo",
        "omnimedvqa": "huatuo",
        "mmmu-med": "huatuo",
    }
    assert [key(r) for r in load_rows(out, "vqa-rad")] == [
        ("8", "What imaging modality was used?", [], "MRI T2 weighted", None, "open"),
        ("9", "Is there a pneumothorax?", ["yes", "no"], "yes", 0, "closed"),
    ]
    omni = load_rows(out, "omnimedvqa")
    assert [(r["source_id"], r["answer_index"], r["modality"], r["subset"]) for r in omni] == [
        ("5", 1, "CT(Computed Tomography)", "")
    ]
    mmmu = load_rows(out, "mmmu-med")
    assert [(r["answer"], r["answer_index"], r["subset"], r["split"]) for r in mmmu] == [
        ("Pneumothorax", 1, "Clinical_Medicine", "validation")
    ]
    pmc = load_rows(out, "pmc-vqa")
    assert [(r["answer"], r["answer_index"]) for r in pmc] == [("Focal uptake pattern", 1)]
    # PathVQA's only record has an answer outside its options: listed, and no shard written
    assert "'maybe' is not one of the options" in skipped(result, "pathvqa")["10"]
    assert not list((out / "pathvqa" / "data").glob("*.parquet"))
    manifest = json.loads((out / "pathvqa" / "manifest.json").read_text())
    assert manifest["counts"]["rows"] == 0 and manifest["shards"] == []
    assert [(s.source_id, "MedXpertQA" in s.reason) for s in result.unattributed] == [("11", True)]


def test_auto_input_prefers_native_then_huatuo(replicas, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(replicas / "huatuo", root / "huatuo")
    shutil.copytree(replicas / "vqa-rad", root / "vqa-rad")
    result = _build(root, tmp_path / "out", benchmarks=["vqa-rad", "slake", "pathvqa"])
    assert {b.benchmark: b.input_kind for b in result.built} == {
        "vqa-rad": "native",
        "slake": "huatuo",
        "pathvqa": "huatuo",
    }
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = _build(empty, tmp_path / "out2", benchmarks=["slake"])
    assert not nothing.built and "SLAKE: no test.json" in nothing.missing["slake"]


# --- bad input, report, determinism, CLI ---------------------------------------------------


def test_bad_records_are_listed_and_the_rest_builds(replicas, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(replicas / "slake", root / "slake")
    slake_dir = root / "slake" / "Slake1.0"
    records = json.loads((slake_dir / "test.json").read_text(encoding="utf-8"))
    del records[1]["answer"]  # qid 11938
    (slake_dir / "test.json").write_text(json.dumps(records), encoding="utf-8")
    (slake_dir / "imgs" / "xmlab2" / "source.jpg").write_bytes(b"not a jpeg")  # qid 11970
    result = _build(root, tmp_path / "out", benchmarks=["slake"])
    reasons = skipped(result, "slake")
    assert list(reasons) == ["11938", "11970", "11990"]
    assert reasons["11938"] == "record has no answer"
    assert "does not decode" in reasons["11970"]
    rows = load_rows(tmp_path / "out", "slake")
    assert [r["source_id"] for r in rows] == ["11934", "11939", "11944"]
    with open(tmp_path / "out" / "slake" / "report" / "skipped.csv", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [(r["benchmark"], r["split"], r["source_id"]) for r in lines] == [
        ("slake", "test", "11938"),
        ("slake", "test", "11970"),
        ("slake", "test", "11990"),
    ]


def test_manifest_counts(native):
    out, _ = native
    manifest = json.loads((out / "vqa-rad" / "manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["rows"] == 5 and counts["skipped"] == 1 and counts["questions_read"] == 6
    assert counts["by_answer_type"] == {"closed": 3, "open": 2}
    assert (counts["closed_yes_no"], counts["closed_without_options"]) == (2, 1)
    assert counts["by_body_part"] == {"CHEST": 2, "HEAD": 3}
    assert manifest["input"]["kind"] == "native"
    assert [f["path"] for f in manifest["input"]["files"]] == [
        "vqa-rad/VQA_RAD Dataset Public.json"
    ]
    assert manifest["skipped"][0]["source_id"] == "5"
    omni = json.loads((out / "omnimedvqa" / "manifest.json").read_text())["counts"]
    assert omni["by_subset"] == {"Chest CT Scan": 2, "Retinal OCT-C8": 1}
    assert omni["by_image_format"] == {"JPEG": 1, "PNG": 2}
    shard = out / "vqa-rad" / "data" / "test-00000-of-00001.parquet"
    assert b"huggingface" in pq.read_schema(shard).metadata  # features in the footer


def test_two_builds_are_byte_identical(native, replicas, tmp_path):
    out, _ = native
    _build(replicas, tmp_path, input="native")
    for benchmark, split in SPLITS.items():
        first = sorted((out / benchmark / "data").glob(f"{split}-*.parquet"))
        second = sorted((tmp_path / benchmark / "data").glob(f"{split}-*.parquet"))
        assert [p.name for p in first] == [p.name for p in second] != []
        assert [sha(p.read_bytes()) for p in first] == [sha(p.read_bytes()) for p in second]


def test_expand_benchmarks():
    assert expand_benchmarks(["all"]) == list(SPLITS)
    assert expand_benchmarks(["SLAKE", "vqa-rad", "slake"]) == ["vqa-rad", "slake"]
    with pytest.raises(BuildError, match="unknown benchmark"):
        expand_benchmarks(["vqa-med"])


def test_cli_demo_and_exit_codes(tmp_path):
    runner = CliRunner()
    out = tmp_path / "demo"
    ran = runner.invoke(
        app, ["build", "vqa", "--demo", "--out", str(out), "-b", "slake", "-b", "pmc-vqa", "--json"]
    )
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.stdout)
    assert {b: v["rows"] for b, v in summary["built"].items()} == {"slake": 5, "pmc-vqa": 3}
    assert (out / ".work" / "demo-vqa" / "slake" / "Slake1.0" / "test.json").is_file()
    assert load_dataset(str(out / "slake"), split="test").num_rows == 5
    bad = runner.invoke(app, ["build", "vqa", "--demo", "--out", str(out), "-b", "vqa-med"])
    assert bad.exit_code == 2
    partial = tmp_path / "partial"
    shutil.copytree(out / ".work" / "demo-vqa" / "slake", partial / "slake")
    ran = runner.invoke(
        app,
        [
            "build",
            "vqa",
            "--source-root",
            str(partial),
            "--out",
            str(tmp_path / "o"),
            "-b",
            "slake",
            "-b",
            "pathvqa",
            "--input",
            "native",
        ],
    )
    assert ran.exit_code == 1  # pathvqa was asked for by name and is not there
    assert (tmp_path / "o" / "slake" / "data" / "test-00000-of-00001.parquet").is_file()
