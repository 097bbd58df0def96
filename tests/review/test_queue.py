"""The review queue, the store's decisions and the export, through the library."""

import json
import sqlite3

import orjson
import pytest

from ftdata.errors import InputError
from ftdata.review.export import export
from ftdata.review.queue import build_queue, length_risk
from ftdata.review.stats import audit_estimate, judge_agreement, wilson
from ftdata.review.store import Conflict, Filter, Store

from .conftest import SUPPORT


def _queue(db) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT key, queue FROM records WHERE queue IS NOT NULL ORDER BY rank").fetchall()


def _chat(i: int, answer: str | None = None) -> dict:
    return {"messages": [{"role": "user", "content": f"Question number {i} about the product?"},
                         {"role": "assistant", "content": answer if answer is not None else f"Answer {i}: see the docs."}]}


def _write(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_riskiest_first_and_judge_scores_stripped(queued):
    store = Store(queued)
    first = store.neighbour(Filter(), None)
    # the empty answer: an error finding and the judge's lowest score
    assert "How do I upgrade my plan?" in first["original"] and first["queue"] == "risk"
    assert store.findings(first["pos"])[0]["code"] == "P002"
    assert orjson.loads(first["judge"])["verdict"] == "discard"
    for row in store.present():
        assert "ftdata_judge" not in row["original"]
    risky = [r["risk"] for r in store.db.execute("SELECT risk FROM records WHERE queue = 'risk' ORDER BY rank")]
    assert risky == sorted(risky, reverse=True) and risky[-1] > 0
    meta = store.meta()
    assert meta["records"] == 20 and meta["judged"] == 20


def test_same_seed_same_queue_other_seed_other_audit(tmp_path):
    data = tmp_path / "train.jsonl"
    _write(data, [_chat(i, "" if i % 10 == 0 else None) for i in range(300)])
    a, b, c = (build_queue(str(data), tmp_path / f"{n}.sqlite", fraction=0.2, audit=0.1, seed=s)
               for n, s in (("a", 7), ("b", 7), ("c", 8)))
    assert a == {**b}  # the summaries
    assert _queue(tmp_path / "a.sqlite") == _queue(tmp_path / "b.sqlite")
    audit = lambda db: {k for k, q in _queue(db) if q == "audit"}  # noqa: E731
    assert audit(tmp_path / "a.sqlite") != audit(tmp_path / "c.sqlite")
    assert a["audit"] == 27  # 10% of the 270 records outside the risk queue (30 empty answers)
    assert a["queued"] == 30  # only records with risk: not filled up to 20% with clean ones


def test_requeue_keeps_decisions_of_unchanged_records(tmp_path):
    data, db = tmp_path / "train.jsonl", tmp_path / "r.sqlite"
    records = [_chat(i, "" if i < 3 else None) for i in range(40)]
    _write(data, records)
    build_queue(str(data), db, fraction=0.5, audit=0.0)
    store = Store(db)
    rows = list(store.db.execute("SELECT key, version FROM records WHERE queue = 'risk' ORDER BY rank"))
    store.decide(rows[0]["key"], "rejected", rows[0]["version"], reason="empty", reviewer="me")
    store.decide(rows[1]["key"], "accepted", rows[1]["version"], reviewer="me")
    store.close()
    records[39] = _chat(39, "A changed answer.")  # one record changes, one is removed, one is added
    del records[20]
    records.append(_chat(1000))
    _write(data, records)
    summary = build_queue(str(data), db, fraction=0.5, audit=0.0)
    assert summary["records"] == 40
    store = Store(db)
    assert store.record(rows[0]["key"])["status"] == "rejected"
    assert store.record(rows[1]["key"])["status"] == "accepted"
    assert store.progress()["decided"] == 2
    out = tmp_path / "out.jsonl"
    counts = export(db, out)
    lines = out.read_text().splitlines()
    assert counts["rejected"] == 1 and len(lines) == 39
    assert json.loads(lines[-1]) == _chat(1000) and json.loads(lines[-2]) == _chat(39, "A changed answer.")


def test_duplicate_lines_are_separate_records(tmp_path):
    data, db = tmp_path / "train.jsonl", tmp_path / "r.sqlite"
    _write(data, [_chat(1), _chat(1), _chat(2)])
    build_queue(str(data), db, fraction=1.0, audit=0.0)
    keys = [r["key"] for r in Store(db).present()]
    assert len(set(keys)) == 3 and keys[0].endswith(":1") and keys[1].endswith(":2")


def test_export_applies_edits_removes_rejections_keeps_bytes(queued, tmp_path):
    store = Store(queued)
    first = store.neighbour(Filter(), None)
    second = store.neighbour(Filter(), first["rank"])
    edited = json.dumps(_chat(5, "Fixed answer."), separators=(",", ":"))
    store.decide(first["key"], "edited", 0, edited=edited, reviewer="me")
    store.decide(second["key"], "rejected", 0, reason="no user", reviewer="me")
    out = tmp_path / "out.jsonl"
    summary = export(queued, out)
    lines = out.read_text().splitlines()
    original = [line for line in SUPPORT.read_text().splitlines()]
    assert len(lines) == 19 and summary["edited"] == 1 and summary["rejected"] == 1
    assert edited in lines and second["original"] not in lines
    # an untouched record comes out as it went in, less the judge's key
    untouched = json.loads(original[0])
    del untouched["ftdata_judge"]
    assert json.loads(lines[0]) == untouched


def test_export_refuses_to_overwrite(queued, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n")
    with pytest.raises(Exception, match="exists"):
        export(queued, out)
    assert out.read_text() == "keep me\n"


def test_argilla_records(queued, tmp_path):
    store = Store(queued)
    first = store.neighbour(Filter(), None)
    store.decide(first["key"], "rejected", 0, reason="empty answer", reviewer="me")
    out = tmp_path / "argilla.jsonl"
    export(queued, out, to="argilla")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 20
    rejected = next(r for r in records if r["id"] == first["key"])
    assert rejected["decision"] == "discard" and rejected["reason"] == "empty answer"
    assert rejected["chat"][1] == {"role": "user", "content": "How do I upgrade my plan?"}
    assert rejected["judge_overall"] == 1.0 and rejected["review_status"] == "rejected"
    assert all({"id", "chat", "review_status", "risk"} <= r.keys() for r in records)


def test_conflicting_versions_and_undo(queued):
    store = Store(queued)
    key = store.neighbour(Filter(), None)["key"]
    v1 = store.decide(key, "accepted", 0, reviewer="tab 1")
    with pytest.raises(Conflict, match="changed elsewhere"):
        store.decide(key, "rejected", 0, reviewer="tab 2")  # tab 2 still holds version 0
    assert store.record(key)["status"] == "accepted"
    v2 = store.decide(key, "rejected", v1, reason="second thoughts", reviewer="tab 1")
    store.undo(key, v2)
    row = store.record(key)
    assert row["status"] == "accepted" and row["reason"] is None
    store.undo(key, row["version"])
    assert store.record(key)["status"] == "pending"


def test_bulk_over_a_filter(queued):
    store = Store(queued)
    decided = store.bulk(Filter(verdict="keep"), "accepted", reason="bulk", reviewer="me")
    queued_keep = store.db.execute("SELECT COUNT(*) FROM records WHERE queue IS NOT NULL AND "
                                   "json_extract(judge, '$.verdict') = 'keep'").fetchone()[0]
    assert decided == queued_keep > 0
    assert store.progress()["accepted"] == decided
    assert store.bulk(Filter(verdict="keep"), "accepted", reason="bulk", reviewer="me") == 0


def test_filter_by_rule(queued):
    store = Store(queued)
    keys = store.keys(Filter(rule="P007"))
    assert len(keys) == 1 and "Our office hours" in store.record(keys[0])["original"]


def test_missing_database_is_one_line_error(tmp_path):
    with pytest.raises(InputError, match="no review database"):
        Store(tmp_path / "nope.sqlite")


def test_wilson_interval():
    low, high = wilson(0, 20)
    assert low == 0 and 0.15 < high < 0.17  # the rule of three's neighbourhood
    low, high = wilson(5, 10)
    assert low < 0.5 < high and abs((low + high) / 2 - 0.5) < 1e-9


def test_audit_estimate_and_judge_agreement(queued):
    store = Store(queued)
    audit = [r["key"] for r in store.db.execute("SELECT key FROM records WHERE queue = 'audit'")]
    assert audit_estimate(store)["rate"] is None
    store.decide(audit[0], "rejected", 0, reason="bad")
    for key in audit[1:]:
        store.decide(key, "accepted", 0)
    estimate = audit_estimate(store)
    assert estimate["decided"] == len(audit) and estimate["needed_work"] == 1
    assert estimate["ci95"][0] < estimate["rate"] < estimate["ci95"][1]
    for key in store.keys(Filter(status="pending")):
        verdict = orjson.loads(store.record(key)["judge"])["verdict"]
        store.decide(key, "rejected" if verdict == "discard" else "accepted", store.record(key)["version"])
    agreement = judge_agreement(store)
    assert agreement["verdict_pairs"] > 0 and agreement["spearman"] is not None


def test_length_risk_flags_outliers_only():
    import numpy as np

    lengths = np.array([100] * 50 + [105] * 50 + [100_000])
    risk = length_risk(lengths)
    assert risk[-1] == 1.0 and risk[:-1].max() == 0.0


def test_decisions_outside_the_new_queue_stay_visible(tmp_path):
    data, db = tmp_path / "train.jsonl", tmp_path / "r.sqlite"
    _write(data, [_chat(i) for i in range(100)])
    build_queue(str(data), db, fraction=0.2, audit=0.1, seed=1)
    store = Store(db)
    audited = store.keys(Filter())
    store.decide(audited[0], "rejected", 0, reason="bad")
    store.close()
    build_queue(str(data), db, fraction=0.2, audit=0.1, seed=2)  # another sample
    store = Store(db)
    row = store.record(audited[0])
    # no longer in the sample (seed 2 draws another): still listed and counted, not in the audit estimate
    assert row["status"] == "rejected" and row["queue"] == "earlier"
    assert store.keys(Filter(status="rejected")) == [audited[0]]
    assert audit_estimate(store)["decided"] == 0 and store.progress()["rejected"] == 1


def test_every_record_check_rejects_is_queued_and_export_says_which_remain(tmp_path):
    records = [_chat(i) for i in range(40)]
    broken = [3, 17, 25, 31, 38]  # no assistant turn: an error, five of forty records, above a 5% fraction
    for i in broken:
        records[i] = {"messages": [{"role": "user", "content": f"Question number {i} about the product?"}]}
    data, db = tmp_path / "data.jsonl", tmp_path / "review.sqlite"
    _write(data, records)
    summary = build_queue(str(data), db, fraction=0.05, audit=0.0)
    store = Store(db)
    queued = {row["pos"] for row in store.db.execute("SELECT pos FROM records WHERE queue IS NOT NULL")}
    assert set(broken) <= queued and summary["queued"] >= len(broken)
    first = store.neighbour(Filter(), None)
    store.decide(first["key"], "rejected", 0, reason="no answer", reviewer="me")
    store.close()
    exported = export(db, tmp_path / "out.jsonl")
    assert len(exported["kept_errors"]) == len(broken) - 1  # the four undecided ones, by their line in the export
