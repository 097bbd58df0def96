"""Dataset-level guidance: is there enough data, a held-out set, balance, diversity, one system prompt?"""

from collections.abc import Iterator
from dataclasses import dataclass

from ..quality.guidance import RECOMMENDED, TOO_FEW, DatasetTally
from ..quality.text import answer_message, prompt_key, system_text
from ..records import Example, Ref
from .base import Problem, Stage


@dataclass
class GuidanceOptions:
    too_few: int = TOO_FEW  # fewer training examples than this: warning
    recommended: int = RECOMMENDED  # fewer than this: info
    min_distinct_prompts: float = 0.9  # share of distinct prompts below which diversity is reported
    max_label_ratio: float = 10.0  # most common label over rarest label beyond which balance is reported


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
            self.tally.add(example.split, system_text(example), has_user, prompt_key(example),
                           answer.content if answer is not None else None)
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
        if 0 < t.without_system < n:
            yield None, Problem("G007", f"{t.without_system:,} of {n:,} training records ({t.without_system / n:.0%}) "
                                        "have no system prompt while the others do")
        if t.without_user:
            yield None, Problem("G008", f"{t.without_user:,} of {n:,} training records ({t.without_user / n:.0%}) "
                                        "have no user message")

    def stats(self) -> dict:
        return self.tally.stats()

    def shard_state(self) -> DatasetTally:
        return self.tally

    def merge(self, state: DatasetTally) -> None:
        self.tally.merge(state)
