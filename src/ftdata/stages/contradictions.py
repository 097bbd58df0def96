"""Contradictions: the same (or a near-duplicate) prompt answered differently, or preferred and rejected."""

from collections.abc import Iterator

from ..quality.contradictions import AnswerGroups, conflict_message, is_label
from ..quality.text import answer_message, digest, joined, normalise, prompt_key, snippet
from ..records import Example, Ref
from .base import Problem, Stage


class ContradictionsStage(Stage):
    name = "contradictions"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.groups = AnswerGroups()

    def check(self, example: Example) -> Iterator[Problem]:
        if example.messages is None or example.split != "train":
            return ()
        prompt = prompt_key(example)
        if prompt is None:
            return ()
        if example.is_preference:
            chosen, rejected = joined(example.chosen, ("assistant",)), joined(example.rejected, ("assistant",))
            if chosen.strip() and rejected.strip():
                self.groups.add_pair(prompt, example.ref, digest(normalise(chosen)), digest(normalise(rejected)),
                                     snippet(rejected))
            return ()
        answer = answer_message(example)
        if answer is not None and answer.content.strip():
            text = answer.content.strip()
            self.groups.add(prompt, example.ref, digest(normalise(text)), snippet(text, 48), is_label(text))
        return ()

    def finish(self) -> Iterator[tuple[Ref | None, Problem]]:
        for conflict in self.groups.conflicts():
            code = "C001" if conflict.labels else "C002"
            first, *others = conflict.refs
            yield first, Problem(code, conflict_message(conflict), related=tuple(others))
        for pc in self.groups.preference_conflicts():
            yield pc.ref, Problem("C003", f"rejects {pc.answer!r}, which line {pc.other.line} of {pc.other.file} "
                                          "prefers for the same prompt", related=(pc.other,))

    def stats(self) -> dict:
        return self.groups.stats()
