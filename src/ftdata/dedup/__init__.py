"""Exact and near-duplicate detection for fine-tuning records (see docs/dedup.md).

`near_duplicate_groups` is the one-call entry point other stages reuse; `NearDuplicateIndex`
streams; the steps (shingles -> minhash -> cluster) work on shards of a dataset.
"""

from collections.abc import Hashable, Iterable

from .index import NearDuplicateIndex, choose_shingling
from .shingles import Shingling
from .text import normalise

DEFAULT_THRESHOLD = 0.6  # word-bigram Jaccard; measured in benchmarks/results/dedup.txt
BATCH = 4096

__all__ = ["DEFAULT_THRESHOLD", "NearDuplicateIndex", "Shingling", "near_duplicate_groups", "normalise"]


def near_duplicate_groups(
    items: Iterable[tuple[Hashable, str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    shingle: str = "auto",
) -> list[list[Hashable]]:
    """Clusters of 2+ keys whose texts are near-duplicates, in input order.

    Texts are normalised (NFC, whitespace, case) and shingled (`auto`, `word3`, `char5`...); a
    pair joins a cluster only when the true Jaccard similarity of its shingle sets reaches
    `threshold` (LSH only proposes candidates), and clusters are the connected components.
    """
    keys: list[Hashable] = []
    texts: list[str] = []
    for key, text in items:
        keys.append(key)
        texts.append(normalise(text, casefold=True))
    index = NearDuplicateIndex(threshold=threshold, shingle=shingle, verify="jaccard")
    if shingle == "auto":  # decide from the whole input, not just its first batch
        index.shingling = choose_shingling(texts)
    for start in range(0, len(texts), BATCH):
        index.add(texts[start:start + BATCH])
    return [[keys[i] for i in group] for group in index.clusters()]
