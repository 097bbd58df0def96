"""Contradictions: one prompt, conflicting answers; one answer, both preferred and rejected.

State per record: its prompt hash, answer hash, place (file, line, index: a Ref only when reported, which
keeps the state quick to pickle between shard processes) and a short snippet of its answer (to quote the
differing answers). Groups are formed in `conflicts()` from exact normalised prompts, optionally
merged with near-duplicate prompt groups computed elsewhere (MinHash, in ftdata.dedup).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..records import Ref

# Answers this short read as labels (classification-like); conflicts between labels are the clear case.
LABEL_MAX_CHARS = 40
LABEL_MAX_WORDS = 4
Place = tuple[str, int | None, int | None]  # a Ref's fields


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
        self._by_prompt: dict[int, list[tuple[Place, int, str, bool]]] = defaultdict(list)
        # (prompt, chosen answer, rejected answer) -> (place, snippet of the chosen answer): the first pair
        # to judge two answers of a prompt; a later pair judging them the other way round contradicts it.
        self._pairs: dict[tuple[int, int, int], tuple[Place, str]] = {}

    def add(self, prompt: int, ref: Ref, answer: int, snippet: str, label: bool) -> None:
        self._by_prompt[prompt].append(((ref.file, ref.line, ref.index), answer, snippet, label))

    def add_pair(self, prompt: int, ref: Ref, chosen: tuple[int, str], rejected: tuple[int, str]) -> None:
        """A preference pair: (hash, snippet) of its chosen and of its rejected answer."""
        self._pairs.setdefault((prompt, chosen[0], rejected[0]), ((ref.file, ref.line, ref.index), chosen[1]))

    def merge(self, other: "AnswerGroups") -> None:
        """Add the records of another instance, which come after this one's (a later shard's)."""
        for prompt, members in other._by_prompt.items():
            self._by_prompt[prompt] += members
        for key, value in other._pairs.items():
            self._pairs.setdefault(key, value)  # the first record judging a pair wins, as in one pass

    def prompts(self) -> Iterable[int]:
        return self._by_prompt.keys()

    def conflicts(self, merged: list[list[int]] = ()) -> Iterator[Conflict]:
        """Groups of one prompt (or of prompts `merged` says are near-duplicates) with differing answers.

        Near-duplicate prompts count only when every answer is a short label: "Write a poem about
        cats" and "... about dogs" are near-duplicates that should get different poems."""
        groups, covered = [], set()
        for group in merged:
            members = [m for p in group for m in self._by_prompt.get(p, ())]
            if all(m[3] for m in members):
                groups.append(group)
                covered.update(group)
        groups += [[p] for p, members in self._by_prompt.items() if len(members) > 1 and p not in covered]
        for group in groups:
            members = sorted((m for p in group for m in self._by_prompt[p]), key=lambda m: (m[0][2] or 0, m[0][1] or 0))
            counts: dict[int, list] = {}
            for _, answer, snippet, _ in members:
                counts.setdefault(answer, [snippet, 0])[1] += 1
            if len(counts) > 1:
                answers = tuple(sorted(((s, n) for s, n in counts.values()), key=lambda a: -a[1]))
                yield Conflict(tuple(Ref(*m[0]) for m in members), answers, all(m[3] for m in members), len(group) > 1)

    def preference_conflicts(self) -> Iterator[PreferenceConflict]:
        """Two records that judge the same two answers of a prompt the other way round, reported on the later
        one. (A ranking written as pairs, A > B and B > C, prefers B once and rejects it once: no conflict.)"""
        for (prompt, chosen, rejected), (place, snippet) in self._pairs.items():
            reverse = self._pairs.get((prompt, rejected, chosen))
            if reverse is None or (place[2] or 0, place[1] or 0) <= (reverse[0][2] or 0, reverse[0][1] or 0):
                continue
            yield PreferenceConflict(Ref(*place), Ref(*reverse[0]), f"prefers {snippet!r}, which")

    def stats(self) -> dict[str, int]:
        return {"prompts": len(self._by_prompt), "repeated_prompts": sum(1 for m in self._by_prompt.values() if len(m) > 1)}


def conflict_message(conflict: Conflict, limit: int = 4) -> str:
    shown = "; ".join(f"{snippet!r} ×{count}" if count > 1 else repr(snippet) for snippet, count in conflict.answers[:limit])
    more = f"; and {len(conflict.answers) - limit} more" if len(conflict.answers) > limit else ""
    what = "labels" if conflict.labels else "answers"
    same = "nearly the same thing" if conflict.near else "the same thing"
    return f"{len(conflict.refs)} records ask {same} but give {len(conflict.answers)} different {what}: {shown}{more}"
