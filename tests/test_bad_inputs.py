"""Bad input: every broken file is reported on one line, naming it; the build goes on."""

import json

import pytest
from typer.testing import CliRunner

from medbench.cli import app
from medbench.demo.bad_inputs import write_bad_input_root

runner = CliRunner()


@pytest.fixture(scope="module")
def bad_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-sources")
    problems = write_bad_input_root(root)
    out = tmp_path_factory.mktemp("bad-out") / "out"
    result = runner.invoke(
        app, ["build", "vgmed", "--source-root", str(root), "--out", str(out), "--json"]
    )
    return root, problems, out, result


def test_build_completes_with_samples_from_good_cases(bad_build):
    _, _, out, result = bad_build
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["pairs"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    datasets = {s["id"] for s in manifest["sources"] if s["pairs"]}
    assert {"MSD-Spleen", "CHAOS", "ISIC2018", "SIIM-ACR"} <= datasets


def test_every_bad_file_is_listed_with_a_reason(bad_build):
    _, problems, out, _ = bad_build
    manifest = json.loads((out / "manifest.json").read_text())
    lines = [e["error"] for e in manifest["errors"]]
    lines += [
        f"{s['dataset']} {s['case_id']} {s['item']}: {s['reason']}" for s in manifest["skipped"]
    ]
    for path, what in problems.items():
        name = path.rsplit("/", 1)[-1]
        stem = name.split(".")[0]
        assert any(name in line or (stem and stem in line) for line in lines), (path, what)


def test_errors_are_one_line_and_name_the_file(bad_build):
    _, _, out, result = bad_build
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["errors"], "the corpus has broken cases"
    for error in manifest["errors"]:
        assert "\n" not in error["error"]
        assert "/" in error["error"]  # a path
    printed = [line for line in result.stderr.splitlines() if line.startswith("failed ")]
    assert len(printed) == len(manifest["errors"])


def test_specific_reasons(bad_build):
    _, _, out, _ = bad_build
    manifest = json.loads((out / "manifest.json").read_text())
    by_case = {(e["dataset"], e["case_id"]): e["error"] for e in manifest["errors"]}
    assert "spleen_3" in by_case[("MSD-Spleen", "spleen_3")]
    assert "shape" in by_case[("MSD-Spleen", "spleen_4")]
    assert "affine" in by_case[("MSD-Spleen", "spleen_5")]
    assert "NaN" in by_case[("MSD-Spleen", "spleen_8")]
    skipped = manifest["skipped"]
    assert any(
        s["case_id"] == "spleen_7" and "not in the label map" in s["reason"] for s in skipped
    )
    assert any(s["case_id"] == "spleen_9" and "absent" in s["reason"] for s in skipped)
    assert any(
        s["item"].endswith("._spleen_2.nii.gz") and "AppleDouble" in s["reason"] for s in skipped
    )
    assert any("no DICOM" in s["reason"] for s in skipped)
    assert any("no row" in s["reason"] for s in skipped)
    # spleen_7 reuses spleen_2's image: its valid spleen is not used twice
    rows = [s for s in manifest["sources"] if s["id"] == "MSD-Spleen"][0]
    assert rows["pairs"] == 3  # spleen_2, _6, _10
    assert any(
        s["case_id"] == "spleen_7" and s["reason"].startswith("duplicate of MSD-Spleen/spleen_2")
        for s in skipped
    )
    csv_text = (out / "report" / "skipped.csv").read_text()
    assert "superpixels" in csv_text and "ATTRIBUTION.txt" in csv_text


def test_strict_makes_failed_cases_an_error(bad_build, tmp_path):
    root, _, _, _ = bad_build
    result = runner.invoke(
        app,
        [
            "build",
            "vgmed",
            "--source-root",
            str(root),
            "--out",
            str(tmp_path / "o"),
            "--strict",
            "-d",
            "MSD-Spleen",
        ],
    )
    assert result.exit_code == 1


def test_sources_check_reports_found_missing_and_problems(bad_build):
    root, _, _, _ = bad_build
    result = runner.invoke(app, ["sources", "check", "--source-root", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = {r["id"]: r for r in json.loads(result.stdout)}
    assert report["MSD-Spleen"]["status"] == "found"
    assert report["MSD-Spleen"]["cases"] == 9
    assert report["BraTS2021"]["status"] == "missing"
    assert any("AppleDouble" in issue for issue in report["MSD-Spleen"]["issues"])
