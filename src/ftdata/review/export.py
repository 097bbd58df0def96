"""`ftdata review export`: the reviewed dataset, or records for Argilla.

JSON Lines: every record of the current dataset in its order, edits applied, rejections removed; pending
and accepted records as they were (byte for byte for JSON Lines inputs).

Argilla (`--to argilla`): one flat JSON object per record, the shape Argilla 2's `dataset.records.log()`
takes: keys named after the dataset's fields (`chat`, a list of {role, content}), its questions (`decision`,
a label suggestion; `reason`) and its metadata properties (`review_status`, `risk`, `judge_overall`), and `id`.
docs/review.md shows the matching `rg.Settings`.
"""

from pathlib import Path
from typing import Any

import orjson

from ..outputs import atomic_writer, claim_outputs
from ..errors import UsageError
from .render import conversation
from .stats import audit_estimate, judge_agreement
from .store import Store

TARGETS = ("jsonl", "argilla")
_DECISION = {"accepted": "keep", "edited": "keep", "rejected": "discard"}


def export(db: str | Path, out: str | Path, *, to: str = "jsonl", force: bool = False) -> dict[str, Any]:
    if to not in TARGETS:
        raise UsageError(f"unknown export target {to!r}; expected one of {', '.join(TARGETS)}")
    store = Store(db)
    out = Path(out)
    claim_outputs([out], [str(db)], force)
    counts = {"written": 0, "edited": 0, "rejected": 0, "accepted": 0, "pending_in_queue": 0, "not_queued": 0}
    with_errors = store.positions_with_errors()
    kept_errors = []  # lines of the export holding a record check rejects, unedited (pending or accepted as is)
    with atomic_writer(out) as f:
        for row in store.present():
            status = row["status"]
            if status in ("pending", "accepted") and row["pos"] in with_errors and to == "jsonl":
                kept_errors.append(counts["written"] + 1)
            if row["queue"] is None:
                counts["not_queued"] += 1
            elif status == "pending":
                counts["pending_in_queue"] += 1
            else:
                counts[status] += 1
            if to == "argilla":
                f.write(orjson.dumps(_argilla(row)) + b"\n")
                counts["written"] += 1
            elif status != "rejected":
                f.write((row["edited"] if status == "edited" else row["original"]).encode() + b"\n")
                counts["written"] += 1
    summary = {"out": str(out), "to": to, **counts, "kept_errors": kept_errors, "audit": audit_estimate(store), "judge": judge_agreement(store)}
    store.close()
    return summary


def _argilla(row) -> dict[str, Any]:
    text = row["edited"] if row["status"] == "edited" else row["original"]
    view = conversation(text)
    chat = [{"role": m["role"], "content": m["content"]} for s in view["sections"][:1] for m in s["messages"]]
    judge = orjson.loads(row["judge"]) if row["judge"] else {}
    record: dict[str, Any] = {"id": row["key"], "chat": chat, "review_status": row["status"], "risk": round(row["risk"], 4)}
    if row["status"] in _DECISION:
        record["decision"] = _DECISION[row["status"]]
    if row["reason"]:
        record["reason"] = row["reason"]
    if isinstance(judge.get("overall"), (int, float)):
        record["judge_overall"] = judge["overall"]
    return record
