"""The response cache: stable content-addressed keys, durable commits, several processes."""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from medbench.llm import cache as cache_mod
from medbench.llm.cache import CachedResponse, CacheError, ResponseCache, cache_key

BASE = {
    "backend": "vllm",
    "model": "Qwen/Qwen2.5-VL-7B-Instruct",
    "prompt_id": "vgmed_localization",
    "prompt_hash": "3f2a9c",
    "messages": [
        {"role": "system", "content": "Answer in JSON."},
        {"role": "user", "content": "Où est la rate ?"},
    ],
    "sampling": {"temperature": 0.7, "top_p": 0.9, "max_tokens": 256, "seed": 0},
    "output_schema": {"type": "object", "properties": {"box": {"type": "array"}}},
}

# Shared with the child processes: writes answers; argv: db path, first index, count (-1: forever).
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from medbench.llm.cache import CachedResponse, ResponseCache

    path, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    with ResponseCache(path) as cache:
        i = first
        while count < 0 or i < first + count:
            key = f"key-{i}"
            answer = CachedResponse({"i": i}, f"raw {i}", {"prompt_tokens": i}, 1)
            cache.put(key, answer, prompt_id="p", prompt_hash="h", model="m")
            print(key, flush=True)
            i += 1
    """
)


def run_child(path, first, count) -> subprocess.CompletedProcess:
    args = [sys.executable, "-c", CHILD, str(path), str(first), str(count)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)


def answer(i: int = 0) -> CachedResponse:
    parsed = {"box": [i, 2, 3, 4], "label": "rate"}
    return CachedResponse(parsed, f'{{"box": [{i}]}}', {"t": i}, 2, created=1.7e9 + i / 8)


def put(cache: ResponseCache, key: str, response: CachedResponse, prompt_hash: str = "h") -> bool:
    return cache.put(key, response, prompt_id="p", prompt_hash=prompt_hash, model="m")


# --- keys -------------------------------------------------------------------------------------


def test_key_is_sha256_of_the_canonical_json():
    key = cache_key(
        backend="b",
        model="m",
        prompt_id="p",
        prompt_hash="h",
        messages=[{"role": "user", "content": "é"}],
        sampling={"top_p": 1.0, "temperature": 0.70},
    )
    canonical = (
        '{"backend":"b","cache_format":1,"messages":[{"content":"é","role":"user"}],'
        '"model":"m","output_schema":null,"prompt_hash":"h","prompt_id":"p",'
        '"sampling":{"temperature":0.7,"top_p":1.0}}'
    )
    assert key == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_key_is_pinned():
    """Changing the canonical form silently invalidates every cache: bump CACHE_FORMAT_VERSION."""
    assert cache_key(**BASE) == "826c90868f220bb168349c8bb8fd3b9003921140c439e8c99298637501d7af53"


def test_key_ignores_dict_order():
    reordered = {
        "output_schema": {"properties": {"box": {"type": "array"}}, "type": "object"},
        "sampling": dict(reversed(list(BASE["sampling"].items()))),
        "messages": [dict(reversed(list(m.items()))) for m in BASE["messages"]],
    }
    assert cache_key(**(BASE | reordered)) == cache_key(**BASE)
    assert cache_key(**(BASE | {"sampling": BASE["sampling"] | {"temperature": 0.70}})) == (
        cache_key(**BASE)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"backend": "openai"},
        {"model": "Qwen/Qwen2.5-VL-72B-Instruct"},
        {"prompt_id": "vgmed_attributes"},
        {"prompt_hash": "3f2a9d"},
        {"messages": BASE["messages"][1:]},
        {"messages": [BASE["messages"][0], {"role": "user", "content": "Où est le foie ?"}]},
        {"sampling": BASE["sampling"] | {"temperature": 0.0}},
        {"sampling": BASE["sampling"] | {"seed": 1}},
        {"output_schema": None},
        {"output_schema": {"type": "object"}},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_field_changes_the_key(change):
    assert cache_key(**(BASE | change)) != cache_key(**BASE)


def test_format_version_changes_the_key(monkeypatch):
    before = cache_key(**BASE)
    monkeypatch.setattr(cache_mod, "CACHE_FORMAT_VERSION", cache_mod.CACHE_FORMAT_VERSION + 1)
    assert cache_key(**BASE) != before


def test_key_rejects_values_without_one_json_form():
    with pytest.raises(ValueError):
        cache_key(**(BASE | {"sampling": {"temperature": float("nan")}}))
    with pytest.raises(TypeError):
        cache_key(**(BASE | {"sampling": {"stop": {"a", "b"}}}))


# --- storage ----------------------------------------------------------------------------------


def test_round_trip_and_first_answer_wins(tmp_path):
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        assert cache.get("k") is None
        assert len(cache) == 0
        stored = answer(1)
        assert put(cache, "k", stored)
        assert cache.get("k") == stored
        assert not put(cache, "k", answer(2))
        assert cache.get("k") == stored
        assert len(cache) == 1


def test_survives_reopen(tmp_path):
    path = tmp_path / "sub" / "c.sqlite"
    with ResponseCache(path) as cache:
        items = [("a", answer(1)), ("b", answer(2))]
        assert cache.put_many(items, prompt_id="p", prompt_hash="h", model="m") == 2
    with ResponseCache(path) as cache:
        assert cache.get_many(["a", "b", "missing"]) == {"a": answer(1), "b": answer(2)}
        assert cache._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_get_many_beyond_the_variable_limit(tmp_path):
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        # As in SQLite builds before 3.32 (this one allows 32766 bound parameters).
        cache._db().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        items = [(f"k{i}", answer(i)) for i in range(2500)]
        assert cache.put_many(items, prompt_id="p", prompt_hash="h", model="m") == 2500
        wanted = [f"k{i}" for i in range(0, 2500, 2)] + [f"absent{i}" for i in range(700)]
        got = cache.get_many(wanted + wanted[:10])
        assert got == {f"k{i}": answer(i) for i in range(0, 2500, 2)}


def test_stats_and_drop_stale(tmp_path):
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        put(cache, "old1", answer(1), prompt_hash="v1")
        put(cache, "old2", answer(2), prompt_hash="v1")
        put(cache, "new", answer(3), prompt_hash="v2")
        cache.put("other", answer(4), prompt_id="q", prompt_hash="v1", model="m")
        assert cache.stats() == {"p": {"v1": 2, "v2": 1}, "q": {"v1": 1}}
        assert cache.drop_stale("p", "v2") == 2
        assert cache.stats() == {"p": {"v2": 1}, "q": {"v1": 1}}
        assert cache.get_many(["old1", "new", "other"]).keys() == {"new", "other"}


def test_shared_by_a_thread_pool(tmp_path):
    with ResponseCache(tmp_path / "c.sqlite") as cache:

        def work(i: int) -> bool:
            put(cache, f"k{i}", answer(i))
            return cache.get(f"k{i}") == answer(i) and len(cache.get_many([f"k{i}", "x"])) == 1

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(work, range(400)))
        assert len(cache) == 400


def test_closed_cache_says_so(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.close()
    cache.close()
    with pytest.raises(CacheError, match="closed"):
        cache.get("k")


# --- processes and crashes --------------------------------------------------------------------


def test_another_process_writes_this_one_reads(tmp_path):
    path = tmp_path / "c.sqlite"
    with ResponseCache(path) as cache:  # open before the other process writes
        run_child(path, 0, 50)
        got = cache.get_many([f"key-{i}" for i in range(50)])
    assert len(got) == 50
    assert got["key-7"].parsed == {"i": 7} and got["key-7"].raw == "raw 7"


def test_concurrent_writer_processes(tmp_path):
    path = tmp_path / "c.sqlite"  # created by whichever child gets there first
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(first), "100"])
        for first in (0, 1000, 2000)
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    with ResponseCache(path) as cache:
        assert len(cache) == 300


def test_sigkill_loses_no_finished_put(tmp_path):
    path = tmp_path / "c.sqlite"
    args = [sys.executable, "-c", CHILD, str(path), "0", "-1"]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    printed = []
    deadline = time.monotonic() + 60
    while len(printed) < 200 and time.monotonic() < deadline:
        printed.append(child.stdout.readline().strip())
    os.kill(child.pid, signal.SIGKILL)
    rest, _ = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL  # killed mid-loop, not finished
    printed += rest.split()  # also acknowledged before the kill
    assert len(printed) >= 200

    with ResponseCache(path) as cache:
        assert cache._db().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        got = cache.get_many(printed)
        assert set(printed) <= got.keys()
        assert all(got[k].parsed == {"i": int(k.split("-")[1])} for k in printed)
        # At most the put in flight at the kill is stored beyond those acknowledged.
        assert len(printed) <= len(cache) <= len(printed) + 1


# --- unusable files ---------------------------------------------------------------------------


def test_non_sqlite_file_names_the_path(tmp_path):
    path = tmp_path / "responses.sqlite"
    path.write_bytes(b"this is not a database\n" * 200)
    with pytest.raises(CacheError) as info:
        ResponseCache(path)
    message = str(info.value)
    assert str(path) in message and "delete" in message and "\n" not in message


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "responses.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE responses (id INTEGER, body BLOB)")
    conn.close()
    with pytest.raises(CacheError, match="delete"):
        ResponseCache(path)
