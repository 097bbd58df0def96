"""Tokens and cost: exact counts with the trained model's tokenizer, limits, length distribution, cost.

The counting, statistics, reference comparison and prices live in `ftdata.tokens`; this stage keeps
per-record lengths as 4-byte integers and decides the K findings.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..records import Example, Ref
from ..tokens import cost, reference, stats
from ..tokens.counting import RecordTokens, TokenCounter
from ..tokens.models import approximate, model_for, tokenizer_spec
from ..tokens.tokenizers import load_tokenizer
from .base import Context, Problem, Stage


@dataclass
class TokensOptions:
    limit: int | None = None  # training limit in tokens; default: the model's (rules/models.toml)
    reference: str | None = None  # production traffic: JSONL records, or a length summary (docs/tokens.md)
    reference_lengths: list[int] = field(default_factory=list)  # or production prompt lengths given inline
    reference_alpha: float = 0.01  # K003 needs a KS p-value below this...
    reference_distance: float = 0.2  # ...and a KS distance of at least this,
    reference_ratio: float = 2.0  # or a p50/p90 prompt-length ratio beyond this factor either way
    prices: list[dict[str, Any]] = field(default_factory=list)  # extra or replacement prices
    epochs: int | None = None  # default: each provider's (OpenAI's rule; 3 elsewhere)
    requests_per_month: int | None = None  # adds total cost of ownership to the cost summary
    months: int = 6
    cache_entries: int = 1 << 18  # distinct strings whose counts are kept (about 120 bytes each)


@dataclass
class _Split:
    totals: stats.Lengths = field(default_factory=stats.Lengths)
    prompts: stats.Lengths = field(default_factory=stats.Lengths)
    messages: stats.Lengths = field(default_factory=stats.Lengths)
    trainable: int = 0


class TokensStage(Stage):
    name = "tokens"
    Options = TokensOptions

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.model = model_for(ctx.config.model, ctx.target.name)
        self.tokenizer = load_tokenizer(tokenizer_spec(ctx.config.tokenizer, self.model))
        self.approximate = approximate(ctx.config.tokenizer, self.model)
        self.counter = TokenCounter(self.tokenizer, self.options.cache_entries)
        self.limit = self.options.limit or (self.model.training_limit if self.model else None)
        self.prices = cost.load_prices(self.options.prices)  # a bad price table fails before the run
        if self.options.reference and not Path(self.options.reference).is_file():  # ...and so does a missing reference
            raise InputError(f"{self.options.reference}: reference file not found ([tool.ftdata.tokens] reference)")
        self.splits: dict[str, _Split] = defaultdict(_Split)
        self.by_role: dict[str, int] = defaultdict(int)
        self._comparison: dict[str, Any] | None = None
        self.skipped = 0
        self.chats = 0  # records counted that are conversations (a chat template applies to them, not to text)

    def check(self, example: Example) -> Iterable[Problem]:
        if example.messages is None or (example.findings and example.has_error()):  # rejected: neither trained nor billed
            self.skipped += 1
            return ()
        counts = self.counter.example(example, self.limit)
        if example.is_text:  # plain text is trained as written: no chat template is meant to lay it out
            counts.template_error = None
        else:
            self.chats += 1
        split = self.splits[example.split]
        split.totals.add(counts.total)
        split.prompts.add(counts.prompt)
        split.messages.add(counts.messages)
        split.trainable += counts.trainable
        by_role = self.by_role
        for role, tokens in counts.by_role.items():
            by_role[role] += tokens
        if counts.template_error or counts.cut_turns or (self.limit is not None and counts.longest > self.limit):
            return list(self._problems(counts))
        return ()  # most records: no generator to build

    def _problems(self, counts: RecordTokens) -> Iterator[Problem]:
        if counts.template_error:
            yield Problem("K004", f"{counts.template_error}; counted without the template's tokens")
        if self.limit is not None and counts.longest > self.limit:
            yield Problem("K001", f"{counts.longest} tokens ({self.tokenizer.name}), over the {self.limit}-token "
                                  f"training limit{self._of_model()}: {counts.longest - self.limit} would be cut")
        for path in counts.cut_turns:
            yield Problem("K002", f"this assistant turn ends past the {self.limit}-token training limit"
                                  f"{self._of_model()} and is cut", field=path)

    def shard_state(self) -> dict[str, Any]:
        """Per-record lengths (4 bytes each) by split, role totals and counters; never the tokenizer."""
        return {"splits": {name: (s.totals.to_bytes(), s.prompts.to_bytes(), s.messages.to_bytes(), s.trainable)
                           for name, s in self.splits.items()},
                "by_role": dict(self.by_role), "skipped": self.skipped, "chats": self.chats,
                "strings_tokenised": self.counter.strings_tokenised, "cache_hits": self.counter.cache_hits}

    def merge(self, state: dict[str, Any]) -> None:
        """Append the next shard's lengths after this stage's: percentiles, histogram and cost are exact."""
        for name, (totals, prompts, messages, trainable) in state["splits"].items():
            split = self.splits[name]
            split.totals.extend_bytes(totals)
            split.prompts.extend_bytes(prompts)
            split.messages.extend_bytes(messages)
            split.trainable += trainable
        for role, tokens in state["by_role"].items():
            self.by_role[role] += tokens
        self.skipped += state["skipped"]
        self.chats += state["chats"]
        # each shard has its own cache: a string repeated across shards is tokenised once per shard
        self.counter.strings_tokenised += state["strings_tokenised"]
        self.counter.cache_hits += state["cache_hits"]
        self._comparison = None

    def _of_model(self) -> str:
        return f" of {self.model.key}" if self.model and not self.options.limit else ""

    def finish(self) -> Iterable[tuple[Ref | None, Problem]]:
        if self.approximate and self.model:
            yield None, Problem("K006", f"{self.model.key}'s tokenizer is online-only ({self.model.note}): counted "
                                        f"with {self.tokenizer.name}, so lengths, limits and cost are approximate")
        if self.tokenizer.kind == "plain" and self.chats:
            yield None, Problem("K005", f"{self.tokenizer.name} has no chat template: counts cover message "
                                        "contents only, not the template's special tokens")
        comparison = self._reference()
        if comparison and reference.diverges(comparison, self.options.reference_alpha,
                                             self.options.reference_distance, self.options.reference_ratio):
            ratios = comparison["train_to_reference_ratio"]
            yield None, Problem("K003", f"training prompt lengths differ from {self._reference_name()}: KS distance "
                                        f"{comparison['ks_statistic']} (p={comparison['p_value']}), median ratio "
                                        f"{ratios['p50']}, 90th-percentile ratio {ratios['p90']} (train/reference)")

    def _reference(self) -> dict[str, Any] | None:
        """The train/reference comparison, computed once (finish and stats both need it)."""
        if (self.options.reference or self.options.reference_lengths) and self._comparison is None:
            train = self._train().prompts.numpy()
            if self.options.reference:
                production = reference.load_reference(self.options.reference, self.counter)
            else:
                production = np.array(self.options.reference_lengths, dtype=np.int64)
            self._comparison = reference.compare(train, production) if train.size and production.size else {}
        return self._comparison or None

    def _reference_name(self) -> str:
        return self.options.reference or "reference-lengths"

    def _train(self) -> _Split:
        return self.splits.get("train") or _Split()

    def stats(self) -> dict[str, Any]:
        all_totals = np.concatenate([s.totals.numpy() for s in self.splits.values()] or [np.zeros(0, np.uint32)])
        all_messages = np.concatenate([s.messages.numpy() for s in self.splits.values()] or [np.zeros(0, np.uint32)])
        out: dict[str, Any] = {
            "tokenizer": self.tokenizer.name,
            "approximate": self.approximate,  # the model's own tokenizer is online-only: another counted
            "layout": {"openai": "OpenAI's documented per-message overhead", "template": "the tokenizer's chat template",
                       "plain": "none (no chat template)"}[self.tokenizer.kind],
            "model": self.model.key if self.model else None,
            "limit": self.limit,
            "records_skipped": self.skipped,  # unparsed or already rejected by an earlier stage
            "total_tokens": int(all_totals.sum(dtype=np.int64)),
            "trainable_tokens": sum(s.trainable for s in self.splits.values()),
            "tokens_per_record": stats.summarize(all_totals),
            "prompt_tokens_per_record": stats.summarize(np.concatenate(
                [s.prompts.numpy() for s in self.splits.values()] or [np.zeros(0, np.uint32)])),
            "histogram": stats.histogram(all_totals),
            "messages_per_record": stats.summarize(all_messages),
            "role_shares": stats.role_shares(dict(self.by_role)),
            "by_split": {name: {"records": len(s.totals), "tokens": int(s.totals.numpy().sum(dtype=np.int64)),
                                "trainable_tokens": s.trainable} for name, s in sorted(self.splits.items())},
            "cache": {"strings_tokenised": self.counter.strings_tokenised, "cache_hits": self.counter.cache_hits},
        }
        comparison = self._reference()
        if comparison:
            out["reference"] = {"source": self._reference_name(), "compared": "prompt tokens", **comparison}
        out["cost"] = self.cost_summary()
        return out

    def cost_summary(self) -> dict[str, Any]:
        """Every priced option for the training split, cheapest first, counted with this run's tokenizer."""
        train = self._train()
        totals, prompts = train.totals.numpy(), train.prompts.numpy()
        mean_prompt = float(prompts.mean()) if prompts.size else 0.0
        mean_completion = float((totals.astype(np.int64) - prompts).mean()) if totals.size else 0.0
        estimates = [cost.estimate(p, totals, self.tokenizer.name, epochs=self.options.epochs, mean_prompt=mean_prompt,
                                   mean_completion=mean_completion, requests_per_month=self.options.requests_per_month,
                                   months=self.options.months)
                     for p in self.prices]
        return {"examples": int(totals.size), "tokens": int(totals.sum(dtype=np.int64)),
                "mean_prompt_tokens": round(mean_prompt, 1), "mean_completion_tokens": round(mean_completion, 1),
                "note": f"every row counted with {self.tokenizer.name}; `ftdata cost` counts each model with its own tokenizer",
                "options": [e.to_json() for e in sorted(estimates, key=cost.sort_key)]}
