"""Contradictions: one prompt, conflicting answers; one answer, both preferred and rejected.

State per record: in memory, its prompt hash (8 bytes: all that grouping reads of every record); on disk
(`SpilledRows`), its place, answer hash, whether the answer is a label and a short snippet of it (to quote
the differing answers), read back for the records of repeated prompts only. A preference pair keeps its
three hashes in memory and its place and chosen snippet on disk. Groups are formed in `conflicts()` from
exact normalised prompts, optionally merged with near-duplicate prompt groups computed elsewhere
(MinHash, in ftdata.dedup).
"""

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..records import Ref
from .spilled import SpilledRows

# Answers this short read as labels (classification-like); conflicts between labels are the clear case.
LABEL_MAX_CHARS = 40
LABEL_MAX_WORDS = 4
PAIR = np.dtype([("prompt", "<u8"), ("chosen", "<u8"), ("rejected", "<u8")])


def is_label(text: str) -> bool:
    return len(text) <= LABEL_MAX_CHARS and len(text.split()) <= LABEL_MAX_WORDS


@dataclass(frozen=True, slots=True)
class Conflict:
    refs: tuple[Ref, ...]  # every record of the group, in input order
    answers: tuple[tuple[str, int], ...]  # (answer snippet, how many records give it), most common first
    labels: bool  # all answers are short labels
    near: bool = False  # the group joins near-duplicate prompts, not only identical ones


@dataclass(frozen=True, slots=True)
class PreferenceConflict:
    ref: Ref  # the later of the two records
    other: Ref  # the earlier one, which judged the same answer the other way
    what: str  # "prefers 'answer', which"


class AnswerGroups:
    def __init__(self) -> None:
        self._prompts = array("Q")  # each answer's prompt hash, in input order
        self._answers = SpilledRows()  # each answer's place, hash (value), label (flag) and snippet (quote)
        self._pair_keys = array("Q")  # each preference pair's prompt, chosen and rejected answer hashes
        self._pairs = SpilledRows()  # each pair's place and snippet of its chosen answer

    def add(self, prompt: int, ref: Ref, answer: int, snippet: str, label: bool) -> None:
        self._prompts.append(prompt)
        self._answers.add(ref, answer, label, snippet)

    def add_pair(self, prompt: int, ref: Ref, chosen: tuple[int, str], rejected: tuple[int, str]) -> None:
        """A preference pair: (hash, snippet) of its chosen and of its rejected answer."""
        self._pair_keys.extend((prompt, chosen[0], rejected[0]))
        self._pairs.add(ref, quote=chosen[1])

    def state(self) -> tuple:
        """What a shard hands over (`merge` takes it): hashes and rows as bytes."""
        return self._prompts.tobytes(), self._answers.state(), self._pair_keys.tobytes(), self._pairs.state()

    def merge(self, state: tuple) -> None:
        """Add the records of another instance's `state()`, which come after this one's (a later shard's)."""
        prompts, answers, pair_keys, pairs = state
        self._prompts.frombytes(prompts)
        self._answers.extend(answers)
        self._pair_keys.frombytes(pair_keys)
        self._pairs.extend(pairs)

    def _runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Answers grouped by prompt: (positions ordered by prompt, input order within one; their prompts;
        where each prompt's run starts)."""
        prompts = np.frombuffer(self._prompts, dtype=np.uint64) if self._prompts else np.zeros(0, dtype=np.uint64)
        order = np.argsort(prompts, kind="stable")
        ordered = prompts[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if ordered.size else order
        return order, ordered, starts

    def conflicts(self, merged: list[list[int]] = ()) -> Iterator[Conflict]:
        """Groups of one prompt (or of prompts `merged` says are near-duplicates) with differing answers.

        Near-duplicate prompts count only when every answer is a short label: "Write a poem about
        cats" and "... about dogs" are near-duplicates that should get different poems."""
        order, ordered, starts = self._runs()
        groups, covered = [], set()
        for group in merged:
            positions = np.concatenate([order[np.searchsorted(ordered, p, "left"):np.searchsorted(ordered, p, "right")]
                                        for p in group] or [order[:0]])
            rows = self._answers.take(positions)
            if rows["flag"].all():
                groups.append((rows, len(group) > 1))
                covered.update(group)
        # repeated prompts whose answers are not all the same, in the order each prompt first came
        ends = np.append(starts[1:], ordered.size)
        repeated = ends - starts > 1
        starts, ends = starts[repeated], ends[repeated]
        positions = np.concatenate([order[s:e] for s, e in zip(starts.tolist(), ends.tolist())] or [order[:0]])
        rows = self._answers.take(positions)
        local = np.concatenate(([0], np.cumsum(ends - starts)))[:-1]
        differ = (np.minimum.reduceat(rows["value"], local) != np.maximum.reduceat(rows["value"], local)) if rows.size else local
        firsts = order[starts]
        for run in np.flatnonzero(differ)[np.argsort(firsts[differ], kind="stable")].tolist():
            if int(ordered[starts[run]]) not in covered:
                groups.append((rows[local[run]:local[run] + ends[run] - starts[run]], False))
        for rows, near in groups:
            yield from self._conflict(rows, near)

    def _conflict(self, rows: np.ndarray, near: bool) -> Iterator[Conflict]:
        members = rows[np.lexsort((np.maximum(rows["line"], 0), np.maximum(rows["index"], 0)))]
        counts: dict[int, list] = {}  # answer hash -> [its first row, how many give it]
        for row in members:
            entry = counts.get(int(row["value"]))
            if entry is None:
                counts[int(row["value"])] = [row, 1]
            else:
                entry[1] += 1
        if len(counts) > 1:
            answers = tuple(sorted(((self._answers.quote(row), n) for row, n in counts.values()), key=lambda a: -a[1]))
            yield Conflict(tuple(self._answers.ref(row) for row in members), answers, bool(members["flag"].all()), near)

    def preference_conflicts(self) -> Iterator[PreferenceConflict]:
        """Two records that judge the same two answers of a prompt the other way round, reported on the later
        one. (A ranking written as pairs, A > B and B > C, prefers B once and rejects it once: no conflict.)
        The first record judging a pair stands for it, as in one pass."""
        keys = np.frombuffer(self._pair_keys, dtype=PAIR) if self._pair_keys else np.zeros(0, dtype=PAIR)
        distinct, firsts = np.unique(keys, return_index=True)
        reverse = distinct.copy()
        reverse["chosen"], reverse["rejected"] = distinct["rejected"], distinct["chosen"]
        at = np.minimum(np.searchsorted(distinct, reverse), max(distinct.size - 1, 0))
        found = np.flatnonzero(distinct[at] == reverse) if distinct.size else at
        found = found[np.argsort(firsts[found], kind="stable")]  # in the order each pair first came
        rows = self._pairs.take(firsts[found])
        others = self._pairs.take(firsts[at[found]])
        for row, other in zip(rows, others):
            if (max(row["index"], 0), max(row["line"], 0)) <= (max(other["index"], 0), max(other["line"], 0)):
                continue
            yield PreferenceConflict(self._pairs.ref(row), self._pairs.ref(other),
                                     f"prefers {self._pairs.quote(row)!r}, which")

    def stats(self) -> dict[str, int]:
        _, ordered, starts = self._runs()
        return {"prompts": int(starts.size), "repeated_prompts": int(np.count_nonzero(np.diff(np.append(starts, ordered.size)) > 1))}


def conflict_message(conflict: Conflict, limit: int = 4) -> str:
    shown = "; ".join(f"{snippet!r} ×{count}" if count > 1 else repr(snippet) for snippet, count in conflict.answers[:limit])
    more = f"; and {len(conflict.answers) - limit} more" if len(conflict.answers) > limit else ""
    what = "labels" if conflict.labels else "answers"
    same = "nearly the same thing" if conflict.near else "the same thing"
    return f"{len(conflict.refs)} records ask {same} but give {len(conflict.answers)} different {what}: {shown}{more}"
