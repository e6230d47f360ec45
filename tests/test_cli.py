"""The CLI: help, the sources registry, and CLI.md kept in sync with the code."""

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from medbench.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_cli_md_is_generated_from_the_app(tmp_path):
    out = tmp_path / "CLI.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "medbench.cli",
            "utils",
            "docs",
            "--name",
            "medbench",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert out.read_text() == (ROOT / "CLI.md").read_text(), (
        "CLI.md is stale: run `python -m typer medbench.cli utils docs --name medbench "
        "--output CLI.md`"
    )


def test_every_command_has_help():
    for args in (
        ["--help"],
        ["build", "--help"],
        ["build", "vgmed", "--help"],
        ["sources", "list", "--help"],
        ["sources", "check", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_sources_list_json_names_the_eight_foundation_datasets():
    result = runner.invoke(app, ["sources", "list", "--json"])
    assert result.exit_code == 0
    listed = {s["id"]: s for s in json.loads(result.stdout)}
    expected_family = {
        "MSD-Spleen": "A",
        "BraTS2021": "B",
        "BraTS2015": "C",
        "TotalSegmentator": "D",
        "CHAOS": "E",
        "SIIM-ACR": "F",
        "ISIC2018": "G",
        "SLAKE": "H",
    }
    assert {k: listed[k]["family"] for k in expected_family} == expected_family
    assert listed["MSD-Spleen"]["labels"] == ["spleen"]
    assert listed["CHAOS"]["modality"] == "MR"


def test_build_needs_exactly_one_source(tmp_path):
    result = runner.invoke(app, ["build", "vgmed", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "--source-root or --demo" in result.output


def test_unknown_dataset_is_a_clear_error(tmp_path):
    result = runner.invoke(
        app,
        [
            "build",
            "vgmed",
            "--source-root",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
            "-d",
            "NoSuchSet",
        ],
    )
    assert result.exit_code == 2
    assert "unknown dataset 'NoSuchSet'" in result.output


def test_empty_source_root_says_nothing_was_found(tmp_path):
    result = runner.invoke(
        app, ["build", "vgmed", "--source-root", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no dataset found under" in result.output


def test_bad_llm_option_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from medbench.cli import app

    args = ["build", "vgmed", "--demo", "--out", str(tmp_path / "o"), "--llm", "bogus"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["error: --llm 'bogus': Input should be 'openai', 'vllm' or 'template'"]
