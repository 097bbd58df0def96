"""Dataset-level guidance: is there enough data, a held-out set, balance, diversity, one system prompt?"""

from collections.abc import Iterator
from dataclasses import dataclass

from ..quality.guidance import RECOMMENDED, TOO_FEW, DatasetTally
from ..quality.leftovers import escaped_newlines
from ..quality.text import answer_message, prompt_key, system_text
from ..records import Example, Ref
from .base import Problem, Stage


@dataclass
class GuidanceOptions:
    too_few: int = TOO_FEW  # fewer training examples than this: warning
    recommended: int = RECOMMENDED  # fewer than this: info
    min_distinct_prompts: float = 0.9  # share of distinct prompts below which diversity is reported
    max_label_ratio: float = 10.0  # most common label over rarest label beyond which balance is reported


_KIND = {"user": "prompt", "system": "system prompt", "developer": "system prompt", "tool": "tool result"}


class GuidanceStage(Stage):
    name = "guidance"
    Options = GuidanceOptions

    def __init__(self, ctx):
        super().__init__(ctx)
        self.tally = DatasetTally()

    def check(self, example: Example) -> Iterator[Problem]:
        if example.messages is not None:
            answer = answer_message(example)
            has_user = any(m.role == "user" for m in example.messages)
            # Preference data asks one prompt several times by design (pairs from a ranking, KTO's good and bad
            # completion): its prompts say nothing about diversity.
            prompt = None if example.is_preference else prompt_key(example)
            self.tally.add(example.split, system_text(example), has_user, prompt,
                           answer.content if answer is not None else None, example.is_text)
            kinds = sorted({_KIND.get(m.role, "answer") if not example.is_text else "text"
                            for m in (*example.messages, *(example.chosen or ())) if escaped_newlines(m.content)})
            if kinds:
                self.tally.add_escaped(example.ref, kinds)
        return ()

    def finish(self) -> Iterator[tuple[Ref | None, Problem]]:
        o, t = self.options, self.tally
        n = t.train
        if n == 0:
            return
        if n < o.too_few:
            yield None, Problem("G001", f"{n:,} training examples; below {o.too_few:,} fine-tuning results are "
                                        f"inconsistent (recommended: 1,000-5,000 high-quality examples)")
        elif n < o.recommended:
            yield None, Problem("G002", f"{n:,} training examples; results vary by task below {o.recommended:,} "
                                        "(recommended: 1,000-5,000)")
        if not (t.splits["val"] or t.splits["test"]):
            yield None, Problem("G003", "no validation or test set given; hold out 10-20% of the data "
                                        "(`ftdata split`) and pass it with --val/--test")
        balance = t.label_balance()
        if balance and balance[1] / balance[3] > o.max_label_ratio:
            top, top_share, rare, rare_share = balance
            yield None, Problem("G004", f"outputs look like {len(t.labels)} labels, unevenly spread: {top!r} is "
                                        f"{top_share:.1%} of them, {rare!r} only {rare_share:.1%}")
        share = t.distinct_prompt_share()
        if share is not None and share < o.min_distinct_prompts:
            yield None, Problem("G005", f"only about {share:.0%} of the {t.prompted:,} prompts are distinct: "
                                        "the model sees the same inputs over and over")
        for a, b in t.system_variants()[:3]:
            yield None, Problem("G006", f"system prompts {a!r} and {b!r} are near-copies; pick one wording")
        chats = n - t.texts
        if 0 < t.without_system < chats:
            yield None, Problem("G007", f"{t.without_system:,} of {chats:,} training conversations "
                                        f"({t.without_system / chats:.0%}) have no system prompt while the others do")
        escaped = self._escaped()
        if escaped:
            yield escaped
        if t.without_user:
            yield None, Problem("G008", f"{t.without_user:,} of {chats:,} training conversations ({t.without_user / chats:.0%}) "
                                        "have no user message")

    def _escaped(self) -> tuple[None, Problem] | None:
        """Double-escaped newlines, once for the dataset: from 3 records, or from half of a smaller file."""
        t = self.tally
        records = t.splits.total()
        if t.escaped < min(3, max(1, records / 2)):
            return None
        where = ", ".join(f"{kind} ×{n:,}" for kind, n in t.escaped_kinds.most_common())
        return None, Problem("G009", f"{t.escaped:,} of {records:,} records ({t.escaped / records:.0%}) write line breaks "
                                     f"as a literal backslash-n ({where}); the first are listed", related=tuple(t.escaped_places))

    def stats(self) -> dict:
        return self.tally.stats()

    def shard_state(self) -> DatasetTally:
        return self.tally

    def merge(self, state: DatasetTally) -> None:
        self.tally.merge(state)
