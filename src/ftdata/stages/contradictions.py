"""Contradictions: the same (or a near-duplicate) prompt answered differently, or preferred and rejected.

Shards: a worker's `check` hashes the prompts it indexes (the first label record of each prompt in its
shard); `merge` appends those hashes, dropping prompts an earlier shard already indexed.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..dedup import BATCH
from ..dedup.index import NearDuplicateIndex
from ..dedup.text import normalise as dedup_normalise
from ..quality.contradictions import AnswerGroups, conflict_message, is_label
from ..quality.text import answer_message, digest, image_refs, joined, normalise, prompt_key, snippet
from ..records import Example, Ref
from .base import Problem, Stage


@dataclass
class ContradictionsOptions:
    near_duplicates: bool = True  # also group near-duplicate prompts (MinHash) of label-like records
    near_threshold: float = 0.9  # shingle Jaccard from which two prompts count as one; below it, minimal pairs (good / not good) join


class ContradictionsStage(Stage):
    name = "contradictions"
    Options = ContradictionsOptions

    def __init__(self, ctx):
        super().__init__(ctx)
        self.groups = AnswerGroups()
        # Near-duplicate prompts: one text per distinct label prompt, hashed batch by batch and then dropped.
        # Character 5-grams: a typo changes a few of them, where it would change a third of a short prompt's words.
        self.index = (NearDuplicateIndex(threshold=self.options.near_threshold, shingle="char5")
                      if self.options.near_duplicates else None)
        self.indexed: list[int] = []  # index id -> prompt key
        self.seen: set[int] = set()
        self.batch: list[str] = []

    def check(self, example: Example) -> Iterator[Problem]:
        if example.messages is None or example.split != "train":
            return ()
        prompt = prompt_key(example)
        if prompt is None:
            return ()
        if example.is_preference:
            chosen, rejected = joined(example.chosen, ("assistant",)), joined(example.rejected, ("assistant",))
            if chosen.strip() and rejected.strip():
                self.groups.add_pair(prompt, example.ref, (digest(normalise(chosen)), snippet(chosen)),
                                     (digest(normalise(rejected)), snippet(rejected)))
            return ()
        answer = answer_message(example)
        if answer is not None and answer.content.strip():
            text = answer.content.strip()
            label = is_label(text)
            self.groups.add(prompt, example.ref, digest(normalise(text)), snippet(text, 48), label)
            # Near-duplicate texts about different pictures are different prompts: pictures join exact groups only.
            if label and self.index is not None and prompt not in self.seen and not image_refs(example):
                self.seen.add(prompt)
                self._index(prompt, joined(example.prompt(), ("system", "developer", "user")))
        return ()

    def _index(self, prompt: int, text: str) -> None:
        self.indexed.append(prompt)
        self.batch.append(dedup_normalise(text, casefold=True))
        if len(self.batch) >= BATCH:
            self.index.add(self.batch)
            self.batch = []

    def _flush(self) -> None:
        if self.batch:
            self.index.add(self.batch)
            self.batch = []

    def shard_state(self) -> tuple:
        if self.index is not None:
            self._flush()
        return self.groups.state(), self.index, self.indexed

    def merge(self, state: tuple) -> None:
        groups, index, indexed = state
        self.groups.merge(groups)
        if self.index is None:
            return
        self._flush()
        keep = np.fromiter((p not in self.seen for p in indexed), dtype=bool, count=len(indexed))
        self.index.merge(index, keep)
        for prompt in indexed:
            if prompt not in self.seen:
                self.seen.add(prompt)
                self.indexed.append(prompt)

    def _near_groups(self) -> list[list[int]]:
        if self.index is None:
            return []
        self._flush()
        return [[self.indexed[i] for i in cluster] for cluster in self.index.clusters()] if self.index.size else []

    def finish(self) -> Iterator[tuple[Ref | None, Problem]]:
        for conflict in self.groups.conflicts(self._near_groups()):
            code = "C004" if conflict.near else "C001" if conflict.labels else "C002"
            first, *others = conflict.refs
            yield first, Problem(code, conflict_message(conflict), related=tuple(others))
        for pc in self.groups.preference_conflicts():
            yield pc.ref, Problem("C003", f"{pc.what} line {pc.other.line} of {pc.other.file} rejects for the same prompt",
                                  related=(pc.other,))

    def stats(self) -> dict:
        return self.groups.stats()
