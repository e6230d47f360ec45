"""Zipped sources (PALM19's zips inside zips, ADAM): unpacked safely and resumably into the
build's work folder, never into the source folder, then read like the extracted layout."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import medbench.builders.vgmed.unpack as unpack
from medbench.builders.vgmed.build import BuildConfig, build_vgmed, unpack_dir
from medbench.builders.vgmed.unpack import UnpackError, unpack_archives
from medbench.cli import app
from medbench.demo import adam, palm19
from medbench.demo.palm19 import zip_bytes

EVIL_NAMES = ["../evil", "PALM-Training400/../../evil", "/tmp/evil", "C:/evil", "..\\evil"]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(members))
    return path


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def extractions(monkeypatch) -> list[str]:
    """Labels of every zip extracted (nested ones included) while the test runs."""
    calls: list[str] = []
    real = unpack._extract_zip

    def counting(archive, label, *args):
        calls.append(label)
        return real(archive, label, *args)

    monkeypatch.setattr(unpack, "_extract_zip", counting)
    return calls


# -- safe extraction ------------------------------------------------------------------------


@pytest.mark.parametrize("member", EVIL_NAMES)
def test_escaping_members_refuse_the_archive(tmp_path, member):
    source = tmp_path / "src" / "D"
    archive = _zip(source / "data.zip", {"ok/a.txt": b"a", member: b"evil"})
    target = tmp_path / "work" / "D"
    with pytest.raises(UnpackError) as err:
        unpack_archives([archive], source, target)
    message = str(err.value)
    assert "\n" not in message
    assert str(archive) in message and repr(member) in message and "refused" in message
    assert not (tmp_path / "evil").exists() and not (tmp_path / "work" / "evil").exists()
    assert _tree(target) == {}, "nothing of a refused archive may land"
    assert not list(target.parent.glob(".*unpacking*")), "staging folder left behind"


def test_escaping_member_in_a_nested_zip_is_refused(tmp_path):
    source = tmp_path / "src" / "D"
    inner = zip_bytes({"x/../../../evil": b"evil"})
    archive = _zip(source / "outer.zip", {"in/inner.zip": inner})
    with pytest.raises(UnpackError, match=r"outer\.zip > in/inner\.zip: refused"):
        unpack_archives([archive], source, tmp_path / "work" / "D")
    assert not list(tmp_path.rglob("evil"))


def test_junk_skipped_and_odd_names_kept(tmp_path):
    source = tmp_path / "src" / "D"
    members = {
        "__MACOSX/": b"",
        "__MACOSX/A & B/._x.bmp": b"junk",
        "A & B/._x.bmp": b"junk",
        "A & B/": b"",
        "A & B/x y.bmp": b"x",
        "Lession Masks\\z.bmp": b"z",  # Windows separator
    }
    archive = _zip(source / "with space & amp.zip", members)
    target = unpack_archives([archive], source, tmp_path / "work" / "D")
    assert _tree(target) == {"A & B/x y.bmp": b"x", "Lession Masks/z.bmp": b"z"}


@pytest.mark.parametrize("nested", [False, True])
def test_truncated_zip_is_one_line_naming_the_file(tmp_path, nested):
    source = tmp_path / "src" / "D"
    good = zip_bytes({f"f{i}.bin": os.urandom(2000) for i in range(5)})
    bad = good[: len(good) // 2]
    members = {"inner/part.zip": bad, "a.txt": b"a"} if nested else None
    archive = source / "data.zip"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(zip_bytes(members) if nested else bad)
    with pytest.raises(UnpackError) as err:
        unpack_archives([archive], source, tmp_path / "work" / "D")
    message = str(err.value)
    assert "\n" not in message and "corrupt or truncated zip" in message
    expected = f"{archive} > inner/part.zip:" if nested else f"{archive}:"
    assert message.startswith(expected), message


def test_corrupt_member_data_is_reported(tmp_path):
    source = tmp_path / "src" / "D"
    data = bytearray(zip_bytes({"a.bin": bytes(range(256)) * 64}))
    data[60:80] = b"\xff" * 20  # inside the deflated data: bad CRC or invalid stream
    archive = source / "data.zip"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(bytes(data))
    with pytest.raises(UnpackError, match=r"data\.zip: corrupt or truncated zip \(.+\)$"):
        unpack_archives([archive], source, tmp_path / "work" / "D")


# -- resume -------------------------------------------------------------------------------


def _two_archives(source: Path) -> list[Path]:
    return [
        _zip(source / "a.zip", {"A/a.txt": b"a", "A/n/inner.zip": zip_bytes({"deep.txt": b"d"})}),
        _zip(source / "sub" / "b.zip", {"B/b.txt": b"b"}),
    ]


def test_unpacks_in_place_and_deletes_nested_zips(tmp_path):
    source = tmp_path / "src" / "D"
    target = unpack_archives(_two_archives(source), source, tmp_path / "work" / "D")
    assert _tree(target) == {"A/a.txt": b"a", "A/n/deep.txt": b"d", "sub/B/b.txt": b"b"}


def test_finished_unpack_is_not_redone(tmp_path, extractions):
    source = tmp_path / "src" / "D"
    archives = _two_archives(source)
    target = unpack_archives(archives, source, tmp_path / "work" / "D")
    assert len(extractions) == 3  # a.zip, its inner zip, b.zip
    inode = (target / "A" / "a.txt").stat().st_ino
    extractions.clear()
    unpack_archives(archives, source, target)
    assert extractions == []
    assert (target / "A" / "a.txt").stat().st_ino == inode


def test_changed_archive_is_unpacked_again(tmp_path, extractions):
    source = tmp_path / "src" / "D"
    archives = _two_archives(source)
    target = unpack_archives(archives, source, tmp_path / "work" / "D")
    _zip(source / "sub" / "b.zip", {"B/b2.txt": b"new"})
    extractions.clear()
    unpack_archives(archives, source, target)
    assert str(archives[1]) in extractions
    tree = _tree(target)
    assert tree["sub/B/b2.txt"] == b"new" and "sub/B/b.txt" not in tree, "stale file kept"


class Killed(BaseException):
    """Stands in for SIGKILL: nothing catches it."""


@pytest.mark.parametrize("stage", ["extract", "merge"])
def test_interrupted_unpack_redoes_only_the_unfinished_archive(
    tmp_path, monkeypatch, extractions, stage
):
    source = tmp_path / "src" / "D"
    archives = _two_archives(source)
    target = tmp_path / "work" / "D"
    real_extract, real_merge = unpack._extract_zip, unpack._merge

    def extract(archive, label, *args):
        if label == str(archives[1]):
            raise Killed  # while b.zip is being extracted
        return real_extract(archive, label, *args)

    def merge(src, dst):
        real_merge(src, dst)
        if src.name == "sub":
            raise Killed  # b.zip moved into place, its completion not yet recorded

    with monkeypatch.context() as mp:
        if stage == "extract":
            mp.setattr(unpack, "_extract_zip", extract)
        else:
            mp.setattr(unpack, "_merge", merge)
        with pytest.raises(Killed):
            unpack_archives(archives, source, target)
    # SIGKILL would also leave the staging folder: the next run clears it
    (target.parent / ".D.unpacking-999999" / "junk").mkdir(parents=True)
    extractions.clear()
    unpack_archives(archives, source, target)
    assert extractions == [str(archives[1])], "only b.zip was unfinished"
    assert _tree(target) == {"A/a.txt": b"a", "A/n/deep.txt": b"d", "sub/B/b.txt": b"b"}
    assert not list(target.parent.glob(".D.unpacking-*"))


# -- builds ---------------------------------------------------------------------------------


def _build(root: Path, out: Path, datasets: list[str]):
    result = build_vgmed(BuildConfig(source_root=root, out=out, datasets=datasets))
    table = pq.read_table(out / "data").to_pylist()
    boxes = {
        (r["dataset"], r["case_id"], r["label"]): tuple(r["bbox"])
        for r in table
        if r["question_type"] == "localization"
    }
    return result, boxes


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    extracted = tmp_path_factory.mktemp("extracted")
    zipped = tmp_path_factory.mktemp("zipped")
    planted = {}
    for name, writer in (("PALM19", palm19.write), ("ADAM", adam.write)):
        planted[name] = writer(extracted / name, 0)
        assert writer(zipped / name, 0, zipped=True) == planted[name]
    return extracted, zipped, planted


def test_zipped_replica_builds_the_same_boxes(roots, tmp_path, extractions):
    extracted, zipped, planted = roots
    assert not list((zipped / "PALM19").rglob("*.jpg")), "zipped replica has loose files"
    before = _snapshot(zipped)
    _, want = _build(extracted, tmp_path / "plain", ["PALM19", "ADAM"])
    assert extractions == []
    result, got = _build(zipped, tmp_path / "zipped", ["PALM19", "ADAM"])
    assert got == want
    assert {(d, c) for d, c, _ in got} == {
        (p.dataset, p.case_key) for ps in planted.values() for p in ps
    }
    assert all(s.problem is None for s in result.sources), [s.problem for s in result.sources]
    # nested zips with '&' and the 'Lession' spelling were opened and unpacked in place
    assert any("Annotation-D&F.zip" in label for label in extractions)
    unpacked = unpack_dir(tmp_path / "zipped") / "PALM19"
    lesion = "PALM-Training400/PALM-Training400-Annotation-Lession/Lesion_Masks/Atrophy/H0001.bmp"
    assert (unpacked / lesion).is_file()
    assert not list(unpacked.rglob("*.zip"))
    assert _snapshot(zipped) == before, "the source folder was written to"


def test_second_build_does_not_unpack_again(roots, tmp_path, extractions):
    _, zipped, _ = roots
    out = tmp_path / "out"
    first, boxes = _build(zipped, out, ["PALM19"])
    assert extractions
    image = unpack_dir(out) / "PALM19" / "PALM-Training400" / "PALM-Training400" / "H0001.jpg"
    inode = image.stat().st_ino
    extractions.clear()
    second, again = _build(zipped, out, ["PALM19"])
    assert extractions == []
    assert image.stat().st_ino == inode
    assert second.cases_from_cache == second.cases_total == first.cases_total
    assert again == boxes


def test_escaping_zip_breaks_only_its_dataset(tmp_path):
    root = tmp_path / "src"
    palm19.write(root / "PALM19", 0)
    evil = _zip(root / "ADAM" / "AMD-Training400.zip", {"Training400/": b"", "../evil": b"x"})
    result, boxes = _build(root, tmp_path / "out", ["PALM19", "ADAM"])
    status = {s.spec.id: s for s in result.sources}
    problem = status["ADAM"].problem
    assert problem == (
        f"broken archive: {evil}: refused, member '../evil' points outside the archive (..)"
    )
    assert status["PALM19"].problem is None
    assert {d for d, _, _ in boxes} == {"PALM19"}
    assert not list(tmp_path.rglob("evil"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    listed = {s["id"]: s["problem"] for s in manifest["sources"]}
    assert listed["ADAM"] == problem


def test_truncated_zip_is_reported_in_one_line(roots, tmp_path):
    _, zipped, _ = roots
    root = tmp_path / "src"
    adam.write(root / "ADAM", 0)
    (root / "PALM19").mkdir(parents=True)
    for archive in (zipped / "PALM19").glob("*.zip"):
        data = archive.read_bytes()
        cut = data[: len(data) // 2] if archive.name == "training.zip" else data
        (root / "PALM19" / archive.name).write_bytes(cut)
    result, boxes = _build(root, tmp_path / "out", ["PALM19", "ADAM"])
    problem = {s.spec.id: s.problem for s in result.sources}["PALM19"]
    assert problem.startswith(f"broken archive: {root / 'PALM19' / 'training.zip'}: corrupt")
    assert "\n" not in problem
    assert {d for d, _, _ in boxes} == {"ADAM"}


def test_sources_check_counts_zipped_as_found(roots, tmp_path):
    _, zipped, _ = roots
    runner = CliRunner()
    args = ["sources", "check", "--source-root", str(zipped), "-d", "PALM19", "-d", "BUSI"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = {r["id"]: r for r in json.loads(result.stdout)}
    assert report["PALM19"]["status"] == "found"
    assert "training.zip" in report["PALM19"]["problem"]
    assert report["BUSI"]["status"] == "missing"
    assert not (zipped / "PALM19" / "PALM-Training400").exists(), "check must not unpack"
