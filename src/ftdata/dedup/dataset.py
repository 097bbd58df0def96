"""Duplicates across a whole dataset: exact, near and prompt-only, with a kept record per cluster.

`DuplicateFinder` takes records one at a time (their normalised text, prompt, split and keep
score) and keeps ~20 bytes of each plus the near-duplicate index's state. `resolve()` then
joins exact groups and near-duplicate pairs into clusters (connected components), keeps one
record per cluster and says for every other member why it goes.

Kept record: among the cluster's records of the earliest split (train, then val, then test), the
one with the highest keep score, the first on ties. A val or test record in a cluster with a
training record is leakage; other members are duplicates of the kept one.
"""

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .cluster import candidate_pairs, connected
from .index import NearDuplicateIndex
from .shingles import sample
from .text import hash64

SPLITS = ("train", "val", "test")
BATCH = 4096  # texts hashed together; "auto" shingling is chosen from the first batch
EXACT, NEAR = "exact", "near"


@dataclass(slots=True)
class Removal:
    position: int  # of the record that goes
    kept: int  # position of the record it duplicates
    kind: str  # exact or near
    leak: bool  # a val/test record duplicating a training record
    copy_of: int  # exact: the first record (of training, for a leak) with the same text, which may itself go; near: kept


@dataclass(slots=True)
class Resolution:
    clusters: list[list[int]]  # positions, kept record first, largest cluster first
    removals: list[Removal]
    repeated_prompts: list[tuple[int, int]]  # (record, first record with the same prompt, other answer)
    exact_clusters: int = 0
    near_clusters: int = 0
    kinds: list[str] = field(default_factory=list)  # per cluster: exact or near


class DuplicateFinder:
    def __init__(self, *, near: bool = True, batch: int = BATCH, **index_options):
        # boilerplate: as check finds it, unless told (the bare index leaves it to its caller)
        self.index = NearDuplicateIndex(**{"boilerplate": "auto", **index_options}) if near else None
        self.batch = batch
        self._pending = _Pending()
        self.hashes = array("Q")
        self.prompts = array("Q")  # 0: no prompt
        self.splits = array("B")
        self.scores = array("d")
        self.turns = array("H")  # turns each record teaches (capped): the kept record is one with the most

    def __len__(self) -> int:
        return len(self.hashes)

    def add(self, text: str, prompt: str, split: str = "train", score: float = 0.0, group: int = 0,
            turns: Sequence[str] = (), named_in: Sequence[str] = ()) -> int:
        """Remember one record (texts already normalised); its position is returned. Only records of one
        `group` (e.g. with the same images) can be near-duplicates, and only if they are one example (the
        `turns` it teaches, the names and numbers of the texts `named_in`: see cluster.SameExample)."""
        self.hashes.append(hash64(text))
        self.prompts.append(hash64(prompt) if prompt and prompt != text else 0)
        self.splits.append(SPLITS.index(split) if split in SPLITS else 0)
        self.scores.append(score)
        self.turns.append(min(len(turns), 0xFFFF))
        if self.index is not None:
            # all that the index reads: a huge turn, like a huge text, is compared on its head and tail
            self._pending.append(sample(text), group, ([sample(turn) for turn in turns], named_in))
            if len(self._pending) >= self.batch:
                self._flush()
        return len(self.hashes) - 1

    def nbytes(self) -> int:
        own = sum(a.itemsize * len(a) for a in (self.hashes, self.prompts, self.splits, self.scores, self.turns))
        return own + (self.index.nbytes() if self.index else 0)

    def _flush(self) -> None:
        if self._pending:
            self.index.add(**self._pending.take(len(self._pending)))

    def for_merge(self) -> "DuplicateFinder":
        """Itself, ready to hand to `merge` in another process: texts hashed, unless the index's shingling is
        still undecided ("auto" and fewer than a batch of texts): then the merging process hashes those few
        texts itself, so that "auto" decides from the run's first batch exactly as one process would."""
        if self.index is not None and self.index.decided:
            self._flush()
        return self

    def merge(self, other: "DuplicateFinder") -> None:
        """Append another finder's records (those of the next shard) after this one's; positions continue."""
        if (self.index is None) != (other.index is None):
            raise ValueError("cannot merge a finder of near-duplicates with one of exact duplicates only")
        for mine, theirs in ((self.hashes, other.hashes), (self.prompts, other.prompts),
                             (self.splits, other.splits), (self.scores, other.scores), (self.turns, other.turns)):
            mine.extend(theirs)
        if self.index is None:
            return
        if other.index.size:  # hashed in its shard: what this finder still holds goes first, in order
            if not self.index.decided:
                self.index.shingling, self.index.boilerplate = other.index.shingling, other.index.boilerplate
            self._flush()
            self.index.merge(other.index)
        self._pending.extend(other._pending)
        while len(self._pending) >= self.batch:  # the same batches as one finder fed record by record
            self.index.add(**self._pending.take(self.batch))

    def resolve(self) -> Resolution:
        hashes = np.frombuffer(self.hashes, dtype=np.uint64) if len(self) else np.zeros(0, np.uint64)
        pairs = [candidate_pairs([hashes])]  # exact: same normalised text
        if self.index is not None:
            self._flush()
            pairs.append(self.index.pairs())
        groups = connected(np.concatenate(pairs)) if len(self) else []
        splits = np.frombuffer(self.splits, dtype=np.uint8) if len(self) else np.zeros(0, np.uint8)
        scores = np.frombuffer(self.scores, dtype=np.float64) if len(self) else np.zeros(0)
        turns = np.frombuffer(self.turns, dtype=np.uint16) if len(self) else np.zeros(0, np.uint16)
        result = Resolution(clusters=[], removals=[], repeated_prompts=[])
        for group in sorted(groups, key=lambda g: (-len(g), g[0])):
            members = np.array(group)
            earliest = splits[members].min()
            eligible = members[splits[members] == earliest]
            # a record that extends another (more turns) is never dropped for it: the most turns, then the keep score
            eligible = eligible[turns[eligible] == turns[eligible].max()]
            kept = int(eligible[np.argmax(scores[eligible])])  # argmax: the first on ties
            exact_only = len(set(hashes[members].tolist())) == 1
            # an identical text is an exact duplicate whatever else it resembles: it copies the first record
            # with its text, the kept one first, then by split and position (a leak: only a training record)
            seen: dict[int, int] = {}
            removals = []
            for m in [kept, *sorted((m for m in group if m != kept), key=lambda m: (splits[m], m))]:
                copy = seen.setdefault(int(hashes[m]), m)
                if m == kept:
                    continue
                leak = bool(splits[m] > 0 and earliest == 0)
                exact = copy != m and not (leak and splits[copy] > 0)
                removals.append(Removal(m, kept, EXACT if exact else NEAR, leak, copy if exact else kept))
            result.removals += sorted(removals, key=lambda r: r.position)
            result.clusters.append([kept, *[m for m in group if m != kept]])
            result.kinds.append(EXACT if exact_only else NEAR)
        result.exact_clusters = result.kinds.count(EXACT)
        result.near_clusters = result.kinds.count(NEAR)
        result.repeated_prompts = self._repeated_prompts({r.position for r in result.removals})
        return result

    def _repeated_prompts(self, removed: set[int]) -> list[tuple[int, int]]:
        """Records whose prompt an earlier record already has, with a different answer."""
        prompts = np.frombuffer(self.prompts, dtype=np.uint64) if len(self) else np.zeros(0, np.uint64)
        hashes = np.frombuffer(self.hashes, dtype=np.uint64) if len(self) else np.zeros(0, np.uint64)
        keep = prompts != 0
        keep[list(removed)] = False
        ids = np.flatnonzero(keep)
        pairs = candidate_pairs([prompts[ids]], ids)  # (first with that prompt, later one)
        pairs = pairs[hashes[pairs[:, 0]] != hashes[pairs[:, 1]]]
        return [(int(later), int(first)) for first, later in pairs]


@dataclass(slots=True)
class _Pending:
    """Records not yet hashed, as the index's add() takes them."""

    texts: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    parts: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def append(self, text, group, parts) -> None:
        for column, value in zip((self.texts, self.groups, self.parts), (text, group, parts)):
            column.append(value)

    def extend(self, other: "_Pending") -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))

    def take(self, count: int) -> dict[str, list]:
        """The first `count` records, as add()'s keyword arguments, leaving the rest."""
        taken = {}
        for name in self.__slots__:
            part = getattr(self, name)
            taken[name] = part[:count]
            setattr(self, name, part[count:])
        return taken
