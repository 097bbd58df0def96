"""`ftdata review queue`: the riskiest records, and a uniform audit sample of the rest, into the store.

Risk of a record, in [0, 1], from the signals it has (weights renormalised over those present):
  findings  0.6  noisy-or over its check findings of severity weight x rule weight
  judge     0.3  (5 - overall) / 4 from `ftdata judge`'s score, when the input carries one
  length    0.1  how far its length lies outside the dataset's (robust z-score of log bytes)
The queue takes the records with risk > 0, highest first, up to `fraction` of the dataset. The audit
sample is drawn uniformly from every record outside that queue, so the error rate of the un-reviewed
rest can be estimated from it (see `stats.audit_estimate`). Ties and the sample come from a seeded hash
of each record's key: the same seed and data give the same queue, and a record keeps its place in the
sample when unrelated records change.
"""

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from ..config import Config, Policy
from ..judge import JUDGE_KEY
from ..pipeline import check, split_of
from ..stages.base import Context, InputFile, Shard
from ..stages.read import ReadStage, check_readable
from ..targets import load_target
from .store import Store

SEVERITY_WEIGHT = {"error": 1.0, "warning": 0.5, "info": 0.15}
# duplicates are better removed by `ftdata dedup` than by a person; the rest deserve a look
RULE_WEIGHT = {"D": 0.5, "G": 0.0}
SIGNAL_WEIGHT = {"findings": 0.6, "judge": 0.3, "length": 0.1}
_BATCH = 20_000
_MIN_LOG_SPREAD = 0.2  # outliers start 2.5 spreads out: at least 1.65x longer or shorter than the median


def finding_weight(code: str, severity: str) -> float:
    return SEVERITY_WEIGHT.get(severity, 0.0) * RULE_WEIGHT.get(code[:1], 1.0)


def length_risk(lengths: np.ndarray) -> np.ndarray:
    """0 inside the usual lengths, rising to 1 at 5 robust standard deviations of log length."""
    if len(lengths) < 10:
        return np.zeros(len(lengths))
    x = np.log1p(lengths.astype(np.float64))
    median = np.median(x)
    # a floor on the spread: in a file of near-identical lengths a few extra characters are no outlier
    mad = max(np.median(np.abs(x - median)) * 1.4826, _MIN_LOG_SPREAD)
    return np.clip((np.abs(x - median) / mad - 2.5) / 2.5, 0.0, 1.0)


def build_queue(path: str, db: str | Path, *, fraction: float = 0.2, audit: float = 0.05, seed: int = 0,
                config: Config | None = None) -> dict[str, Any]:
    """Read and check `path`, score every record, and (re)build the queue in `db`; returns a summary."""
    config = config or Config()
    check_readable(path)
    store = Store(db, create=True)
    source = InputFile(path, split_of(path))
    with tempfile.TemporaryDirectory(prefix="ftdata-review-") as tmp:
        # every record on one line of a JSON Lines copy, without judge scores: the file that is checked,
        # whatever the input's format, with line n+1 holding record n
        checked = Path(tmp) / f"records{'.' + source.split if source.split != 'train' else ''}.jsonl"
        lengths, judge_risk, judged = _load(store, config, source, checked)
        report = check([InputFile(str(checked), source.split)], config, jobs=config.jobs or None)
    n = len(lengths)
    finding_risk = np.zeros(n)
    has_error = np.zeros(n, bool)  # a record check rejects is always reviewed, whatever the fraction
    dataset_findings, rows = [], []
    for f in report.findings:
        if f.line is None:
            if f.code[:1] != "G" and len(dataset_findings) < 100:
                dataset_findings.append({"code": f.code, "severity": f.severity, "message": f.message})
            continue
        pos = f.line - 1
        has_error[pos] |= f.severity == "error"
        finding_risk[pos] = 1 - (1 - finding_risk[pos]) * (1 - finding_weight(f.code, f.severity))
        rows.append((pos, f.code, f.name, f.severity, f.field, f.message))
        if len(rows) >= _BATCH:
            store.insert_findings(rows)
            rows.clear()
    store.insert_findings(rows)

    signals = [(SIGNAL_WEIGHT["findings"], finding_risk, np.ones(n, bool)),
               (SIGNAL_WEIGHT["length"], length_risk(lengths), np.ones(n, bool))]
    if judged.any():
        signals.append((SIGNAL_WEIGHT["judge"], np.nan_to_num(judge_risk), judged))
    weight = sum(w * has for w, _, has in signals)
    risk = sum(w * r * has for w, r, has in signals) / weight
    risk_keys, audit_keys = _select(store, risk, has_error, fraction, audit, seed)
    _write_queue(store, risk, risk_keys, audit_keys)
    summary = {
        "input": str(path), "records": n, "queued": len(risk_keys), "audit": len(audit_keys),
        "judged": int(judged.sum()), "fraction": fraction, "audit_fraction": audit, "seed": seed,
        "check": {k: v for k, v in report.summary.items() if k not in ("inputs", "target")},
    }
    store.set_meta({**summary, "dataset_findings": dataset_findings, "config": _config_json(config)})
    store.close()
    return summary


def _load(store: Store, config: Config, source: InputFile, checked: Path):
    """Upsert every record into the store (decisions of unchanged records stay) and write the checked copy."""
    db = store.db
    db.execute("BEGIN")
    db.execute("UPDATE records SET pos = NULL, line = NULL, queue = NULL, rank = NULL, risk = 0")
    db.execute("DELETE FROM findings")
    ctx = Context(config, load_target(config.target), Policy(config), [source])
    lengths, judge_risk, judged, batch = [], [], [], []
    seen: dict[str, int] = {}
    with open(checked, "wb") as out:
        for pos, example in enumerate(ReadStage(ctx).records(Shard(source))):
            text, judge = _strip(example.raw, example.data)
            digest = xxhash.xxh3_64_hexdigest(text)
            seen[digest] = occurrence = seen.get(digest, 0) + 1
            out.write(text + b"\n")
            lengths.append(len(text))
            overall = judge.get("overall") if judge else None
            has = isinstance(overall, (int, float)) and not isinstance(overall, bool)
            judged.append(has)
            judge_risk.append(min(max((5 - overall) / 4, 0.0), 1.0) if has else math.nan)
            batch.append((f"{digest}:{occurrence}", pos, example.line, text.decode("utf-8", "replace"),
                          orjson.dumps(judge).decode() if judge else None))
            if len(batch) >= _BATCH:
                _upsert(db, batch)
    _upsert(db, batch)
    db.execute("COMMIT")
    return np.array(lengths), np.array(judge_risk, dtype=np.float64), np.array(judged, dtype=bool)


def _strip(raw: bytes, data: dict | None) -> tuple[bytes, dict | None]:
    """The record as one line without the judge's key, and the judge's scores if it had them."""
    if JUDGE_KEY.encode() not in raw and b"\n" not in raw and b"\r" not in raw:
        return raw, None  # the common case: kept byte for byte
    if data is None:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw.replace(b"\r", b" ").replace(b"\n", b" "), None  # whitespace, as far as JSON is concerned
    if not isinstance(data, dict):
        return orjson.dumps(data), None
    judge = data.pop(JUDGE_KEY, None)
    return orjson.dumps(data), judge if isinstance(judge, dict) else None


def _upsert(db, batch: list[tuple]) -> None:
    db.executemany(
        "INSERT INTO records (key, pos, line, original, judge) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET pos = excluded.pos, line = excluded.line, judge = excluded.judge", batch)
    batch.clear()


def _order(keys: list[str], seed: int) -> np.ndarray:
    """A seeded pseudo-random number per key: the tie-break and the audit sample's order."""
    prefix = f"{seed}:".encode()
    return np.fromiter((xxhash.xxh3_64_intdigest(prefix + k.encode()) for k in keys), np.uint64, len(keys))


def _select(store: Store, risk: np.ndarray, has_error: np.ndarray, fraction: float, audit: float,
            seed: int) -> tuple[list[int], list[int]]:
    """Positions of the risk queue (riskiest first) and of the audit sample (in random order). Every record
    with an error is queued, beyond `fraction` if need be: left out, it would be exported as it is."""
    keys = [r[0] for r in store.db.execute("SELECT key FROM records WHERE pos IS NOT NULL ORDER BY pos")]
    n = len(keys)
    shuffle = _order(keys, seed)
    by_risk = np.lexsort((shuffle, -risk))
    budget = max(math.ceil(fraction * n), int(has_error.sum()))
    risky = [int(p) for p in by_risk[has_error[by_risk]]]
    risky += [int(p) for p in by_risk[~has_error[by_risk]][:budget - len(risky)] if risk[p] > 0]
    risky.sort(key=lambda p: (-risk[p], shuffle[p]))
    rest = np.ones(n, bool)
    rest[risky] = False
    candidates = np.flatnonzero(rest)
    sample = candidates[np.argsort(shuffle[candidates], kind="stable")][:math.ceil(audit * len(candidates))]
    return risky, [int(p) for p in sample]


def _write_queue(store: Store, risk: np.ndarray, risky: list[int], sample: list[int]) -> None:
    """Risk and audit records interleaved evenly, so that the audit estimate firms up while people work."""
    placed = [(i / max(len(risky), 1), "risk", p) for i, p in enumerate(risky)]
    placed += [((i + 0.5) / max(len(sample), 1), "audit", p) for i, p in enumerate(sample)]
    placed.sort()
    db = store.db
    db.execute("BEGIN")
    nonzero = np.flatnonzero(risk)
    db.executemany("UPDATE records SET risk = ? WHERE pos = ?", ((float(risk[p]), int(p)) for p in nonzero))
    db.executemany("UPDATE records SET queue = ?, rank = ? WHERE pos = ?",
                   ((queue, rank, p) for rank, (_, queue, p) in enumerate(placed)))
    # decisions made earlier on records the new queue leaves out stay visible (and count), after the rest
    db.execute("UPDATE records SET queue = 'earlier', rank = ? + pos WHERE queue IS NULL AND pos IS NOT NULL "
               "AND status != 'pending'", (len(placed),))
    db.execute("COMMIT")


def _config_json(config: Config) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in ("source",)}


def config_from_json(values: dict[str, Any]) -> Config:
    return Config(**values)

