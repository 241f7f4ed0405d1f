"""A SQLite cache of completions, so a rerun or a resumed run makes no new calls.

The key of one sample is the SHA-256 of the canonical JSON of the request (backend,
model, messages, sampling parameters except ``n``) plus the sample index: asking for 8
samples after asking for 4 reuses the first 4. The database runs in WAL mode with a
busy timeout, so several processes (sandboxed trainers, parallel runs) can share one
file; the first writer of a key wins, so every reader sees the same sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentgym.llm.completion import Completion

DEFAULT_CACHE_PATH = Path("~/.cache/agentgym/llm.sqlite")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    request_hash TEXT PRIMARY KEY,
    request_json TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    model TEXT NOT NULL,
    problem TEXT,
    latency_s REAL NOT NULL,
    created REAL NOT NULL
);
"""


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal requests give equal strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(request).encode()).hexdigest()


def sample_key(req_hash: str, index: int) -> str:
    return hashlib.sha256(f"{req_hash}:{index}".encode()).hexdigest()


class LLMCache:
    """Completions on disk, keyed on (request, sample index). Thread- and process-safe."""

    def __init__(self, path: str | Path = DEFAULT_CACHE_PATH) -> None:
        self.path = Path(os.path.expanduser(str(path)))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        with conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not cross threads.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def get(self, req_hash: str, indices: Sequence[int]) -> dict[int, Completion]:
        """The cached samples among ``indices`` of one request, by index."""
        if not indices:
            return {}
        keys = {sample_key(req_hash, i): i for i in indices}
        marks = ",".join("?" * len(keys))
        rows = (
            self._conn()
            .execute(
                "SELECT key, text, finish_reason, prompt_tokens, completion_tokens, model, problem "
                f"FROM completions WHERE key IN ({marks})",
                list(keys),
            )
            .fetchall()
        )
        return {
            keys[k]: Completion(
                text=text,
                finish_reason=fr,
                prompt_tokens=pt,
                completion_tokens=ct,
                model=model,
                index=keys[k],
                cached=True,
                problem=problem,
            )
            for k, text, fr, pt, ct, model, problem in rows
        }

    def put(
        self, request: dict[str, Any], req_hash: str, completions: Sequence[Completion]
    ) -> None:
        """Store samples (their ``index`` is the sample index); existing keys are kept."""
        now = time.time()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR IGNORE INTO requests VALUES (?, ?, ?)",
                (req_hash, canonical_json(request), now),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        sample_key(req_hash, c.index),
                        req_hash,
                        c.index,
                        c.text,
                        c.finish_reason,
                        c.prompt_tokens,
                        c.completion_tokens,
                        c.model,
                        c.problem,
                        c.latency_s,
                        now,
                    )
                    for c in completions
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __repr__(self) -> str:
        return f"LLMCache({str(self.path)!r})"
