"""What the decisions so far say: the error rate of the un-reviewed rest, and whether the judge agreed.

A record "needed work" when people rejected or edited it. The audit sample is uniform over the records
outside the risk queue, so its share of such records estimates theirs (a Wilson 95% interval, which stays
sensible at 0 or n of n). Judge agreement: accuracy of its keep/discard verdicts against accept/reject
(`review` verdicts are neither and are counted apart), and Spearman's rank correlation of its overall score
with the decision (accepted 1, edited 0.5, rejected 0).
"""

import math
from typing import Any

import orjson
import polars as pl

from .store import Store

_Z95 = 1.959964
_DECISION_VALUE = {"accepted": 1.0, "edited": 0.5, "rejected": 0.0}


def wilson(bad: int, n: int, z: float = _Z95) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = bad / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def audit_estimate(store: Store) -> dict[str, Any]:
    rows = store.db.execute("SELECT status, COUNT(*) FROM records WHERE queue = 'audit' AND pos IS NOT NULL "
                            "GROUP BY status").fetchall()
    counts = dict(rows)
    sampled = sum(counts.values())
    decided = sampled - counts.get("pending", 0)
    bad = counts.get("rejected", 0) + counts.get("edited", 0)
    rest = store.db.execute("SELECT COUNT(*) FROM records WHERE pos IS NOT NULL AND "
                            "(queue IS NULL OR queue = 'audit')").fetchone()[0]
    low, high = wilson(bad, decided)
    estimate = {"sampled": sampled, "decided": decided, "needed_work": bad, "rest_records": rest,
                "rate": bad / decided if decided else None, "ci95": [low, high] if decided else None}
    if decided:
        estimate["records_needing_work"] = [round(low * rest), round(high * rest)]
    return estimate


def judge_agreement(store: Store) -> dict[str, Any] | None:
    rows = store.db.execute("SELECT judge, status FROM records WHERE judge IS NOT NULL AND pos IS NOT NULL "
                            "AND status != 'pending'").fetchall()
    if not rows:
        return None
    verdicts, scores, decisions = [], [], []
    for judge, status in rows:
        j = orjson.loads(judge)
        verdicts.append((j.get("verdict"), status))
        if isinstance(j.get("overall"), (int, float)):
            scores.append(float(j["overall"]))
            decisions.append(_DECISION_VALUE[status])
    hard = [(v, s) for v, s in verdicts if v in ("keep", "discard") and s in ("accepted", "rejected")]
    agreed = sum((v == "keep") == (s == "accepted") for v, s in hard)
    result: dict[str, Any] = {
        "decided_with_judge": len(rows),
        "verdict_pairs": len(hard),
        "verdict_accuracy": agreed / len(hard) if hard else None,
        "review_verdicts": sum(v == "review" for v, _ in verdicts),
        "spearman": None,
    }
    if len(scores) >= 3 and len(set(scores)) > 1 and len(set(decisions)) > 1:
        frame = pl.DataFrame({"score": scores, "decision": decisions})
        result["spearman"] = frame.select(pl.corr("score", "decision", method="spearman")).item()
    return result
