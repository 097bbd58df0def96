"""The per-call cache: one SQLite row per successful LLM call, so a run is never paid for twice.

The key is a hash of what decides the reply (base URL, model, messages, sampling parameters and the
recipe version), never the API key. Rows are written the moment a reply arrives (WAL journal: another
run reading or writing the same file at the same time waits, it does not corrupt), so a run killed at
any point and started again re-sends only the calls that had not come back.
"""

import hashlib
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputError

SCHEMA_VERSION = 1
_BUSY_SECONDS = 30  # how long a run waits for another run that holds the file
_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    request BLOB NOT NULL,        -- messages and parameters, JSON (no credentials)
    response BLOB NOT NULL,       -- the chat completion as the server sent it, JSON
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,       -- what the call cost when it was made
    created REAL NOT NULL
);
"""


def call_key(base_url: str, model: str, messages: list[dict], params: dict[str, Any], version: str) -> str:
    """The cache key of one call: a SHA-256 of its canonical JSON (sorted keys)."""
    canonical = orjson.dumps({"v": SCHEMA_VERSION, "base_url": base_url.rstrip("/"), "model": model,
                              "messages": messages, "params": params, "version": version},
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class CachedCall:
    key: str
    response: dict
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class CallCache:
    """A SQLite file of finished calls. Safe for several threads of one run and for several runs."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit (isolation_level=None): every put is its own transaction, durable on return
            self._db = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            self._set_up()
        except sqlite3.Error as e:
            raise InputError(f"{self.path}: cannot open the call cache: {e}") from None
        self._lock = threading.Lock()

    def _set_up(self) -> None:
        # Switching a new file to WAL takes an exclusive lock, and SQLite answers "database is locked" at once
        # (without waiting out the busy timeout) when another run is doing the same: retry until the deadline.
        deadline = time.monotonic() + _BUSY_SECONDS
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed row survives a killed process
                self._db.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def get(self, key: str) -> CachedCall | None:
        with self._lock:
            row = self._db.execute("SELECT response, prompt_tokens, completion_tokens, cost_usd FROM calls WHERE key = ?",
                                   (key,)).fetchone()
        if row is None:
            return None
        return CachedCall(key, orjson.loads(row[0]), row[1], row[2], row[3])

    def put(self, key: str, model: str, request: dict, response: dict, prompt_tokens: int, completion_tokens: int,
            cost_usd: float) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (key, model, orjson.dumps(request), orjson.dumps(response), prompt_tokens,
                              completion_tokens, cost_usd, time.time()))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def default_cache_path() -> Path:
    """$FTDATA_CACHE_DIR/llm-calls.sqlite, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache)/ftdata."""
    base = os.environ.get("FTDATA_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ftdata"
    return Path(base) / "llm-calls.sqlite"
