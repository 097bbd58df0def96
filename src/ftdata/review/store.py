"""The review state: one SQLite file holding the dataset, the queue and every decision.

    records   one row per record, keyed by `key` = content hash + occurrence (the 2nd copy of a line is
              another record), so a re-queued dataset keeps the decisions of its unchanged records.
              `pos` is the record's place in the current dataset (NULL: no longer in it); `version` grows
              with every decision and guards against two tabs overwriting each other.
    findings  the current dataset's check findings, by `pos` (rebuilt by every `queue`)
    history   each decision's previous state, for undo
    meta      the queue's settings and dataset-level facts
"""

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputError, UsageError

STATUSES = ("pending", "accepted", "edited", "rejected")
DECIDED = ("accepted", "edited", "rejected")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY, pos INTEGER, line INTEGER, original TEXT NOT NULL, judge TEXT,
    risk REAL NOT NULL DEFAULT 0, queue TEXT, rank INTEGER,
    status TEXT NOT NULL DEFAULT 'pending', edited TEXT, reviewer TEXT, reason TEXT, decided_at TEXT,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_pos ON records(pos);
CREATE INDEX IF NOT EXISTS records_rank ON records(rank);
CREATE TABLE IF NOT EXISTS findings (pos INTEGER NOT NULL, code TEXT, name TEXT, severity TEXT, field TEXT, message TEXT);
CREATE INDEX IF NOT EXISTS findings_pos ON findings(pos);
CREATE INDEX IF NOT EXISTS findings_code ON findings(code);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, version INTEGER NOT NULL, status TEXT, edited TEXT,
    reviewer TEXT, reason TEXT, decided_at TEXT
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
"""


class Conflict(Exception):
    """The record changed since the page loaded it (another tab or reviewer saved first)."""

    def __init__(self, current: int):
        super().__init__(f"this record was changed elsewhere (now version {current}); reload it before saving")
        self.current = current


@dataclass(frozen=True)
class Filter:
    """Which queued records a page shows: by status, rule code, judge verdict or risk (all optional)."""

    status: str | None = None
    rule: str | None = None
    verdict: str | None = None
    min_risk: float | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = ["queue IS NOT NULL", "pos IS NOT NULL"], []
        if self.status:
            clauses.append("status = ?")
            args.append(self.status)
        if self.rule:
            clauses.append("pos IN (SELECT pos FROM findings WHERE code = ?)")
            args.append(self.rule)
        if self.verdict:
            clauses.append("json_extract(judge, '$.verdict') = ?")
            args.append(self.verdict)
        if self.min_risk is not None:
            clauses.append("risk >= ?")
            args.append(self.min_risk)
        return " AND ".join(clauses), args


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Store:
    def __init__(self, path: str | Path, *, create: bool = False):
        path = Path(path)
        if not create and not path.is_file():
            raise InputError(f"{path}: no review database here; build one with `ftdata review queue IN --db {path}`")
        try:
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise InputError(f"{path}: not a review database: {e}") from None
        self.db.row_factory = sqlite3.Row
        self.path = path

    def close(self) -> None:
        self.db.close()

    # meta

    def meta(self) -> dict[str, Any]:
        return {row["name"]: orjson.loads(row["value"]) for row in self.db.execute("SELECT name, value FROM meta")}

    def set_meta(self, values: dict[str, Any]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [(k, orjson.dumps(v).decode()) for k, v in values.items()])

    # reading

    def record(self, key: str) -> sqlite3.Row:
        row = self.db.execute("SELECT * FROM records WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise UsageError(f"no record {key!r} in {self.path}")
        return row

    def positions_with_errors(self) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT pos FROM findings WHERE severity = 'error'")}

    def findings(self, pos: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT code, name, severity, field, message FROM findings WHERE pos = ?", (pos,))
        return [dict(r) for r in rows]

    def neighbour(self, flt: Filter, after_rank: int | None, step: int = 1) -> sqlite3.Row | None:
        """The next (step 1) or previous (step -1) queued record matching the filter, from a rank."""
        where, args = flt.where()
        if after_rank is not None:
            where += " AND rank > ?" if step > 0 else " AND rank < ?"
            args.append(after_rank)
        order = "ASC" if step > 0 else "DESC"
        return self.db.execute(f"SELECT * FROM records WHERE {where} ORDER BY rank {order} LIMIT 1", args).fetchone()

    def keys(self, flt: Filter) -> list[str]:
        where, args = flt.where()
        return [r[0] for r in self.db.execute(f"SELECT key FROM records WHERE {where} ORDER BY rank", args)]

    def progress(self) -> dict[str, Any]:
        counts = {s: 0 for s in STATUSES}
        for row in self.db.execute("SELECT status, COUNT(*) FROM records WHERE queue IS NOT NULL AND pos IS NOT NULL "
                                   "GROUP BY status"):
            counts[row[0]] = row[1]
        total = sum(counts.values())
        return {"queued": total, "decided": total - counts["pending"], **counts}

    def rules(self) -> list[dict[str, Any]]:
        """Rule codes found in queued records, with how many queued records each touches."""
        rows = self.db.execute(
            "SELECT code, name, COUNT(DISTINCT f.pos) FROM findings f JOIN records r ON r.pos = f.pos "
            "WHERE r.queue IS NOT NULL GROUP BY code ORDER BY code")
        return [{"code": c, "name": n, "records": k} for c, n, k in rows]

    def present(self) -> Iterator[sqlite3.Row]:
        """Every record of the current dataset, in dataset order."""
        return self.db.execute("SELECT * FROM records WHERE pos IS NOT NULL ORDER BY pos")

    # deciding

    def decide(self, key: str, status: str, version: int, *, reason: str | None = None,
               edited: str | None = None, reviewer: str | None = None) -> int:
        """Record a decision if the record is still at `version`; returns the new version.

        Raises Conflict when another save came first, so that a second tab never overwrites silently."""
        if status not in STATUSES:
            raise UsageError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        with self._transaction():
            row = self.record(key)
            if row["version"] != version:
                raise Conflict(row["version"])
            self.db.execute("INSERT INTO history (key, version, status, edited, reviewer, reason, decided_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (key, row["version"], row["status"], row["edited"], row["reviewer"], row["reason"],
                             row["decided_at"]))
            edited = edited if status == "edited" else (row["edited"] if status == "pending" else None)
            self.db.execute("UPDATE records SET status = ?, edited = ?, reviewer = ?, reason = ?, decided_at = ?, "
                            "version = version + 1 WHERE key = ?",
                            (status, edited, reviewer, reason, None if status == "pending" else now(), key))
        return version + 1

    def undo(self, key: str, version: int) -> int:
        """Restore the state before the record's last decision; returns the new version."""
        with self._transaction():
            row = self.record(key)
            if row["version"] != version:
                raise Conflict(row["version"])
            last = self.db.execute("SELECT * FROM history WHERE key = ? ORDER BY id DESC LIMIT 1", (key,)).fetchone()
            if last is None:
                raise UsageError("nothing to undo for this record")
            self.db.execute("DELETE FROM history WHERE id = ?", (last["id"],))
            self.db.execute("UPDATE records SET status = ?, edited = ?, reviewer = ?, reason = ?, decided_at = ?, "
                            "version = version + 1 WHERE key = ?",
                            (last["status"], last["edited"], last["reviewer"], last["reason"], last["decided_at"], key))
        return version + 1

    def bulk(self, flt: Filter, status: str, *, reason: str | None, reviewer: str | None) -> int:
        """Decide every pending record of a filter at once; returns how many were decided."""
        if status not in ("accepted", "rejected"):
            raise UsageError("bulk actions accept or reject")
        pending = Filter(status="pending", rule=flt.rule, verdict=flt.verdict, min_risk=flt.min_risk)
        count = 0
        for key in self.keys(pending):
            self.decide(key, status, self.record(key)["version"], reason=reason, reviewer=reviewer)
            count += 1
        return count

    def _transaction(self):
        return _Immediate(self.db)

    def insert_findings(self, rows: Iterable[tuple]) -> None:
        self.db.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?)", rows)


class _Immediate:
    """BEGIN IMMEDIATE ... COMMIT: the version check and the write happen under one write lock."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
