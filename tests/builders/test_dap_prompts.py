"""``medbench build dap-prompts``: the word filter on hand-written sentences, and whole builds
against the OpenAI-compatible stand-in server (duplicates, location words, re-asks with a new
seed, the round bound, repairs, the cache), offline templates, the table and its loader."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from medbench.builders.dap_prompts import (
    DEFAULT_DISEASES,
    DAPPromptsConfig,
    build_dap_prompts,
    load_descriptions,
    sample_description,
)
from medbench.builders.dap_prompts.diseases import disease_terms, parse_disease_list
from medbench.builders.dap_prompts.filters import (
    clean,
    dedup_key,
    length_problem,
    location_words,
    mentions,
)
from medbench.cli import app
from medbench.llm.runner import LLMClient
from medbench.llm.settings import LLMSettings
from medbench.prompts.templates import load_template
from medbench.testing.openai_standin import StandInServer, last_user_text, message_text

# ---------------------------------------------------------------- word filter, by hand


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Left-sided pleural effusion is present.", ["left", "sided"]),
        ("LOWER LOBE collapse indicates atelectasis.", ["lower", "lobe"]),
        ("Bilateral perihilar haziness suggests edema.", ["bilateral", "perihilar"]),
        ("Rightward tracheal deviation accompanies pneumothorax.", ["rightward"]),
        ("Blunting of the costophrenic angle suggests effusion.", ["costophrenic"]),
        ("Obscuration of the heart border indicates consolidation.", ["heart border"]),
        ("Elevation of the right hemidiaphragm with atelectasis.", ["right", "hemidiaphragm"]),
        ("Peripheral ground-glass opacities suggest COVID-19.", ["peripheral"]),
        # words holding a location word inside them, and location-free anatomy
        ("Slower clearance and flowering opacities suggest pneumonia.", []),
        ("A bright, sharp pleural line indicates pneumothorax.", []),
        ("Lowered lung volumes with plate-like subsegmental atelectasis.", []),
        ("Pleural-based opacity consistent with pneumonia.", []),
        ("The heart is enlarged, consistent with cardiomegaly.", []),
        ("Diffuse interstitial and alveolar lung opacities suggest edema.", []),
    ],
)
def test_location_words_match_whole_words_in_any_case(sentence, expected):
    assert location_words().matches(sentence) == expected


def test_the_word_list_file_keeps_lung_and_heart_and_states_its_origin():
    text = (
        Path(__file__).parents[2] / "medbench/prompts/anatomical_location_words.txt"
    ).read_text()
    assert "medbench's own choice" in text.split("\n\n", 1)[0]
    entries = {" ".join(e) for e in location_words().entries}
    assert {"left", "right", "lobe", "costophrenic", "heart border"} <= entries
    assert not {"lung", "lungs", "heart", "cardiac", "pleural", "chest"} & entries


@pytest.mark.parametrize(
    ("disease", "sentence", "named"),
    [
        ("pleural effusion", "Small effusions with a meniscus.", True),
        ("lung opacity", "Patchy opacities are seen.", True),
        ("COVID-19", "Multifocal opacities typical of COVID-19 infection.", True),
        ("COVID-19", "Ground-glass opacities of viral infection.", False),
        ("cardiomegaly", "The cardiac silhouette is enlarged.", True),
        ("pneumothorax", "A visceral pleural line without lung markings.", False),
        ("hiatal hernia", "A retrocardiac air-fluid level of a hiatal hernia.", True),
    ],
)
def test_disease_mention(disease, sentence, named):
    assert mentions(sentence, disease_terms(disease)) is named


def test_duplicate_key_ignores_case_punctuation_whitespace_and_articles():
    same = [
        "Pleural effusion is present.",
        "pleural effusion is present",
        "A  pleural effusion is present!",
        '"The pleural effusion is present."',
    ]
    assert len({dedup_key(clean(s)) for s in same}) == 1
    assert dedup_key("Pleural effusion is absent.") != dedup_key(same[0])
    assert clean('2) "Edema is present."') == "Edema is present."


def test_length_bounds():
    assert length_problem("Cardiomegaly present.")[0] == "too_short"
    assert length_problem("Cardiomegaly is present.") is None
    assert length_problem(" ".join(["word"] * 30)) is None
    assert length_problem(" ".join(["word"] * 31))[0] == "too_long"


def test_default_diseases_are_ms_cxr_findings_and_covid():
    assert DEFAULT_DISEASES == (
        "atelectasis",
        "cardiomegaly",
        "consolidation",
        "edema",
        "lung opacity",
        "pleural effusion",
        "pneumonia",
        "pneumothorax",
        "COVID-19",
    )
    assert parse_disease_list(" edema, Edema,,lung   opacity ") == ("edema", "lung opacity")


# ---------------------------------------------------------------- builds on the stand-in

_DISEASE = re.compile(r"For the disease (.+?), provide")


def disease_of(request: dict) -> str:
    return _DISEASE.search(message_text(request["messages"][0])).group(1)


def count_of(request: dict) -> int:
    return int(re.search(r"Provide (\d+) distinct", message_text(request["messages"][0]))[1])


def settings_for(server: StandInServer, tmp_path: Path, **extra) -> LLMSettings:
    values = dict(
        backend="openai",
        base_url=server.base_url,
        model="stand-in",
        cache_path=tmp_path / "cache.sqlite",
        backoff_s=0.01,
        backoff_max_s=0.05,
        timeout_s=5.0,
    )
    values.update(extra)
    return LLMSettings(**values)


def build(server, tmp_path, out="out", settings=None, **config):
    config = DAPPromptsConfig(out=tmp_path / out, **config)
    with LLMClient(settings or settings_for(server, tmp_path)) as client:
        return build_dap_prompts(config, client)


def rejected_rows(out: Path) -> list[dict]:
    with open(out / "report" / "rejected.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ANSWERS = {
    "atelectasis": [
        "Atelectasis appears as linear opacities with volume loss.",
        "atelectasis  appears as linear opacities with volume loss",  # duplicate
        "Left lower lobe atelectasis with volume loss.",  # location
        "Plate-like subsegmental atelectasis is seen.",
        "Volume loss.",  # too short, no disease
        "Crowding of vessels with volume loss and shift.",  # no disease
    ],
    "edema": [
        "Interstitial edema with Kerley B lines.",
        "Vascular redistribution and cuffing suggest edema.",
        "Perihilar haziness suggests edema.",  # location
        "An interstitial edema with Kerley B lines!",  # duplicate (article, punctuation)
        "Pulmonary edema shows indistinct vessels.",
        "Alveolar edema with air bronchograms.",
    ],
}


def fixed_responder(request: dict) -> str:
    return json.dumps({"descriptions": ANSWERS[disease_of(request)]})


def test_duplicates_and_location_words_are_removed_and_listed(tmp_path):
    with StandInServer(responder=fixed_responder) as server:
        result = build(
            server, tmp_path, diseases=("atelectasis", "edema"), per_disease=6, max_rounds=1
        )
    out = tmp_path / "out"
    assert load_descriptions(out) == {
        "atelectasis": [
            "Atelectasis appears as linear opacities with volume loss.",
            "Plate-like subsegmental atelectasis is seen.",
        ],
        "edema": [
            "Interstitial edema with Kerley B lines.",
            "Vascular redistribution and cuffing suggest edema.",
            "Pulmonary edema shows indistinct vessels.",
            "Alveolar edema with air bronchograms.",
        ],
    }
    got = {(r["disease"], r["description"], r["reason"]) for r in rejected_rows(out)}
    assert got == {
        ("atelectasis", "atelectasis appears as linear opacities with volume loss", "duplicate"),
        ("atelectasis", "Left lower lobe atelectasis with volume loss.", "location_words"),
        ("atelectasis", "Volume loss.", "too_short"),
        ("atelectasis", "Crowding of vessels with volume loss and shift.", "no_disease_mention"),
        ("edema", "Perihilar haziness suggests edema.", "location_words"),
        ("edema", "An interstitial edema with Kerley B lines!", "duplicate"),
    }
    details = {r["description"]: r["detail"] for r in rejected_rows(out)}
    assert details["Left lower lobe atelectasis with volume loss."] == "left, lower, lobe"
    assert result.manifest["shortfalls"] == {
        "atelectasis": {"kept": 2, "wanted": 6, "missing": 4},
        "edema": {"kept": 4, "wanted": 6, "missing": 2},
    }
    counts = result.manifest["counts"]["by_disease"]["atelectasis"]
    assert counts["candidates"] == 6 and counts["stopped"] == "max rounds"
    assert counts["rejected"] == {
        "duplicate": 1,
        "location_words": 1,
        "no_disease_mention": 1,
        "too_short": 1,
    }


# pneumothorax: six sentences per answer (as asked), two new at seed 0, one more at each later
# seed, never six in all
_LINE = "Pneumothorax shows a visceral pleural line."
_MARKINGS = "Absent lung markings beyond the pleural line indicate pneumothorax."
_SULCUS = "Deep sulcus sign on a supine film suggests pneumothorax."
ROUNDS = {
    0: [_LINE, _LINE, "Right apical pneumothorax is seen.", _MARKINGS, _LINE, _MARKINGS],
    1: [_LINE, _SULCUS, "Bilateral pneumothorax.", _MARKINGS, _SULCUS, _LINE],
    2: [
        "Hyperlucency without vascular markings indicates pneumothorax.",
        "Bilateral pneumothorax.",
        _LINE,
        _SULCUS,
        _MARKINGS,
        _LINE,
    ],
    3: ["Pneumothorax with a sharp pleural edge."] * 6,  # beyond the bound: never asked
}
ENOUGH_AT_ONCE = [f"Pneumonia pattern number {i} is seen." for i in range(6)]


def rounds_responder(request: dict) -> str:
    if disease_of(request) == "pneumonia":
        return json.dumps({"descriptions": ENOUGH_AT_ONCE})
    return json.dumps({"descriptions": ROUNDS[request["seed"]]})


def test_a_shortfall_is_asked_again_with_new_seeds_until_the_bound(tmp_path):
    with StandInServer(responder=rounds_responder) as server:
        result = build(
            server,
            tmp_path,
            diseases=("pneumothorax", "pneumonia"),
            per_disease=6,
            seed=0,
            max_rounds=3,
        )
        log = server.request_log
    asked = [(disease_of(r), r["seed"], count_of(r)) for r in log]
    assert sorted(asked) == [
        ("pneumonia", 0, 6),
        ("pneumothorax", 0, 6),
        ("pneumothorax", 1, 6),
        ("pneumothorax", 2, 6),
    ]
    kept = load_descriptions(tmp_path / "out")
    assert kept["pneumonia"] == ENOUGH_AT_ONCE
    assert kept["pneumothorax"] == [
        "Pneumothorax shows a visceral pleural line.",
        "Absent lung markings beyond the pleural line indicate pneumothorax.",
        "Deep sulcus sign on a supine film suggests pneumothorax.",
        "Hyperlucency without vascular markings indicates pneumothorax.",
    ]
    assert result.manifest["shortfalls"] == {"pneumothorax": {"kept": 4, "wanted": 6, "missing": 2}}
    by_disease = result.manifest["counts"]["by_disease"]
    assert by_disease["pneumothorax"]["rounds"] == 3
    assert by_disease["pneumothorax"]["stopped"] == "max rounds"
    assert by_disease["pneumonia"]["rounds"] == 1
    assert result.manifest["llm"]["requests"] == 4 and result.manifest["llm"]["calls"] == 4
    seeds = {
        (r["description"], r["round"], r["sampling_seed"]) for r in rejected_rows(tmp_path / "out")
    }
    assert ("Bilateral pneumothorax.", "2", "1") in seeds
    assert ("Bilateral pneumothorax.", "3", "2") in seeds


def test_a_surplus_of_valid_sentences_is_listed_not_kept(tmp_path):
    many = [f"Consolidation variant {i} with air bronchograms." for i in range(5)]
    with StandInServer(responder=lambda r: json.dumps({"descriptions": many})) as server:
        # the model ignores the count: the runner's repairs fail, its sentences are still used
        result = build(server, tmp_path, diseases=("consolidation",), per_disease=3)
    assert load_descriptions(tmp_path / "out")["consolidation"] == many[:3]
    assert [r["reason"] for r in rejected_rows(tmp_path / "out")] == ["surplus", "surplus"]
    counts = result.manifest["counts"]["by_disease"]["consolidation"]
    assert counts["salvaged_answers"] == 1 and counts["stopped"] == "enough"
    assert "5 descriptions given, 3 asked for" in counts["request_errors"][0]


def test_a_wrong_count_answer_is_repaired_by_the_runner(tmp_path):
    full = [f"Cardiomegaly finding number {i} is present." for i in range(4)]

    def responder(request: dict) -> str:
        repaired = "cannot be used" in last_user_text(request)
        return json.dumps({"descriptions": full if repaired else full[:2]})

    with StandInServer(responder=responder) as server:
        result = build(server, tmp_path, diseases=("cardiomegaly",), per_disease=4)
        assert server.requests_received == 2
        repair = server.request_log[1]["messages"][-1]["content"]
    assert "2 descriptions given, 4 asked for" in repair
    assert load_descriptions(tmp_path / "out") == {"cardiomegaly": full}
    assert result.manifest["llm"]["repairs"] == 1
    counts = result.manifest["counts"]["by_disease"]["cardiomegaly"]
    assert counts["salvaged_answers"] == 0 and counts["request_errors"] == []


def test_a_warm_cache_rebuild_makes_no_calls_and_the_same_table(tmp_path):
    with StandInServer(responder=rounds_responder) as server:
        config = dict(diseases=("pneumothorax",), per_disease=6, max_rounds=3)
        first = build(server, tmp_path, "a", **config)
        assert server.requests_received == 3  # seeds 0, 1, 2
        server.reset()
        second = build(server, tmp_path, "b", **config)
        assert server.requests_received == 0
    llm = second.manifest["llm"]
    assert llm["calls"] == 0 and llm["cache_hits"] == llm["requests"] == 3
    assert [s["sha256"] for s in first.manifest["shards"]] == [
        s["sha256"] for s in second.manifest["shards"]
    ]


def test_the_table_loads_with_datasets_and_pyarrow(tmp_path):
    with StandInServer(responder=fixed_responder) as server:
        build(server, tmp_path, diseases=("edema",), per_disease=4, max_rounds=1)
    out = tmp_path / "out"
    template = load_template("dap-disease-descriptions")
    expected_source = f"openai:stand-in:dap-disease-descriptions@{template.short_hash}"
    ds = load_dataset(str(out), split="train")
    assert ds.column_names == [
        "disease",
        "description",
        "index",
        "source",
        "prompt_id",
        "prompt_hash",
    ]
    assert ds["index"] == [0, 1, 2, 3] and set(ds["source"]) == {expected_source}
    assert set(ds["prompt_hash"]) == {template.sha256}
    table = pq.read_table(out / "data" / "train-00000-of-00001.parquet")
    assert table.column("description").to_pylist() == [
        "Interstitial edema with Kerley B lines.",
        "Vascular redistribution and cuffing suggest edema.",
        "Pulmonary edema shows indistinct vessels.",
        "Alveolar edema with air bronchograms.",
    ]
    descriptions = load_descriptions(out)
    assert descriptions == {"edema": table.column("description").to_pylist()}
    picks = {sample_description(descriptions, "Edema", random.Random(i)) for i in range(40)}
    assert picks == set(descriptions["edema"])
    assert sample_description(descriptions, "edema", np.random.default_rng(0)) in picks
    with pytest.raises(KeyError, match="no descriptions for 'pneumonia'"):
        sample_description(descriptions, "pneumonia", random.Random(0))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["shards"][0]["path"] == "data/train-00000-of-00001.parquet"
    assert "configs:" in (out / "README.md").read_text()


# ---------------------------------------------------------------- offline


def test_the_template_backend_works_offline_and_reports_its_shortfall(tmp_path):
    with LLMClient(LLMSettings(backend="template")) as client:
        result = build_dap_prompts(
            DAPPromptsConfig(out=tmp_path / "out", diseases=("COVID-19", "edema"), per_disease=50),
            client,
        )
    kept = load_descriptions(tmp_path / "out")
    assert set(kept) == {"COVID-19", "edema"}
    for disease, sentences in kept.items():
        assert len(sentences) == 10  # the ten offline sentence patterns
        assert len({dedup_key(s) for s in sentences}) == len(sentences)
        assert all(disease in s and not location_words().matches(s) for s in sentences)
    shortfall = result.manifest["shortfalls"]["edema"]
    assert shortfall == {
        "kept": len(kept["edema"]),
        "wanted": 50,
        "missing": 50 - len(kept["edema"]),
    }
    counts = result.manifest["counts"]["by_disease"]["edema"]
    # the patterns give the same sentences whatever the seed: the second round adds nothing
    assert counts["rounds"] == 2 and counts["stopped"] == "no new descriptions"
    assert {r.source for r in result.rows} == {"template"}


def test_cli_builds_offline_warns_on_shortfall_and_strict_fails(tmp_path):
    runner = CliRunner()
    args = ["build", "dap-prompts", "--out", str(tmp_path / "out"), "--llm", "template"]
    ok = runner.invoke(
        app, [*args, "--diseases", "edema,pneumonia", "--per-disease", "3", "--json"]
    )
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout)
    assert summary["rows"] == 6 and summary["shortfalls"] == {}
    short = runner.invoke(app, [*args, "--diseases", "edema", "--per-disease", "40", "--strict"])
    assert short.exit_code == 1
    assert "shortfall (kept/wanted): edema" in short.output
