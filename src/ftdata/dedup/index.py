"""A streaming near-duplicate index: add texts batch by batch, then ask for verified clusters.

Per text it keeps in memory its group (8 bytes: texts of different groups, e.g. about different images, are
never near-duplicates) and whether it has shingles. The rest waits on disk (spill.py): the LSH band keys (8
bytes a band), read a band at a time when the candidate pairs are found, and what verification reads, only
for candidate pairs: the distinct shingle hashes (for the true Jaccard) and the turns and name texts each
record must share with another to be one example (cluster.SameExample). The estimate's signatures (4 bytes
a permutation) stay in memory. Texts themselves are dropped as soon as their batch is hashed.

Boilerplate: shingles that many texts of the first batch share (a system prompt, a tool list, a
prompt template) are dropped from every text before signing, so texts are compared on what varies.
"""

from collections.abc import Sequence

import numpy as np

from . import cluster, minhash
from .shingles import CHAR, WORD, Shingling, ShingleSets, shingle_batch
from .spill import SpilledBands, SpilledSets, SpilledTexts
from .text import names_in

VERIFY = ("jaccard", "signature", "none")
LSH_MARGIN = 0.1
# Default true-Jaccard checks per text (ftdata check's `verify-budget`): real files need at most ~1.2 (FastChat's
# dummy conversations, one big cluster), a 14-word vocabulary floods LSH with ~17 candidates per text
# (benchmarks/results/near_cap.txt)
VERIFY_BUDGET = 5.0
# ...but never fewer checks than this (about half a second): a small file is always checked in full
VERIFY_MIN = 100_000
# "auto" picks from the first batch: texts whose median length is under this many words are
# compared by character n-grams, which survive edits in short texts; longer ones by word n-grams.
SHORT_TEXT_WORDS = 30
SHORT_TEXT_PROBE = 4096  # characters read to count them
AUTO_SHORT = Shingling(CHAR, 5)
AUTO_LONG = Shingling(WORD, 2)
# A shingle is boilerplate when at least this share of the first batch's distinct texts holds it, and at
# least BOILERPLATE_MIN of them: a template or shared system prompt recurs in many texts, while a cluster
# of near-copies smaller than that keeps its shared shingles (benchmarks/results/dedup.txt)
BOILERPLATE_SHARE = 0.05
# Answers of near-duplicates must have this Jaccard similarity of their word bigrams too (a little below the
# texts' threshold, as short answers lose more to an edit): another answer to one passage or opening is another
# example. Words alone let long answers on one topic pass (real-file precision 0.986 against 0.990 for bigrams;
# planted chat recall 0.971 against 0.958: benchmarks/results/dedup.txt)
ANSWER_SHINGLING = Shingling(WORD, 2)
ANSWER_THRESHOLD = 0.5
# Each turn the record with fewer turns teaches must resemble one of the other's this much (word bigrams): a
# reworded turn stays above it ("According to my calculations, you are 31" against "Based on the birthdate you
# provided, you are 31": 0.29), another exchange falls far below (0.0-0.05 on the real files' false removals)
TURN_THRESHOLD = 0.25
BOILERPLATE_MIN = 8
PARTS_CHUNK = 1 << 14  # records whose turns and names are held at once while pairs are verified


def choose_shingling(texts: Sequence[str]) -> Shingling:
    if not texts:
        return AUTO_LONG
    # words of each text's head only: enough to tell under SHORT_TEXT_WORDS, no list of a huge text's every word
    words = sorted(len(t[:SHORT_TEXT_PROBE].split()) for t in texts)
    return AUTO_SHORT if words[len(words) // 2] < SHORT_TEXT_WORDS else AUTO_LONG


def find_boilerplate(texts: Sequence[str], shingling: Shingling) -> np.ndarray:
    """Sorted shingle hashes that recur in many of these texts (duplicates counted once)."""
    distinct = list(dict.fromkeys(texts))
    if len(distinct) < BOILERPLATE_MIN:
        return np.zeros(0, dtype=np.uint32)
    hashes, counts = np.unique(shingle_batch(distinct, shingling).hashes, return_counts=True)
    return hashes[counts >= max(BOILERPLATE_MIN, BOILERPLATE_SHARE * len(distinct))]


def without(sets: ShingleSets, boilerplate: np.ndarray) -> ShingleSets:
    """The sets with the boilerplate shingles taken out."""
    if not len(boilerplate) or not len(sets.hashes):
        return sets
    keep = ~np.isin(sets.hashes, boilerplate)
    doc = np.repeat(np.arange(len(sets)), sets.sizes())
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc[keep], minlength=len(sets)), out=offsets[1:])
    return ShingleSets(sets.hashes[keep], offsets)


class NearDuplicateIndex:
    def __init__(
        self,
        threshold: float = 0.6,
        num_perm: int = 128,
        shingle: str | Shingling = "auto",
        verify: str = "jaccard",
        seed: int = 1,
        verify_budget: float | None = None,
        verify_min: int = 0,
        boilerplate: str | Sequence[int] = "off",
    ):
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        if verify not in VERIFY:
            raise ValueError(f"verify must be one of {', '.join(VERIFY)}, not {verify!r}")
        self.threshold, self.num_perm, self.verify, self.seed = threshold, num_perm, verify, seed
        # true-Jaccard checks per text, on average, that pairs() may run; None or negative: no limit
        self.verify_budget = None if verify_budget is None or verify_budget < 0 else verify_budget
        self.verify_min = verify_min  # checks the budget always allows, however few the texts
        self.candidates = self.unverified = 0  # candidate pairs the last pairs() found, and left unverified
        self.shingling = Shingling.parse(shingle) if isinstance(shingle, str) and shingle != "auto" else shingle
        # shingle hashes dropped from every text: None until "auto" finds them in the first batch; "off": none
        self.boilerplate = (None if boilerplate == "auto" else np.zeros(0, np.uint32) if boilerplate == "off"
                            else np.unique(np.asarray(boilerplate, dtype=np.uint32)))
        # LSH tuned below the threshold: pairs just above it otherwise slip through the S-curve, and
        # verification removes the extra candidates anyway (benchmarks/results/dedup.txt)
        self.bands, self.rows = minhash.lsh_params(max(0.3, threshold - LSH_MARGIN), num_perm)
        self._keys = SpilledBands()
        self._has_shingles: list[np.ndarray] = []
        self._groups: list[np.ndarray] = []
        self._sets = SpilledSets()  # true Jaccard only
        self._parts = SpilledTexts()  # (turns, name texts) of each text, when add() is given them (likewise)
        self._sigs: list[np.ndarray] = []
        self.size = 0
        # shinglings that merged shards chose ("auto") other than this index's: texts hashed with one are
        # never near-duplicates of texts hashed with another (see merge)
        self.foreign: set[Shingling] = set()

    @property
    def decided(self) -> bool:
        """Whether shingling and boilerplate are fixed ("auto" decides both from the first batch)."""
        return self.shingling != "auto" and self.boilerplate is not None

    def add(self, texts: Sequence[str], groups: Sequence[int] | None = None,
            parts: Sequence[tuple[Sequence[str], Sequence[str]]] | None = None) -> None:
        """Index a batch; its texts get the next ids (0, 1, 2... over all batches). `groups`: a uint64 per
        text, only texts of the same group can be near-duplicates (default: all in group 0). True-Jaccard
        verification only, see cluster.SameExample: `parts`, per text the turns it teaches (its last, the
        answer, must be a near-duplicate too) and the texts its names are read from (text.names_in)."""
        if self.shingling == "auto":
            self.shingling = choose_shingling(texts)
        if self.boilerplate is None:
            self.boilerplate = find_boilerplate(texts, self.shingling)
        sets = without(shingle_batch(list(texts), self.shingling), self.boilerplate)
        sigs = minhash.signatures(sets, self.num_perm, self.seed)
        self._keys.add(minhash.band_keys(sigs, self.bands, self.rows))
        self._has_shingles.append(sets.sizes() > 0)
        self._groups.append(np.zeros(len(texts), np.uint64) if groups is None else np.asarray(groups, dtype=np.uint64))
        if self.verify == "jaccard":
            self._sets.add(sets)
            if parts is not None:
                self._parts.add(parts)
        elif self.verify == "signature":
            self._sigs.append(sigs)
        self.size += len(texts)

    def merge(self, other: "NearDuplicateIndex", keep: np.ndarray | None = None) -> None:
        """Append the texts of another index (a later shard's) after this one's; `keep`: a bool per text of it.

        Cheap: its band keys, shingle sets and signatures are taken as they are, nothing is re-hashed.
        Both must share threshold, permutations, verification and seed. With `shingle="auto"` each shard
        chose from its own first batch; a later one that chose otherwise is kept and noted in `foreign`.
        """
        settings = ("threshold", "num_perm", "verify", "seed", "verify_budget", "verify_min")
        if any(getattr(self, a) != getattr(other, a) for a in settings):
            raise ValueError("cannot merge near-duplicate indexes built with different settings")
        if self.boilerplate is None:
            self.boilerplate = other.boilerplate
        if self.shingling == "auto":
            self.shingling = other.shingling
        elif other.size and other.shingling != self.shingling:
            self.foreign.add(other.shingling)
        self.foreign |= other.foreign - {self.shingling}
        if bool(len(self._parts)) != bool(len(other._parts)) and self.size and other.size:
            raise ValueError("cannot merge a near-duplicate index that compares turns with one that does not")
        parts = (other._has_shingles, other._sigs, other._groups)
        if keep is not None:
            keep = np.asarray(keep, dtype=bool)
            masks = np.split(keep, np.cumsum(other._keys.counts)[:-1]) if len(other._keys) else []
            parts = tuple([part[m] for part, m in zip(batches, masks)] for batches in parts)
        self._keys.append(other._keys, keep)
        self._has_shingles += parts[0]
        self._sigs += parts[1]
        self._groups += parts[2]
        self._sets.append(other._sets, keep if len(other._sets) else None)
        self._parts.append(other._parts, keep if len(other._parts) else None)
        self.size += sum(len(k) for k in parts[2])

    def nbytes(self) -> int:
        """What it holds in memory for each text (of the spilled sets and parts, an offset)."""
        arrays = [*self._has_shingles, *self._sigs, *self._groups]
        return sum(a.nbytes for a in arrays) + self._keys.nbytes() + self._sets.nbytes() + self._parts.nbytes()

    def spilled_bytes(self) -> int:
        """What waits on disk: band keys, and what verification reads."""
        return self._keys.size + self._sets.size + self._parts.size

    def budget(self) -> int | None:
        """How many candidate pairs pairs() may verify by true Jaccard (None: all of them)."""
        return None if self.verify_budget is None else max(int(self.verify_budget * self.size), self.verify_min)

    def pairs(self) -> np.ndarray:
        """Candidate pairs from the LSH buckets, verified as the index was told to.

        With a `verify_budget` (true Jaccard only) and more candidates than it allows (budget per text times
        texts), candidates are verified in order of the LSH bands they share, most first, and those whose
        texts verified pairs already join are passed over (they change no cluster). Only the pairs that
        join clusters come back then; clusters equal verifying every candidate unless the budget runs out,
        and `unverified` counts the candidates that it left unchecked.
        """
        self.candidates = self.unverified = 0
        if not self._keys:
            return np.zeros((0, 2), dtype=np.int64)
        ids = np.flatnonzero(np.concatenate(self._has_shingles))  # empty texts are nobody's duplicate
        pairs = cluster.candidate_pairs((band[ids] for band in self._bands()), ids)
        groups = np.concatenate(self._groups)
        pairs = pairs[groups[pairs[:, 0]] == groups[pairs[:, 1]]]  # e.g. the same question about other images
        self.candidates = len(pairs)
        budget = self.budget()
        if self.verify == "jaccard" and budget is not None and len(pairs) > budget:
            order = np.argsort(-cluster.shared_bands(self._bands(), pairs), kind="stable")  # ties: in id order
            pairs, self.unverified = cluster.verify_within(self._sets, pairs[order], self.threshold, budget,
                                                           self._same_example(RecordParts(self._parts)))
        elif self.verify == "jaccard":
            pairs = pairs[cluster.true_jaccard(self._sets, pairs) >= self.threshold]
            pairs = self._same_examples(pairs)
        elif self.verify == "signature":
            sigs = np.concatenate(self._sigs)
            pairs = pairs[minhash.estimated_jaccard(sigs[pairs[:, 0]], sigs[pairs[:, 1]]) >= self.threshold]
        return pairs

    def clusters(self) -> list[list[int]]:
        """Groups of 2+ ids whose texts are near-duplicates (connected components of verified pairs)."""
        return cluster.connected(self.pairs())

    def _bands(self):
        """Each band's keys over all texts, one band at a time: one column in memory, not every band."""
        for band in range(self.bands):
            yield self._keys.band(band)

    def _same_example(self, parts: "RecordParts") -> cluster.SameExample:
        """What verified pairs must share besides their texts' similarity, from whatever add() was given."""
        if not len(self._parts):
            return cluster.SameExample()
        return cluster.SameExample(parts, ANSWER_THRESHOLD, TURN_THRESHOLD)

    def _same_examples(self, pairs: np.ndarray) -> np.ndarray:
        """The pairs that pass SameExample, their records' parts made a chunk of pairs at a time."""
        if not len(self._parts):
            return pairs
        parts = RecordParts(self._parts)
        check = self._same_example(parts)
        kept = [pairs[:0]]
        for start in range(0, len(pairs), PARTS_CHUNK // 2):  # at most PARTS_CHUNK records in a chunk
            chunk = pairs[start:start + PARTS_CHUNK // 2]
            parts.load(np.unique(chunk).tolist())
            kept.append(chunk[cluster.same_example(check, chunk)])
            parts.clear()
        return np.concatenate(kept)


class RecordParts:
    """Each record's cluster.Parts, made from its spilled texts when a pair first asks for them: at most
    PARTS_CHUNK records' at a time."""

    def __init__(self, texts: SpilledTexts):
        self.texts = texts
        self._made: dict[int, cluster.Parts] = {}

    def __call__(self, i: int) -> cluster.Parts:
        if i not in self._made:
            if len(self._made) >= PARTS_CHUNK:
                self.clear()
            self.load([i])
        return self._made[i]

    def load(self, ids: list[int]) -> None:
        """Make the parts of these records, their turns shingled together (one call is what costs)."""
        ids = [i for i in ids if i not in self._made]
        records = [self.texts.of(i) for i in ids]
        sets = shingle_batch([turn for turns, _ in records for turn in turns], ANSWER_SHINGLING)
        first = 0
        for i, (turns, named_in) in zip(ids, records):
            named, known = names_in(named_in)
            self._made[i] = cluster.Parts([sets.of(first + k) for k in range(len(turns))], named, known)
            first += len(turns)

    def clear(self) -> None:
        self._made.clear()
