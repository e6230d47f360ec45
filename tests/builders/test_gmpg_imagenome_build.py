"""``medbench build gmpg-imagenome`` on the layout replica (``medbench.demo.imagenome``): every
expected number below was counted by hand from the replica's planted graphs and reports (see
the module doc there), not from the builder."""

from __future__ import annotations

import csv
import json
import zipfile
from collections import Counter

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from medbench.cli import app
from medbench.demo import imagenome
from medbench.publish import PublishError, licence_gate
from medbench.publish.checks import validate_folder
from medbench.schemas.gmpg import GroundingRow

runner = CliRunner()
A, B, C, D, E, F, G, H, I = (imagenome.BY_ROLE[r] for r in "ABCDEFGHI")  # noqa: E741


def _build(paths: dict, out, *extra) -> dict:
    args = ["build", "gmpg-imagenome", "--out", str(out), "--json"]
    args += ["--imagenome-root", str(paths["imagenome_root"])]
    args += ["--mimic-reports", str(paths["mimic_reports"])]
    args += ["--mimic-jpg", str(paths["mimic_jpg"]), "--ms-cxr", str(paths["ms_cxr"]), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("imagenome-replica")
    paths = imagenome.write(root, seed=0, form="zip")
    out = tmp_path_factory.mktemp("gmpg") / "out"
    summary = _build(paths, out)
    manifest = json.loads((out / "manifest.json").read_text())
    rows = {}
    for split in ("train", "valid", "test"):
        ds = load_dataset(str(out), split=split, download_mode="force_redownload")
        rows[split] = list(ds)
    return paths, out, summary, manifest, rows


def _by_sentence(rows, spec) -> dict[str, dict]:
    return {
        r["sentence"]: r for split in rows.values() for r in split if r["image_id"] == spec.dicom_id
    }


def _shipped_box(paths, spec, region) -> list[float]:
    """The box as the replica's scene graph ships it (read from the zip, not the builder)."""
    zpath = paths["imagenome_root"] / "silver_dataset" / "scene_graph.zip"
    with zipfile.ZipFile(zpath) as zf:
        graph = json.loads(zf.read(f"scene_graph/{spec.dicom_id}_SceneGraph.json"))
    obj = next(o for o in graph["objects"] if o["bbox_name"] == region)
    return [float(obj[f"original_{k}"]) for k in ("x1", "y1", "x2", "y2")]


def test_funnel_matches_the_hand_count(built):
    _, _, summary, manifest, _ = built
    # (images, image-phrase pairs, sentence-box pairs, zero-box rows) after each stage:
    # source: 9 graphs, 20 sentences, 43 links to a region with an object (44 links in all;
    # A's "right breast" has no object). Exclusions drop C, D (MS-CXR study), E (gold, valid),
    # G (no split): 14 sentences, 31 boxes. Valid boxes: B's zero-width left apical zone goes
    # (30). Specificity removes 10 parents (20). Negatives zero A1, A4, B3, F2, H2, I1, I2
    # (8 boxes left). Stage 3 adds A: 2, F: 1, H: 1, I: 1 report sentences.
    expected = [
        ("scene_graphs", 9, 20, 43, 1),
        ("image_exclusions", 5, 14, 31, 1),
        ("valid_boxes", 5, 14, 30, 1),
        ("specificity", 5, 14, 20, 1),
        ("negatives", 5, 14, 8, 8),
        ("non_grounding", 5, 19, 8, 13),
    ]
    got = [
        (
            f["stage"],
            f["images"],
            f["image_phrase_pairs"],
            f["sentence_box_pairs"],
            f["zero_box_rows"],
        )
        for f in summary["funnel"]
    ]
    assert got == expected
    assert manifest["reduction"]["sentence_box_pairs"] == round(1 - 8 / 43, 4)
    assert manifest["funnel"][0]["sentence_region_links"] == 44


def test_table2_matches_the_hand_count(built):
    t2 = built[3]["table2"]
    # train: A (5 graph + 2 report sentences), B (3), I (2 + 1). Boxes: A 1 + 2, B 1 + 1.
    # Words: A 9 11 7 5 3 9 4, B 7 4 4, I 2 5 3 -> 73 over 13, squares 501.
    train = t2["train"]
    assert (train["images"], train["image_phrase_pairs"], train["boxes"]) == (3, 13, 5)
    assert (
        train["phrases_with_0_boxes"],
        train["phrases_with_1_box"],
        train["phrases_with_2plus_boxes"],
    ) == (9, 3, 1)
    assert train["pct_0_1_2plus"] == [69.2, 23.1, 7.7]
    assert train["sentence_length_mean"] == round(73 / 13, 2)
    assert train["sentence_length_sd"] == round(((501 - 73**2 / 13) / 12) ** 0.5, 2)
    # valid: H only (E is a gold image): 4, 5, 5 words; one box
    assert t2["valid"] == {
        "images": 1,
        "image_phrase_pairs": 3,
        "boxes": 1,
        "phrases_with_0_boxes": 2,
        "phrases_with_1_box": 1,
        "phrases_with_2plus_boxes": 0,
        "pct_0_1_2plus": [66.7, 33.3, 0.0],
        "sentence_length_mean": 4.67,
        "sentence_length_sd": 0.58,
    }
    # test: F (gold, but test images are kept): 9, 2, 4 words; PICC sentence with 2 boxes
    test = t2["test"]
    assert (test["images"], test["image_phrase_pairs"], test["boxes"]) == (1, 3, 2)
    assert test["pct_0_1_2plus"] == [66.7, 0.0, 33.3]
    assert (test["sentence_length_mean"], test["sentence_length_sd"]) == (5.0, 3.61)
    assert t2["all"]["image_phrase_pairs"] == 19 and t2["all"]["boxes"] == 8


def test_negatives_are_zero_boxed_with_their_rule(built):
    paths, _, _, manifest, rows = built
    a = _by_sentence(rows, A)
    row = a["There is no focal consolidation, pleural effusion or pneumothorax."]
    assert row["boxes"] == [] and row["groundable"] is False
    assert row["original_regions"] == [
        "right lung",
        "right costophrenic angle",
        "left lung",
        "left costophrenic angle",
    ]
    steps = {s["stage"]: s for s in row["cleanup"]}
    assert steps["specificity"]["removed"] == ["right lung", "left lung"]
    assert steps["specificity"]["decided_by"].startswith("hierarchy:regions.yaml@")
    assert steps["negative"]["removed"] == ["right costophrenic angle", "left costophrenic angle"]
    assert steps["negative"]["decided_by"] == "rule:flags-all-negative"
    assert "anatomicalfinding|no|pneumothorax" in steps["negative"]["reason"]
    b = _by_sentence(rows, B)
    assert b["Lungs are otherwise clear."]["cleanup"][-1]["decided_by"] == "rule:flags-normal"
    h = _by_sentence(rows, H)
    cue = h["There is no pleural effusion."]
    assert cue["boxes"] == [] and cue["cleanup"][-1]["decided_by"] == "rule:negation-cue"
    assert manifest["negatives"]["rules"] == {
        "flags-all-negative": 5,
        "flags-normal": 1,
        "flags-positive": 7,
        "negation-cue": 1,
    }


def test_positive_rows_keep_the_most_specific_boxes(built):
    paths, _, _, _, rows = built
    a = _by_sentence(rows, A)
    row = a["Mild bibasilar atelectasis."]
    assert row["box_names"] == ["right lower lung zone", "left lower lung zone"]
    assert row["boxes"] == [
        _shipped_box(paths, A, "right lower lung zone"),
        _shipped_box(paths, A, "left lower lung zone"),
    ]
    assert row["label"] == "atelectasis" and row["groundable"] is True
    assert (row["image_width"], row["image_height"]) == A.size  # from the JPEG header
    assert row["image_path"] == f"files/p10/p{A.subject_id}/s{A.study_id}/{A.dicom_id}.jpg"
    assert row["image"] is None
    b = _by_sentence(rows, B)
    ptx = b["Small left apical pneumothorax."]
    assert ptx["box_names"] == ["left upper lung zone"]
    assert [s["stage"] for s in ptx["cleanup"]] == ["boxes", "specificity"]
    assert ptx["cleanup"][0] == {
        "stage": "boxes",
        "removed": ["left apical zone"],
        "decided_by": "degenerate-box",
        "reason": "no area once clipped to the 2539x3050 image",
    }
    hemi = b["Elevation of the left hemidiaphragm is unchanged."]
    shipped = _shipped_box(paths, B, "left hemidiaphragm")
    assert shipped[2] == 2600.0 and hemi["boxes"] == [[*shipped[:2], 2539.0, shipped[3]]]
    f = _by_sentence(rows, F)
    picc = f["Right PICC line tip is in the cavoatrial junction."]
    assert picc["box_names"] == ["svc", "cavoatrial junction"]
    assert (picc["image_width"], picc["image_height"]) == F.size  # metadata CSV only
    assert {r["image_width"] for r in _by_sentence(rows, H).values()} == {0}  # unknown
    clips = a["Surgical clips project over the right breast."]
    assert clips["boxes"] == [] and clips["cleanup"][0]["decided_by"] == "no-object"


def test_non_grounding_report_sentences_are_added(built):
    rows = built[4]
    added = {
        r["sentence"]
        for split in rows.values()
        for r in split
        if r["cleanup"] and r["cleanup"][0]["stage"] == "non-grounding"
    }
    assert added == {
        "PA and lateral views of the chest were obtained.",
        "No acute cardiopulmonary process.",
        "PICC in standard position.",
        "Median sternotomy wires are intact.",
        "No acute process.",
    }
    i = _by_sentence(rows, I)
    assert set(i) == {"No pneumothorax.", "The heart size is normal.", "No acute process."}
    assert built[3]["non_grounding"]["added_non_grounding"] == 5


def test_ms_cxr_studies_and_other_exclusions(built):
    _, out, _, manifest, rows = built
    present = {r["image_id"] for split in rows.values() for r in split}
    assert present == {A.dicom_id, B.dicom_id, F.dicom_id, H.dicom_id, I.dicom_id}
    leakage = (out / "report" / "leakage.csv").read_text().splitlines()
    assert leakage[1:] == sorted(
        [
            f"{C.study_id},{C.subject_id},{C.dicom_id},train,dicom_id",
            f"{D.study_id},{D.subject_id},{D.dicom_id},train,study",
        ]
    )
    assert manifest["leakage"]["excluded_studies"] == 1
    assert manifest["leakage"]["ms_cxr_studies"] == 2  # one is not in Chest ImaGenome
    assert manifest["counts"]["excluded_images"] == {
        "gold-image": 1,
        "ms-cxr-overlap": 2,
        "no-split": 1,
    }
    excluded = (out / "report" / "excluded_images.csv").read_text()
    assert f"{E.dicom_id},{E.study_id},valid,gold-image" in excluded
    assert f"{G.dicom_id},{G.study_id},,no-split" in excluded


def test_manifest_boxes_hierarchy_check_and_sizes(built):
    manifest = built[3]
    counts = manifest["counts"]
    # B's zero-width left apical zone, F's left upper abdomen below the image
    assert counts["degenerate_boxes_by_region"] == {"left apical zone": 1, "left upper abdomen": 1}
    assert counts["linked_regions_without_object_by_region"] == {"right breast": 1}
    assert counts["image_size_source"] == {"jpg-header": 3, "jpg-metadata": 1, "unknown": 1}
    check = manifest["hierarchy"]["check"]
    assert check["images"] == 5 and check["violations"] == 1  # B's costophrenic angle
    spec = manifest["specificity"]
    assert (spec["decisions"], spec["single_region_sentences"], spec["removed_regions"]) == (
        12,
        1,
        10,
    )
    assert spec["unique_requests"] is None  # no LLM asked
    assert spec["removed_by_region"] == {"left lung": 3, "mediastinum": 4, "right lung": 3}


def test_region_usage_is_counted_from_what_the_rows_say(built):
    """report/regions.csv against the output rows themselves: sentences linking a region are
    the rows listing it in original_regions, sentences keeping it the rows with its box."""
    out, manifest, rows = built[1], built[3], built[4]
    every = [row for split in rows.values() for row in split]
    linked = Counter(r for row in every for r in row["original_regions"])
    kept = Counter(r for row in every for r in row["box_names"])
    with open(out / "report" / "regions.csv", newline="") as fh:
        table = {
            line["region"]: (int(line["sentences_linked"]), int(line["sentences_kept"]))
            for line in csv.DictReader(fh)
        }
    assert table == {r: (linked[r], kept[r]) for r in linked | kept}
    usage = manifest["regions"]
    assert (usage["linked"], usage["kept"]) == (len(linked), len(kept))
    assert "trachea" in usage["never_linked"] and "left lung" not in usage["never_linked"]


def test_rows_match_the_schema_and_the_output_is_credentialed(built):
    _, out, _, manifest, rows = built
    for split in rows.values():
        for row in split:
            GroundingRow.model_validate(row)
    sources = {s["id"]: s for s in manifest["sources"]}
    assert (
        sources["chest-imagenome"]["credentialed"] and not sources["mimic-cxr"]["redistributable"]
    )
    validate_folder(out)  # a well-formed output folder (card, shards listed with their hashes)
    with pytest.raises(PublishError, match="credentialed"):
        licence_gate(manifest, private=False)
    assert "Do not redistribute" in (out / "README.md").read_text()


def test_folder_form_gives_identical_shards(built, tmp_path):
    _, _, summary, _, _ = built
    paths = imagenome.write(tmp_path / "replica", seed=0, form="folder")
    again = _build(paths, tmp_path / "out")
    assert [s["sha256"] for s in again["shards"]] == [s["sha256"] for s in summary["shards"]]


def test_bad_graph_is_listed_not_fatal_and_cli_errors(built, tmp_path):
    paths = imagenome.write(tmp_path / "replica", seed=0, form="folder")
    folder = paths["imagenome_root"] / "silver_dataset" / "scene_graph"
    (folder / f"{A.dicom_id}_SceneGraph.json").write_text("{truncated")
    summary = _build(paths, tmp_path / "out")
    assert summary["errors"] == 1 and summary["rows"] == 19 - 7
    errors = (tmp_path / "out" / "report" / "errors.csv").read_text()
    assert A.dicom_id in errors and "not JSON" in errors
    result = runner.invoke(app, ["build", "gmpg-imagenome", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    result = runner.invoke(
        app,
        ["build", "gmpg-imagenome", "--demo", "--out", str(tmp_path / "y"), "--specificity", "llm"],
    )
    assert result.exit_code == 2 and "needs an LLM" in result.output


def test_demo_flag_builds_the_replica(tmp_path):
    result = runner.invoke(
        app, ["build", "gmpg-imagenome", "--demo", "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["rows"] == 19 and summary["leakage"]["excluded_images"] == 2


def _jpg(spec) -> str:
    """The image's path in the MIMIC-CXR-JPG layout."""
    s = spec.subject_id
    return f"files/p{s[:2]}/p{s}/s{spec.study_id}/{spec.dicom_id}.jpg"


def _shard_rows(out) -> list[dict]:
    """Every row of the build's shards, as stored (image bytes raw, not decoded)."""
    manifest = json.loads((out / "manifest.json").read_text())
    return [r for s in manifest["shards"] for r in pq.read_table(out / s["path"]).to_pylist()]


def test_embed_images_embeds_the_jpegs_as_shipped_and_lists_the_rest(built, tmp_path):
    _, plain_out, _, plain_manifest, _ = built
    assert plain_manifest["images_embedded"] is False
    assert not (plain_out / "report" / "missing_images.csv").exists()
    assert "No image bytes are stored" in (plain_out / "README.md").read_text()

    paths = imagenome.write(tmp_path / "replica", seed=0, form="zip")
    jpg = paths["mimic_jpg"]
    # the replica ships JPEGs for A, B and I (F's size is only in the metadata CSV, H has
    # none); I's is damaged here
    (jpg / _jpg(I)).write_bytes(b"\xff\xd8 not a jpeg")
    out = tmp_path / "out"
    summary = _build(paths, out, "--embed-images")

    rows = _shard_rows(out)
    per_image = {spec.dicom_id: 0 for spec in (A, B, F, H, I)}
    for row in rows:
        per_image[row["image_id"]] += 1
        if row["image_id"] in (A.dicom_id, B.dicom_id):
            assert row["image"]["bytes"] == (jpg / row["image_path"]).read_bytes()
        else:
            assert row["image"] is None, row["image_id"]
    # everything but the bytes is the plain build's, and I's size source: its damaged JPEG
    # header no longer answers, the metadata CSV does (with the same size)
    plain = _shard_rows(plain_out)
    for row in plain:
        if row["image_id"] == I.dicom_id:
            assert row["image_size_source"] == "jpg-header"
            row["image_size_source"] = "jpg-metadata"
    assert [{**r, "image": None} for r in rows] == plain

    listed = (out / "report" / "missing_images.csv").read_text().splitlines()
    assert listed[0] == "image_path,problem,outcome"
    by_path = {line.split(",", 1)[0]: line for line in listed[1:]}
    assert set(by_path) == {_jpg(s) for s in (F, H, I)}
    assert (
        ",missing,rows written without image bytes (size from jpg-metadata)" in (by_path[_jpg(F)])
    )
    assert ",missing,rows written without image bytes (size unknown)" in (by_path[_jpg(H)])
    assert ",unreadable: UnidentifiedImageError" in by_path[_jpg(I)]

    manifest = json.loads((out / "manifest.json").read_text())
    counts = manifest["counts"]
    assert manifest["images_embedded"] is True and manifest["config"]["embed_images"] is True
    assert counts["images_embedded"] == 2
    assert counts["rows_with_image_bytes"] == per_image[A.dicom_id] + per_image[B.dicom_id]
    assert counts["image_issues_by_problem"] == {"missing": 2, "unreadable": 1}
    assert summary["images"]["image_issues"] == 3
    sources = {s["id"]: s for s in manifest["sources"]}
    assert sources["mimic-cxr-jpg"]["images_embedded"] is True
    card = (out / "README.md").read_text()
    assert "embeds the MIMIC-CXR-JPG images (`--embed-images`) for local use only" in card
    assert "No image bytes are stored" not in card
    # the Hub's Image feature decodes them
    train = load_dataset(str(out), split="train", download_mode="force_redownload")
    decoded = next(r for r in train if r["image_id"] == A.dicom_id)["image"]
    assert decoded.size == A.size

    # publish refuses a public push; the folder is otherwise valid (a private dry run passes)
    result = runner.invoke(app, ["publish", str(out), "--repo-id", "org/x", "--dry-run"])
    assert result.exit_code == 2 and "refusing a public upload" in result.output
    result = runner.invoke(
        app, ["publish", str(out), "--repo-id", "org/x", "--dry-run", "--private"]
    )
    assert result.exit_code == 0, result.output

    # a rebuild without --embed-images into the same folder drops the bytes and the list
    # (I's JPEG repaired first, so its size comes from the header again, as in the plain build)
    (jpg / _jpg(I)).write_bytes((built[0]["mimic_jpg"] / _jpg(I)).read_bytes())
    again = _build(paths, out)
    assert [s["sha256"] for s in again["shards"]] == [s["sha256"] for s in plain_manifest["shards"]]
    assert not (out / "report" / "missing_images.csv").exists()


def test_embed_images_needs_the_jpg_folder(built, tmp_path):
    paths = built[0]
    args = ["build", "gmpg-imagenome", "--out", str(tmp_path / "x"), "--embed-images"]
    args += ["--imagenome-root", str(paths["imagenome_root"])]
    args += ["--mimic-reports", str(paths["mimic_reports"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --embed-images needs --mimic-jpg (the MIMIC-CXR-JPG folder the bytes come from)"
    ]
    result = runner.invoke(app, [*args, "--mimic-jpg", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "needs the MIMIC-CXR-JPG folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _graph_json(paths, spec) -> dict:
    """The replica's scene graph of one image, from the zip or the extracted folder."""
    silver = paths["imagenome_root"] / "silver_dataset"
    name = f"{spec.dicom_id}_SceneGraph.json"
    if (silver / "scene_graph").is_dir():
        return json.loads((silver / "scene_graph" / name).read_text())
    with zipfile.ZipFile(silver / "scene_graph.zip") as zf:
        return json.loads(zf.read(f"scene_graph/{name}"))


def _planted_flags(paths, spec) -> dict[str, set[str]]:
    """Sentence (whitespace collapsed) -> the union of the attribute strings the replica's JSON
    lists for it under every region: read here, not through the builder."""
    graph = _graph_json(paths, spec)
    flags: dict[str, set[str]] = {}
    for entry in graph["attributes"]:
        for phrase, strings in zip(entry["phrases"], entry["attributes"], strict=True):
            flags.setdefault(" ".join(phrase.split()), set()).update(strings)
    return flags


def test_rows_carry_the_sentence_attribute_flags_of_the_json(built):
    paths, _, _, _, rows = built
    checked = 0
    for spec in (A, B, F, H, I):
        planted = _planted_flags(paths, spec)
        for sentence, row in _by_sentence(rows, spec).items():
            if row["cleanup"] and row["cleanup"][0]["stage"] == "non-grounding":
                assert row["attributes"] == [], sentence  # a report sentence has no flags
                continue
            assert row["attributes"] == sorted(planted[sentence]), sentence
            checked += 1
    assert checked == 14  # every scene-graph sentence of the kept images
    # one by hand: A's phrase linked to two regions, the same three strings under each
    patchy = "Patchy opacity in the right lower lung zone may reflect atelectasis."
    assert _by_sentence(rows, A)[patchy]["attributes"] == [
        "anatomicalfinding|yes|atelectasis",
        "anatomicalfinding|yes|lung opacity",
        "nlp|yes|abnormal",
    ]
    # H's "There is no pleural effusion." ships empty lists: no flags, decided by the text
    assert _by_sentence(rows, H)["There is no pleural effusion."]["attributes"] == []


def test_attribute_flags_are_the_union_over_the_sentence_regions(tmp_path):
    """The replica gives a phrase the same strings under each of its regions; here one region
    of A's bibasilar sentence gets two more, so only a union over the regions matches."""
    paths = imagenome.write(tmp_path / "replica", seed=0, form="folder")
    graph_file = (
        paths["imagenome_root"] / "silver_dataset" / "scene_graph" / f"{A.dicom_id}_SceneGraph.json"
    )
    graph = json.loads(graph_file.read_text())
    entry = next(e for e in graph["attributes"] if e["bbox_name"] == "left lower lung zone")
    entry["attributes"][entry["phrases"].index("Mild bibasilar atelectasis.")] += [
        "laterality|yes|left",
        "texture|no|patchy",
    ]
    graph_file.write_text(json.dumps(graph))
    out = tmp_path / "out"
    _build(paths, out)
    row = next(r for r in _shard_rows(out) if r["sentence"] == "Mild bibasilar atelectasis.")
    assert row["attributes"] == sorted(_planted_flags(paths, A)["Mild bibasilar atelectasis."])
    assert row["attributes"] == [
        "anatomicalfinding|yes|atelectasis",
        "laterality|yes|left",
        "nlp|yes|abnormal",
        "severity|yes|mild",
        "texture|no|patchy",
    ]


def _sizes_by_image(out) -> dict[str, set[tuple[int, int, str]]]:
    sizes: dict[str, set[tuple[int, int, str]]] = {}
    for row in _shard_rows(out):
        size = (row["image_width"], row["image_height"], row["image_size_source"])
        sizes.setdefault(row["image_id"], set()).add(size)
    return sizes


def test_image_size_source_with_and_without_mimic_jpg(built, tmp_path):
    _, out, _, manifest, _ = built
    # the replica ships JPEGs for A, B and I; F is only in the metadata CSV; H is nowhere
    assert _sizes_by_image(out) == {
        A.dicom_id: {(*A.size, "jpg-header")},
        B.dicom_id: {(*B.size, "jpg-header")},
        I.dicom_id: {(*I.size, "jpg-header")},
        F.dicom_id: {(*F.size, "jpg-metadata")},
        H.dicom_id: {(0, 0, "unknown")},
    }
    # H's graph given a size of its own (the keys are read only if present)
    paths = imagenome.write(tmp_path / "replica", seed=0, form="folder")
    graph_file = (
        paths["imagenome_root"] / "silver_dataset" / "scene_graph" / f"{H.dicom_id}_SceneGraph.json"
    )
    graph = json.loads(graph_file.read_text())
    graph["width"], graph["height"] = 2000, 2400
    graph_file.write_text(json.dumps(graph))
    _build(paths, tmp_path / "with")
    with_jpg = _sizes_by_image(tmp_path / "with")
    assert with_jpg[H.dicom_id] == {(2000, 2400, "scene-graph")}
    assert with_jpg[F.dicom_id] == {(*F.size, "jpg-metadata")}
    # without --mimic-jpg only the scene graph can answer
    args = ["build", "gmpg-imagenome", "--out", str(tmp_path / "without"), "--json"]
    args += ["--imagenome-root", str(paths["imagenome_root"])]
    args += ["--mimic-reports", str(paths["mimic_reports"]), "--ms-cxr", str(paths["ms_cxr"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    without = _sizes_by_image(tmp_path / "without")
    assert without == {
        **{s.dicom_id: {(0, 0, "unknown")} for s in (A, B, F, I)},
        H.dicom_id: {(2000, 2400, "scene-graph")},
    }
    counts = json.loads((tmp_path / "without" / "manifest.json").read_text())["counts"]
    assert counts["image_size_source"] == {"scene-graph": 1, "unknown": 4}


def _config(paths, out, **options):
    from medbench.builders.gmpg_imagenome.build import GmpgConfig

    return GmpgConfig(
        imagenome_root=paths["imagenome_root"],
        mimic_reports=paths["mimic_reports"],
        mimic_jpg=paths["mimic_jpg"],
        ms_cxr=paths["ms_cxr"],
        out=out,
        **options,
    )


def test_many_small_shards_stream_in_order_and_twice_byte_identical(built, tmp_path):
    from medbench.builders.gmpg_imagenome.build import build_gmpg_imagenome
    from medbench.builders.shards import TEXT_ROW_BYTES

    paths, out, _, _, rows = built
    small = _config(paths, tmp_path / "a", max_shard_bytes=4 * TEXT_ROW_BYTES)  # 4 rows a shard
    first = build_gmpg_imagenome(small).shards
    by_split = {s: [p for p in first if p.path.startswith(f"data/{s}-")] for s in rows}
    # train 13 rows, valid 3, test 3 (table 2's hand count)
    assert {s: [p.num_rows for p in v] for s, v in by_split.items()} == {
        "train": [4, 4, 4, 1],
        "valid": [3],
        "test": [3],
    }
    assert [p.path for p in by_split["train"]] == [
        f"data/train-0000{i}-of-00004.parquet" for i in range(4)
    ]
    for split, expected in rows.items():  # the same rows, in the same order, as one shard
        ds = load_dataset(str(tmp_path / "a"), split=split, download_mode="force_redownload")
        assert list(ds) == expected
    again = build_gmpg_imagenome(_config(paths, tmp_path / "b", max_shard_bytes=4 * TEXT_ROW_BYTES))
    assert [(s.path, s.sha256) for s in again.shards] == [(s.path, s.sha256) for s in first]
    # a rebuild with the default cap replaces the four train shards with one
    build_gmpg_imagenome(_config(paths, tmp_path / "a"))
    names = sorted(p.name for p in (tmp_path / "a" / "data").iterdir())
    assert names == [f"{s}-00000-of-00001.parquet" for s in ("test", "train", "valid")]
    assert {s["sha256"] for s in built[3]["shards"]} == {
        s["sha256"] for s in json.loads((tmp_path / "a" / "manifest.json").read_text())["shards"]
    }


def test_an_interrupted_build_leaves_no_partial_shard(built, tmp_path, monkeypatch):
    from medbench.builders.gmpg_imagenome import build as gmpg_build
    from medbench.builders.shards import TEXT_ROW_BYTES

    paths, done, _, manifest, _ = built
    out = tmp_path / "out"
    config = _config(paths, out, max_shard_bytes=2 * TEXT_ROW_BYTES, chunk_graphs=1)
    first = gmpg_build.build_gmpg_imagenome(config).shards
    before = {p.name: p.read_bytes() for p in (out / "data").iterdir()}
    decide, calls = gmpg_build.negatives.decide, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 10:  # a few images in: shards of 2 rows have been staged
            assert list((out / ".work" / "staging").glob("*.parquet.partial"))
            raise KeyboardInterrupt
        return decide(*args)

    monkeypatch.setattr(gmpg_build.negatives, "decide", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gmpg_build.build_gmpg_imagenome(config)
    assert len(calls) == 10
    assert {p.name: p.read_bytes() for p in (out / "data").iterdir()} == before
    assert len(before) == len(first) > 3
    assert not list((out / ".work" / "staging").glob("*.parquet.partial"))


def test_a_split_without_rows_gets_no_shard_and_the_rest_loads(built, tmp_path):
    paths = built[0]
    out = tmp_path / "out"
    summary = _build(paths, out, "--limit", "2")  # A (train) and H (valid): no test image
    assert [s["path"] for s in summary["shards"]] == [
        "data/train-00000-of-00001.parquet",
        "data/valid-00000-of-00001.parquet",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["splits_without_rows"] == ["test"]
    loaded = load_dataset(str(out), download_mode="force_redownload")
    assert sorted(loaded) == ["train", "valid"]
    assert {r["image_id"] for r in loaded["train"]} == {A.dicom_id}
    assert "No rows in test" in (out / "README.md").read_text()


def test_a_build_with_no_rows_is_a_one_line_error(tmp_path):
    paths = imagenome.write(tmp_path / "replica", seed=0, form="folder")
    folder = paths["imagenome_root"] / "silver_dataset" / "scene_graph"
    for graph in folder.iterdir():
        if not graph.name.startswith(G.dicom_id):  # G is in no split
            graph.unlink()
    args = ["build", "gmpg-imagenome", "--out", str(tmp_path / "out")]
    args += ["--imagenome-root", str(paths["imagenome_root"])]
    args += ["--mimic-reports", str(paths["mimic_reports"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]  # one line
    assert "no rows built (1 scene graphs read, 0 unreadable, 1 images excluded" in line
    excluded = (tmp_path / "out" / "report" / "excluded_images.csv").read_text()
    assert f"{G.dicom_id},{G.study_id},,no-split" in excluded
    assert not (tmp_path / "out" / "data").exists()


def test_a_graph_whose_text_cannot_be_written_is_listed_not_fatal(tmp_path):
    paths = imagenome.write(tmp_path / "replica", seed=0, form="folder")
    graph_file = (
        paths["imagenome_root"] / "silver_dataset" / "scene_graph" / f"{B.dicom_id}_SceneGraph.json"
    )
    text = graph_file.read_text().replace("Lungs are otherwise clear.", "Lungs \\ud800 clear.")
    graph_file.write_text(text)
    summary = _build(paths, tmp_path / "out")
    assert summary["errors"] == 1 and summary["rows"] == 19 - 3  # B's three rows
    errors = (tmp_path / "out" / "report" / "errors.csv").read_text()
    assert B.dicom_id in errors and "not UTF-8 text" in errors
