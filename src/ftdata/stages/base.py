"""The stage contract: a stage decides, the base counts and records.

A stage is one file with one job. Record-level stages implement `check(example)` and yield
`Problem`s; a stage that can work over many records at once (regexes over a column of texts in native
code) implements `check_batch(examples)` as well, which must find exactly what `check` finds record by
record (records move through a run in batches: `ftdata.shards.check_shard`). Dataset-level stages remember what they need (compactly) as records stream past and
yield their findings from `finish()`, naming the records they concern by `Ref`. The base turns
problems into `Finding`s with the severity the policy gives, drops disabled ones, and keeps counts.
Stages never print, route or write files: the pipeline does.

Shards: a run may cut its inputs into shards (byte ranges at line boundaries) that worker processes
check at the same time. `check` must depend only on the record and the options. A stage that keeps
state across records (for `finish` or `stats`) hands it over with `shard_state()`; the process that
finishes the run folds each shard's state, in input order, into a fresh instance with `merge()`.
A stage with such state that does not implement `merge` makes the run serial (see `shardable`).
"""

import dataclasses
import types
import typing
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import catalogue
from ..config import Config, Policy
from ..errors import UsageError
from ..records import Example, Finding, Ref
from ..targets import Target


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    field: str | None = None
    related: tuple[Ref, ...] = ()


@dataclass
class InputFile:
    path: str  # as given by the user ("-" for standard input)
    split: str = "train"  # train, val or test


@dataclass(frozen=True)
class Shard:
    """A part of one input that a worker reads on its own: the whole input, or bytes start..end of a
    JSON Lines file cut at line boundaries, or of a .json array cut at element starts (end None: to
    the end of the input)."""

    source: InputFile
    start: int = 0
    end: int | None = None
    first_line: int = 1  # the 1-based number of the line at `start`
    first_index: int = 0  # the record index of its first record; indices grow in input order
    array: bool = False  # a part of a top-level JSON array: it starts at an element, not at `[`


@dataclass
class Context:
    """What every stage of one run shares."""

    config: Config
    target: Target
    policy: Policy
    inputs: list[InputFile]

    def finding(self, code: str, ref: Ref | None, problem: Problem) -> Finding | None:
        """The finding for a problem at ref, or None when its rule is off for that file."""
        file = ref.file if ref else None
        severity = self.policy.severity(code, file)
        if severity is None:
            return None
        return Finding(
            code=code,
            name=catalogue.all_rules()[code].name,
            severity=severity,
            file=file,
            line=ref.line if ref else None,
            field=problem.field,
            message=problem.message,
            related=problem.related,
            index=ref.index if ref else None,
        )


@dataclass
class NoOptions:
    pass


class Stage:
    name: ClassVar[str]  # matches the `stage` of its rules in rules/catalogue/
    Options: ClassVar[type] = NoOptions  # a dataclass of thresholds, set in [tool.ftdata.<name>]

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.options = build_options(self.Options, ctx.config.stage_options.get(self.name, {}), self.name)
        self.counts: Counter[str] = Counter()  # findings emitted, by code

    @classmethod
    def codes(cls) -> list[str]:
        return [r.code for r in catalogue.all_rules().values() if r.stage == cls.name]

    @classmethod
    def active(cls, ctx: Context) -> bool:
        """Whether any of this stage's rules is enabled (a stage with none is skipped, never even built)."""
        return any(ctx.policy.enabled(code) for code in cls.codes())

    def run(self, examples: Iterable[Example]) -> Iterator[Example]:
        for example in examples:
            for problem in self.check(example):
                self.add(example, problem)
            yield example

    def check(self, example: Example) -> Iterable[Problem]:
        return ()

    def check_batch(self, examples: Sequence[Example]) -> Iterable[tuple[Example, Problem]]:
        """The problems of consecutive records (in input order) as (record, problem) pairs: for each record,
        what `check` yields for it, in the same order (pairs of different records may interleave). Batches
        come in input order, so state kept across records sees them as `check` would. The default asks
        `check` record by record; a stage overrides it to do its work over the batch's columns at once."""
        for example in examples:
            for problem in self.check(example):
                yield example, problem

    def check_all(self, examples: Sequence[Example]) -> None:
        """Check a batch: the stage decides (`check_batch`), this counts and records."""
        for example, problem in self.check_batch(examples):
            self.add(example, problem)

    def finish(self) -> Iterable[tuple[Ref | None, Problem]]:
        """Findings that need the whole dataset: (the record or None for the dataset, problem)."""
        return ()

    def stats(self) -> dict[str, Any]:
        """Statistics for report["stats"][self.name]; empty for none."""
        return {}

    def shard_state(self) -> Any:
        """What `merge` needs of this stage after a shard: picklable and compact (None: nothing)."""
        return None

    def merge(self, state: Any) -> None:
        """Fold `shard_state()` of this stage run over the next shard (shards come in input order)."""
        raise NotImplementedError(f"the {self.name} stage cannot merge shards")

    @classmethod
    def settle(cls, ctx: Context, head: list[Example]) -> dict[str, Any]:
        """Option values this stage decides from the run's first records (those that parsed into a
        conversation), fixed before shards are cut so that every worker decides alike (e.g. an
        "auto" setting). They override the stage's option table for the run."""
        return {}

    @classmethod
    def shardable(cls) -> bool:
        """Whether shards of a run can be merged: the stage keeps no state, or it implements `merge`."""
        stateless = cls.finish is Stage.finish and cls.stats is Stage.stats
        return stateless or cls.merge is not Stage.merge

    def add(self, example: Example, problem: Problem) -> None:
        finding = self.ctx.finding(problem.code, example.ref, problem)
        if finding is not None:
            self.counts[problem.code] += 1
            example.findings.append(finding)


def build_options(options_cls: type, table: dict[str, Any], section: str) -> Any:
    """Options from a config table, each key checked against the dataclass's fields and types."""
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(options_cls)}
    hints = typing.get_type_hints(options_cls)
    values = {}
    for key, value in table.items():
        f = fields.get(key) or fields.get(key.replace("_", "-"))
        if f is None:
            known = ", ".join(fields) or "none"
            raise UsageError(f"[tool.ftdata.{section}]: unknown option {key!r}; known: {known}")
        if not _is_instance(value, hints[f.name]):
            raise UsageError(f"[tool.ftdata.{section}]: {key} must be {_describe(hints[f.name])}, not {value!r}")
        values[f.name] = value
    return options_cls(**values)


def _is_instance(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_instance(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple))
    if origin is dict:
        return isinstance(value, dict)
    return isinstance(value, hint) if isinstance(hint, type) else True


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))
