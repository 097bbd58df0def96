"""From band keys to verified clusters: bucket, pair, verify, union-find.

Each step takes plain arrays with global record ids, so a distributed backend can run `bucket`
per band partition, `verify` per pair partition and `connected` once over the (small) surviving
pairs, without changing them.
"""

import numpy as np

from .shingles import ShingleSets


def candidate_pairs(keys: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    """(pairs, 2) int64 ids, low id first, distinct: records sharing a key in some band.

    Within a bucket every member is paired with the bucket's first (lowest) id only, so a bucket of
    k records costs k - 1 checks, not k**2 / 2; other bands and union-find supply the rest.
    """
    if ids is None:
        ids = np.arange(len(keys), dtype=np.int64)
    found = []
    for band in range(keys.shape[1]):
        order = np.argsort(keys[:, band], kind="stable")
        ordered = keys[order, band]
        opens = np.ones(len(ordered), dtype=bool)
        opens[1:] = ordered[1:] != ordered[:-1]
        first = np.flatnonzero(opens)[np.cumsum(opens) - 1]
        member = ~opens
        found.append(np.stack((ids[order[first[member]]], ids[order[member]]), axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    pairs.sort(axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def true_jaccard(sets: ShingleSets, pairs: np.ndarray) -> np.ndarray:
    """Jaccard similarity of the shingle sets of each pair (ids index into sets)."""
    out = np.empty(len(pairs), dtype=np.float64)
    for k, (i, j) in enumerate(pairs):
        a, b = sets.of(i), sets.of(j)
        shared = len(np.intersect1d(a, b, assume_unique=True))
        union = len(a) + len(b) - shared
        out[k] = shared / union if union else 1.0
    return out


def connected(pairs: np.ndarray) -> list[list[int]]:
    """Connected components (union-find) of the pairs' graph, each sorted, in order of first id."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs.tolist():
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for x in sorted(parent):
        groups.setdefault(root(x), []).append(x)
    return [g for g in groups.values() if len(g) > 1]
