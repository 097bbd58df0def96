"""A deterministic train/val/test split in which a duplicate cluster never crosses splits.

Units are the clusters (exact and near-duplicates together) and the records in none. Within each
stratum (the value of `--stratify FIELD`, or one stratum), units are shuffled with the seed and
filled into val, then test, up to their target counts; what does not fit goes to train.
"""

import random
from collections.abc import Hashable, Sequence

TRAIN, VAL, TEST = 0, 1, 2


def assign_splits(
    count: int,
    clusters: Sequence[Sequence[int]],
    *,
    val: float,
    test: float,
    seed: int,
    strata: Sequence[Hashable] | None = None,
) -> list[int]:
    """The split (TRAIN, VAL, TEST) of each of `count` records; members of a cluster share one."""
    if val < 0 or test < 0 or val + test >= 1:
        raise ValueError(f"--val and --test must be >= 0 and leave some training data, not {val} and {test}")
    owner = list(range(count))
    for cluster in clusters:
        for member in cluster:
            owner[member] = cluster[0]
    units: dict[int, list[int]] = {}
    for position in range(count):
        units.setdefault(owner[position], []).append(position)
    by_stratum: dict[Hashable, list[list[int]]] = {}
    for head, members in units.items():
        by_stratum.setdefault(strata[head] if strata is not None else None, []).append(members)
    rng = random.Random(seed)
    result = [TRAIN] * count
    for stratum in sorted(by_stratum, key=repr):
        group = by_stratum[stratum]
        rng.shuffle(group)
        size = sum(len(u) for u in group)
        room = {VAL: round(val * size), TEST: round(test * size)}
        for unit in group:
            split = next((s for s in (VAL, TEST) if len(unit) <= room[s]), TRAIN)
            if split != TRAIN:
                room[split] -= len(unit)
            for member in unit:
                result[member] = split
    return result
