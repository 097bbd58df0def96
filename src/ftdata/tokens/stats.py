"""Length distributions: compact per-record lengths, labelled percentiles, a histogram, role shares.

Lengths are kept as 4-byte integers (40 MB for 10M records), since exact percentiles and the cost
estimate's truncation at each provider's limit both need every record's length.
"""

from array import array
from typing import Any

import numpy as np

PERCENTILES = (5, 10, 50, 90, 95, 99)


class Lengths:
    """A growing column of non-negative token counts."""

    def __init__(self) -> None:
        self._values = array("I")
        self.add = self._values.append  # add(value): bound once, called for every record

    def to_bytes(self) -> bytes:
        """The values, 4 bytes each (what a shard hands over)."""
        return self._values.tobytes()

    def extend_bytes(self, data: bytes) -> None:
        """Append values given by `to_bytes()`, in order: merging shards loses nothing."""
        self._values.frombytes(data)

    def __len__(self) -> int:
        return len(self._values)

    def numpy(self) -> np.ndarray:
        return np.frombuffer(self._values, dtype=np.uint32) if self._values else np.zeros(0, dtype=np.uint32)


def summarize(values: np.ndarray) -> dict[str, Any]:
    """count, sum, min, mean, p5..p99 (the q-th percentile, linear interpolation as numpy), max."""
    values = np.asarray(values)
    if values.size == 0:
        return {"count": 0, "sum": 0}
    summary: dict[str, Any] = {
        "count": int(values.size),
        "sum": int(values.sum(dtype=np.int64)),
        "min": int(values.min()),
        "mean": round(float(values.mean(dtype=np.float64)), 2),
    }
    for q, value in zip(PERCENTILES, np.percentile(values, PERCENTILES)):
        summary[f"p{q}"] = round(float(value), 2)
    summary["max"] = int(values.max())
    return summary


def histogram(values: np.ndarray) -> list[dict[str, int]]:
    """Counts in power-of-two bins [0, 16), [16, 32), [32, 64)...: readable for heavy-tailed lengths."""
    values = np.asarray(values)
    if values.size == 0:
        return []
    top = max(16, int(values.max()) + 1)
    edges = [0, 16]
    while edges[-1] < top:
        edges.append(edges[-1] * 2)
    counts, _ = np.histogram(values, bins=edges)
    return [{"from": lo, "to": hi, "count": int(n)} for lo, hi, n in zip(edges, edges[1:], counts)]


def role_shares(by_role: dict[str, int]) -> dict[str, float]:
    """Each role's share of all counted tokens ("layout" is the chat template's overhead)."""
    total = sum(by_role.values())
    if not total:
        return {}
    return {role: round(tokens / total, 4) for role, tokens in sorted(by_role.items(), key=lambda kv: -kv[1])}
