"""Dataset-level guidance: size, held-out data, label balance, prompt diversity, system prompts.

Everything here is counted in bounded state: split counts, a HyperLogLog of prompt hashes, a
capped counter of short labels and one of system prompts.
"""

import difflib
from collections import Counter
from dataclasses import dataclass, field

from .contradictions import is_label
from .distinct import DistinctCounter
from .text import digest, normalise, snippet

# From the seeds: "Minimum 500 examples, recommended 1,000-5,000"; below 500 results are inconsistent.
TOO_FEW = 500
RECOMMENDED = 1000
ESCAPED_SHOWN = 5  # records named in the escaped-newlines finding
_CAP = 1000  # distinct labels or system prompts tracked before a counter stops growing


@dataclass
class DatasetTally:
    splits: Counter = field(default_factory=Counter)
    without_system: int = 0
    without_user: int = 0
    with_answer: int = 0
    labels: Counter = field(default_factory=Counter)
    label_overflow: bool = False
    systems: Counter = field(default_factory=Counter)
    system_text: dict[int, str] = field(default_factory=dict)
    prompts: DistinctCounter = field(default_factory=DistinctCounter)
    prompted: int = 0
    texts: int = 0  # plain-text records: no system prompt or user turn expected
    escaped: int = 0  # records whose line breaks are a literal backslash-n
    escaped_places: list = field(default_factory=list)  # (Ref, field kind) of the first few
    escaped_kinds: Counter = field(default_factory=Counter)

    def add(self, split: str, system: str, has_user: bool, prompt_hash: int | None, answer: str | None,
            text: bool = False) -> None:
        self.splits[split] += 1
        if split != "train":
            return
        if text:
            self.texts += 1
            return
        self.without_system += not system
        self.without_user += not has_user
        if system:
            key = digest(system)
            if key in self.systems or len(self.systems) < _CAP:
                self.systems[key] += 1
                self.system_text.setdefault(key, system[:2000])
        if prompt_hash is not None:
            self.prompts.add(prompt_hash)
            self.prompted += 1
        if answer is not None:
            self.with_answer += 1
            if is_label(answer.strip()) and not self.label_overflow:
                self.labels[normalise(answer)] += 1
                self.label_overflow = len(self.labels) > _CAP

    def add_escaped(self, ref, kinds: list[str]) -> None:
        """A record (of any split) with double-escaped line breaks in the fields of `kinds`."""
        self.escaped += 1
        self.escaped_kinds.update(kinds)
        if len(self.escaped_places) < ESCAPED_SHOWN:
            self.escaped_places.append(ref)

    def merge(self, other: "DatasetTally") -> None:
        """Fold in the tally of the records that came after these (the next shard), as `add` would have."""
        self.splits.update(other.splits)
        self.texts += other.texts
        self.escaped += other.escaped
        self.escaped_kinds.update(other.escaped_kinds)
        self.escaped_places = (self.escaped_places + other.escaped_places)[:ESCAPED_SHOWN]
        self.without_system += other.without_system
        self.without_user += other.without_user
        self.with_answer += other.with_answer
        if not self.label_overflow:
            self.labels.update(other.labels)
            self.label_overflow = other.label_overflow or len(self.labels) > _CAP
        for key, count in other.systems.items():  # beyond the cap, a shard's late newcomers may be missed
            if key in self.systems or len(self.systems) < _CAP:
                self.systems[key] += count
                self.system_text.setdefault(key, other.system_text[key])
        self.prompts.merge(other.prompts)
        self.prompted += other.prompted

    @property
    def train(self) -> int:
        return self.splits["train"]

    def distinct_prompt_share(self) -> float | None:
        if not self.prompted:
            return None
        return min(1.0, self.prompts.count() / self.prompted)

    def label_balance(self, min_records: int = 50, max_labels: int = 50, min_coverage: float = 0.95) -> tuple[str, float, str, float] | None:
        """(most common label, share, rarest label, share) when the outputs look like a classification."""
        total = sum(self.labels.values())
        if (self.label_overflow or total < min_records or total < min_coverage * self.with_answer
                or not 2 <= len(self.labels) <= max_labels):
            return None
        ranked = self.labels.most_common()
        return ranked[0][0], ranked[0][1] / total, ranked[-1][0], ranked[-1][1] / total

    def system_variants(self, min_ratio: float = 0.9) -> list[tuple[str, str]]:
        """Pairs of distinct system prompts that are near-copies of each other (up to 50 most common compared)."""
        top = [self.system_text[k] for k, _ in self.systems.most_common(50)]
        pairs = []
        for i, a in enumerate(top):
            for b in top[i + 1:]:
                if normalise(a) == normalise(b) or difflib.SequenceMatcher(None, a, b, autojunk=False).quick_ratio() >= min_ratio and \
                        difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= min_ratio:
                    pairs.append((snippet(a), snippet(b)))
        return pairs

    def stats(self) -> dict:
        share = self.distinct_prompt_share()
        return {
            "records": dict(self.splits),
            "without_system": self.without_system,
            "without_user": self.without_user,
            "text_records": self.texts,
            "escaped_newline_records": self.escaped,
            "distinct_system_prompts": len(self.systems),
            "distinct_prompt_share": round(share, 4) if share is not None else None,
            "labels": dict(self.labels.most_common(20)) if self.label_balance() else None,
        }
