"""Content-addressed, crash-safe cache of validated LLM answers (one SQLite file in WAL mode).

The key (`cache_key`) hashes everything that determines an answer, so a changed prompt, model or
sampling setting simply misses and invalidation needs no bookkeeping; `drop_stale` only reclaims
space. Every `put` commits before it returns, so a run killed at any point keeps every answer it
finished and a rerun with a warm cache makes zero calls for them.

Only successful, validated answers belong here. Failures (transport errors, refusals, outputs
that never passed validation) must NOT be stored: a rerun then retries exactly those requests.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

# Part of every key: bump it when the canonical payload or the stored answer format changes, and
# every earlier entry silently stops matching.
CACHE_FORMAT_VERSION = 1

# Seconds a connection waits for another process's write lock before failing.
BUSY_TIMEOUT_S = 30.0

# Far below SQLite's bound-parameter limit (999 before SQLite 3.32, 32766 since).
_CHUNK = 500

_COLUMNS = ("key", "prompt_id", "prompt_hash", "model", "created", "response")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    prompt_id TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL,
    response TEXT NOT NULL
)
"""
_INDEX = "CREATE INDEX IF NOT EXISTS responses_prompt ON responses (prompt_id, prompt_hash)"


class CacheError(RuntimeError):
    """The cache file cannot be used (not SQLite, corrupt, or another program's database)."""


def _canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def cache_key(
    *,
    backend: str,
    model: str,
    prompt_id: str,
    prompt_hash: str,
    messages: list[dict],
    sampling: dict,
    output_schema: dict | None = None,
) -> str:
    """SHA-256 hex digest of the canonical JSON of one request.

    backend: the serving stack ("vllm", "openai", ...), since the same model name may answer
        differently behind different servers.
    model: the model identifier as sent to the backend (include the revision when pinned).
    prompt_id: the prompt template's name; prompt_hash: the hash of its text, so editing a
        template invalidates exactly the answers rendered from it.
    messages: the rendered chat messages exactly as sent.
    sampling: every sampling parameter sent (temperature, top_p, max_tokens, seed, ...).
    output_schema: the JSON schema the answer is constrained/validated against, if any.

    Canonical form: keys sorted at every depth, no whitespace, UTF-8 without escaping, floats in
    Python's shortest round-trip form (0.7 and 0.70 are the same number). JSON keeps 1 and 1.0
    apart, so pass sampling values with consistent types. NaN/Infinity raise ValueError and
    non-JSON values raise TypeError rather than producing an ambiguous key.
    """
    payload = {
        "cache_format": CACHE_FORMAT_VERSION,
        "backend": backend,
        "model": model,
        "prompt_id": prompt_id,
        "prompt_hash": prompt_hash,
        "messages": messages,
        "sampling": sampling,
        "output_schema": output_schema,
    }
    return hashlib.sha256(_canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedResponse:
    """One validated answer: the parsed output, the raw text it came from, token usage, how many
    attempts it took, and when it was produced (unix time)."""

    parsed: Any
    raw: str
    usage: dict[str, int]
    attempts: int
    created: float = field(default_factory=time.time)

    def _to_json(self) -> str:
        return _canonical_json(
            {"parsed": self.parsed, "raw": self.raw, "usage": self.usage, "attempts": self.attempts}
        )

    @classmethod
    def _from_row(cls, response: str, created: float) -> CachedResponse:
        body = json.loads(response)
        return cls(body["parsed"], body["raw"], body["usage"], body["attempts"], created)


class ResponseCache:
    """The answers for one output tree, in one SQLite file shared safely by threads and processes.

    An existing key is never overwritten: the first stored answer wins, so a rebuild reproduces
    what earlier builds used. Open one instance per process (do not carry it across fork).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            # Durability: WAL + NORMAL already survives a killed process (a commit sits in the WAL
            # file, which the OS keeps), but can lose the last commits on power loss or a kernel
            # crash; FULL also fsyncs the WAL at every commit and survives both. The answers cost
            # money, and 1000 single puts took ~0.35 s with FULL vs ~0.05 s with NORMAL (local
            # disk; a slower disk's fsync may reach ~10 ms), nothing next to a model call of
            # seconds, so we take the durable setting.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(_SCHEMA)
            columns = tuple(row[1] for row in conn.execute("PRAGMA table_info(responses)"))
            if columns == _COLUMNS:
                conn.execute(_INDEX)
        except sqlite3.DatabaseError as exc:
            conn.close()
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # primary code of an extended one
            if code not in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
                raise  # locked, unwritable, ...: deleting the file is not the fix
            raise CacheError(self._unusable(str(exc))) from exc
        if columns != _COLUMNS:
            conn.close()
            raise CacheError(self._unusable(f"unexpected responses table {columns}"))
        self._conn = conn

    def _unusable(self, reason: str) -> str:
        reason = " ".join(reason.split())
        return (
            f"{self.path}: not a usable response cache ({reason}); "
            "delete this file to start an empty cache"
        )

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CacheError(f"{self.path}: response cache is closed")
        return self._conn

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            row = (
                self._db()
                .execute("SELECT response, created FROM responses WHERE key = ?", (key,))
                .fetchone()
            )
        return None if row is None else CachedResponse._from_row(*row)

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedResponse]:
        """The cached answers among `keys` (missing keys are absent), one query per 500 keys."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, CachedResponse] = {}
        with self._lock:
            db = self._db()
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT key, response, created FROM responses WHERE key IN ({marks})"
                for key, response, created in db.execute(sql, chunk):
                    found[key] = CachedResponse._from_row(response, created)
        return found

    def put(
        self, key: str, response: CachedResponse, *, prompt_id: str, prompt_hash: str, model: str
    ) -> bool:
        """Store one validated answer, committed (durable) before returning. Returns False if
        the key was already cached (the existing answer is kept)."""
        stored = self.put_many(
            [(key, response)], prompt_id=prompt_id, prompt_hash=prompt_hash, model=model
        )
        return stored == 1

    def put_many(
        self,
        items: Iterable[tuple[str, CachedResponse]],
        *,
        prompt_id: str,
        prompt_hash: str,
        model: str,
    ) -> int:
        """Store answers rendered from one prompt version in a single committed transaction.
        Returns how many keys were new."""
        rows = [
            (key, prompt_id, prompt_hash, model, resp.created, resp._to_json())
            for key, resp in items
        ]
        sql = (
            "INSERT INTO responses (key, prompt_id, prompt_hash, model, created, response) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
        )
        with self._lock:
            db = self._db()
            before = db.total_changes
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(sql, rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return db.total_changes - before

    def __len__(self) -> int:
        with self._lock:
            return self._db().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def stats(self) -> dict[str, dict[str, int]]:
        """Entry counts as {prompt_id: {prompt_hash: entries}}."""
        sql = "SELECT prompt_id, prompt_hash, COUNT(*) FROM responses GROUP BY 1, 2 ORDER BY 1, 2"
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for prompt_id, prompt_hash, count in self._db().execute(sql):
                out.setdefault(prompt_id, {})[prompt_hash] = count
        return out

    def drop_stale(self, prompt_id: str, current_hash: str) -> int:
        """Delete the answers of `prompt_id` rendered from any other version than `current_hash`
        (housekeeping only: they can no longer be hit). Returns how many were deleted."""
        sql = "DELETE FROM responses WHERE prompt_id = ? AND prompt_hash != ?"
        with self._lock:
            return self._db().execute(sql, (prompt_id, current_hash)).rowcount

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
