"""`medbench publish`: validation, licence gate, dry-run folder, and real uploads through the
real huggingface_hub client against a stand-in Hub on 127.0.0.1 (tests/publish/hub_standin.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import huggingface_hub.constants
import pytest
import typer
from huggingface_hub import DatasetCard
from typer.main import get_command
from typer.testing import CliRunner

from medbench.cli import app as medbench_app
from medbench.publish import REDISTRIBUTION_FORBIDDEN, PublishError, licence_gate
from medbench.publish.cli import app as publish_app
from medbench.publish.cli import publish_command
from tests.publish.hub_standin import HubStandIn

TOKEN = "hf_test_token_5f0c2a"
runner = CliRunner()


def _build(out: Path, datasets: list[str]) -> Path:
    args = ["build", "vgmed", "--demo", "--out", str(out)]
    for d in datasets:
        args += ["-d", d]
    result = runner.invoke(medbench_app, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def public_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only sources that may be redistributed publicly."""
    return _build(tmp_path_factory.mktemp("public") / "vgmed", ["MSD-Spleen", "ISIC2018"])


@pytest.fixture(scope="module")
def kaggle_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Contains SIIM-ACR, whose Kaggle competition rules forbid redistribution."""
    return _build(tmp_path_factory.mktemp("kaggle") / "vgmed", ["MSD-Spleen", "SIIM-ACR"])


def publish(*args: str):
    return runner.invoke(publish_app, [str(a) for a in args])


def expected_files(build: Path) -> dict[str, bytes]:
    """What must be uploaded: the dataset, never .work/ or temp files."""
    keep = [build / "README.md", build / "manifest.json"]
    keep += [p for p in (build / "data").rglob("*") if p.is_file()]
    keep += [p for p in (build / "report").rglob("*") if p.is_file()]
    return {p.relative_to(build).as_posix(): p.read_bytes() for p in keep}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with HubStandIn(token=TOKEN) as standin:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", standin.url)
        yield standin


def assert_token_hidden(result, caplog: pytest.LogCaptureFixture) -> None:
    for text in (result.stdout, result.stderr, caplog.text):
        assert TOKEN not in text


def test_builds_have_work_dirs(public_build: Path, kaggle_build: Path) -> None:
    # the exclusion tests below are only meaningful if there is something to exclude
    assert any((public_build / ".work").rglob("*"))
    assert "SIIM-ACR" in {
        s["id"]
        for s in json.loads((kaggle_build / "manifest.json").read_text())["sources"]
        if s["pairs"]
    }


def test_dry_run_dir_is_loadable_and_clean(public_build: Path, tmp_path: Path) -> None:
    import datasets

    dest = tmp_path / "upload-set"
    result = publish(public_build, "--repo-id", "org/vgmed", "--dry-run-dir", dest, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    expected = expected_files(public_build)
    assert summary["dry_run"] is True
    assert {f["path"] for f in summary["files"]} == set(expected)
    written = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert written == set(expected)
    assert not any(".work" in p for p in written)
    for path, content in expected.items():
        assert (dest / path).read_bytes() == content, path
    assert DatasetCard.load(dest / "README.md").data.to_dict()["license"] == "other"
    rows = datasets.load_dataset(str(dest), split="test", cache_dir=str(tmp_path / "cache"))
    manifest = json.loads((dest / "manifest.json").read_text())
    assert rows.num_rows == manifest["counts"]["rows"] > 0
    assert "README.md" in result.stderr  # human listing goes to stderr


def test_bare_dry_run_lists_and_writes_nothing(public_build: Path, hub: HubStandIn) -> None:
    result = publish(public_build, "--repo-id", "org/vgmed", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "data/test-00000-of-00001.parquet" in result.stderr
    assert result.stdout == ""
    assert hub.requests == []  # nothing contacted the Hub


def test_upload_lfs_path(
    public_build: Path, hub: HubStandIn, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    # Classic protocol: preupload → LFS batch → PUT → verify → NDJSON commit.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)
    result = publish(public_build, "--repo-id", "org/vgmed", "--json", "--commit-message", "v1")
    assert result.exit_code == 0, result.stderr
    assert hub.creates == [
        {"name": "vgmed", "organization": "org", "visibility": "public", "type": "dataset"}
    ]
    repo = hub.repos["org/vgmed"]
    assert repo.repo_type == "dataset" and repo.private is False
    expected = expected_files(public_build)
    assert repo.branches["main"] == expected  # same paths, byte-equal contents
    assert len(repo.commits) == 1 and repo.commits[0]["summary"] == "v1"
    assert "lfsFile" in repo.commits[0]["lines"] and "file" in repo.commits[0]["lines"]
    assert any(r.method == "PUT" and r.path.startswith("/lfs-upload/") for r in hub.requests)
    hub_calls = [r for r in hub.requests if not r.path.startswith("/lfs-upload/")]
    assert hub_calls and all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in hub_calls)
    summary = json.loads(result.stdout)
    assert summary["commit_oid"] == repo.commits[0]["oid"]
    assert_token_hidden(result, caplog)

    # Re-running resumes: everything is already committed, so nothing is sent again.
    puts = sum(r.method == "PUT" for r in hub.requests)
    again = publish(public_build, "--repo-id", "org/vgmed")
    assert again.exit_code == 0, again.stderr
    assert len(repo.commits) == 1
    assert sum(r.method == "PUT" for r in hub.requests) == puts


def test_private_upload_default_pipeline(
    kaggle_build: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    # hf_xet's streamed pipeline (the default when installed); the stand-in asks for regular
    # uploads only, since it does not speak the xet storage protocol.
    with HubStandIn(token=TOKEN, all_regular=True) as hub:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        result = publish(kaggle_build, "--repo-id", "lab/vgmed-full", "--private", "--json")
        assert result.exit_code == 0, result.stderr
        repo = hub.repos["lab/vgmed-full"]
        assert hub.creates[0]["visibility"] == "private" and repo.private is True
        assert repo.branches["main"] == expected_files(kaggle_build)
        assert json.loads(result.stdout)["restricted_sources"] == ["SIIM-ACR"]
        assert_token_hidden(result, caplog)


def test_revision_creates_branch(public_build: Path, hub: HubStandIn, monkeypatch) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)
    result = publish(public_build, "--repo-id", "org/vgmed", "--revision", "v2")
    assert result.exit_code == 0, result.stderr
    repo = hub.repos["org/vgmed"]
    assert repo.branches["v2"] == expected_files(public_build)
    assert repo.branches["main"] == {}


def test_public_upload_of_kaggle_source_refused(kaggle_build: Path, hub: HubStandIn) -> None:
    result = publish(kaggle_build, "--repo-id", "org/vgmed")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "SIIM-ACR" in message and "Kaggle competition rules" in message
    assert "MSD-Spleen" not in message
    assert hub.requests == []
    # the same build is refused in a dry run too: find out before trying
    assert publish(kaggle_build, "--repo-id", "org/vgmed", "--dry-run").exit_code == 2


def test_private_into_existing_public_repo_refused(kaggle_build: Path, hub: HubStandIn) -> None:
    hub.create({"organization": "org", "name": "vgmed", "type": "dataset"})
    result = publish(kaggle_build, "--repo-id", "org/vgmed", "--private")
    assert result.exit_code == 2
    assert "public" in result.stderr
    assert hub.repos["org/vgmed"].commits == []


def test_corrupted_shard_refused(public_build: Path, tmp_path: Path, hub: HubStandIn) -> None:
    copy = tmp_path / "vgmed"
    shutil.copytree(public_build, copy, ignore=shutil.ignore_patterns(".work"))
    shard = copy / "data" / "test-00000-of-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    result = publish(copy, "--repo-id", "org/vgmed")
    assert result.exit_code == 2
    assert "test-00000-of-00001.parquet" in result.stderr and "sha256" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # one logical line (soft-wrapped)
    assert hub.requests == []


def test_card_without_configs_refused(public_build: Path, tmp_path: Path) -> None:
    copy = tmp_path / "vgmed"
    shutil.copytree(public_build, copy, ignore=shutil.ignore_patterns(".work"))
    card = DatasetCard.load(copy / "README.md")
    card.data.configs = None
    card.save(copy / "README.md")
    result = publish(copy, "--repo-id", "org/vgmed", "--dry-run")
    assert result.exit_code == 2
    assert "configs" in result.stderr


def test_missing_token(public_build: Path, hub: HubStandIn, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    result = publish(public_build, "--repo-id", "org/vgmed")
    assert result.exit_code == 2
    assert "HF_TOKEN is not set" in result.stderr
    assert hub.requests == []


def test_rejected_token_is_one_line_and_hidden(
    public_build: Path, hub: HubStandIn, monkeypatch, caplog
) -> None:
    bad = "hf_wrong_token_91b3"
    monkeypatch.setenv("HF_TOKEN", bad)
    result = publish(public_build, "--repo-id", "org/vgmed")
    assert result.exit_code == 1
    assert "401" in result.stderr and "HF_TOKEN" in result.stderr
    assert "Traceback" not in result.output
    for text in (result.stdout, result.stderr, caplog.text):
        assert bad not in text
    assert hub.repos == {}


def test_licence_gate_rules() -> None:
    def source(licence: str, credentialed: bool = False, pairs: int = 1) -> dict:
        return {"id": "X", "license": licence, "credentialed": credentialed, "pairs": pairs}

    # non-commercial licences still allow redistribution
    assert licence_gate({"sources": [source("CC-BY-NC-4.0")]}, private=False) == []
    with pytest.raises(PublishError, match="credentialed"):
        licence_gate({"sources": [source("PhysioNet", credentialed=True)]}, private=False)
    kaggle = next(iter(REDISTRIBUTION_FORBIDDEN))
    with pytest.raises(PublishError):
        licence_gate({"sources": [source(kaggle)]}, private=False)
    assert licence_gate({"sources": [source(kaggle, pairs=0)]}, private=False) == []
    assert len(licence_gate({"sources": [source(kaggle)]}, private=True)) == 1


def test_mounts_as_publish_and_documents_every_option(public_build: Path) -> None:
    root = typer.Typer()
    root.command("publish")(publish_command)  # the mount medbench/cli.py should use

    @root.command()
    def other() -> None:
        """Keeps `root` a group, as the real medbench app is."""

    result = runner.invoke(root, ["publish", str(public_build), "--repo-id", "a/b", "--dry-run"])
    assert result.exit_code == 0, result.output
    params = get_command(publish_app).params
    assert {p.name for p in params} >= {"out", "repo_id", "private", "dry_run", "dry_run_dir"}
    assert all(getattr(p, "help", None) for p in params)


def test_sources_marked_not_redistributable_are_restricted():
    from medbench.builders.vgmed.sources import SOURCES
    from medbench.publish.checks import restricted_sources

    sources = [
        {"id": "A", "pairs": 3, "license": "other (Tianchi terms)", "redistributable": False},
        {"id": "B", "pairs": 3, "license": "CC-BY-4.0", "redistributable": True},
        {"id": "C", "pairs": 0, "license": "x", "redistributable": False},
    ]
    assert [s["id"] for s in restricted_sources({"sources": sources})] == ["A"]
    not_shareable = {k for k, spec in SOURCES.items() if not spec.redistributable}
    assert {"SIIM-ACR", "Chest_Image_Pneum", "UltrasoundNerve"} <= not_shareable
