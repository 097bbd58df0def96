"""Format drift within a task: records whose output profile disagrees with the task's dominant one.

State per record is its Ref, an interned profile id and its output length; profiles and task labels
are shared, so memory grows by a few dozen bytes a record whatever the outputs' size.
"""

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..records import Ref
from .profile import DIMENSIONS, Profile, describe


@dataclass(frozen=True, slots=True)
class Drift:
    ref: Ref
    dimension: str
    dominant: object
    share: float
    group_size: int
    found: object
    task: str


@dataclass(frozen=True, slots=True)
class LengthOutlier:
    ref: Ref
    length: int
    median: float
    task: str


@dataclass
class _Group:
    label: str
    members: list[tuple[Ref, int, int]] = field(default_factory=list)  # (ref, profile id, length)


class FormatGroups:
    def __init__(self, min_group: int = 20, dominance: float = 0.9):
        self.min_group = min_group
        self.dominance = dominance
        self._groups: dict[object, _Group] = {}
        self._profiles: dict[Profile, int] = {}
        self._by_id: list[Profile] = []

    def add(self, task: object, label: str, ref: Ref, profile: Profile, length: int) -> None:
        pid = self._profiles.get(profile)
        if pid is None:
            pid = self._profiles[profile] = len(self._by_id)
            self._by_id.append(profile)
        group = self._groups.get(task)
        if group is None:
            group = self._groups[task] = _Group(label)
        group.members.append((ref, pid, length))

    def state(self) -> tuple[list[Profile], dict[object, _Group]]:
        """What a shard hands over: its distinct profiles and its groups (members name profiles by index)."""
        return self._by_id, self._groups

    def merge(self, state: tuple[list[Profile], dict[object, _Group]]) -> None:
        """Append the next shard's members, group by group, as if its records had been added here."""
        by_id, groups = state
        ids = []
        for profile in by_id:
            pid = self._profiles.get(profile)
            if pid is None:
                pid = self._profiles[profile] = len(self._by_id)
                self._by_id.append(profile)
            ids.append(pid)
        for task, theirs in groups.items():
            group = self._groups.get(task)
            if group is None:
                group = self._groups[task] = _Group(theirs.label)
            group.members.extend((ref, ids[pid], length) for ref, pid, length in theirs.members)

    def drifts(self) -> Iterator[Drift]:
        for group in self._groups.values():
            if len(group.members) < self.min_group:
                continue
            dominant = {d: self._dominant(group, d) for d in DIMENSIONS}
            for ref, pid, _ in group.members:
                profile = self._by_id[pid]
                for dimension in DIMENSIONS:
                    found = getattr(profile, dimension)
                    if dominant[dimension] and found is not None and found != dominant[dimension][0]:
                        value, share, size = dominant[dimension]
                        yield Drift(ref, dimension, value, share, size, found, group.label)
                        break

    def _dominant(self, group: _Group, dimension: str) -> tuple[object, float, int] | None:
        """The value most outputs share in this dimension, when nearly all that have one do."""
        counts = Counter(getattr(self._by_id[pid], dimension) for _, pid, _ in group.members)
        counts.pop(None, None)
        size = sum(counts.values())
        if size < self.min_group:
            return None
        value, count = counts.most_common(1)[0]
        if dimension == "kind" and value == "prose":  # structure among prose may be the right answer
            return None
        share = count / size
        return (value, share, size) if share >= self.dominance and count < size else None

    def length_outliers(self, min_group: int = 30, max_z: float = 5.0, min_ratio: float = 4.0) -> Iterator[LengthOutlier]:
        """Outputs far longer or shorter than their task's: a robust z-score of log length over `max_z`,
        and at least `min_ratio` times (or a `min_ratio`th of) the median, so uniform tasks stay quiet."""
        for group in self._groups.values():
            if len(group.members) < min_group:
                continue
            logs = [math.log1p(length) for _, _, length in group.members]
            median = statistics.median(logs)
            mad = statistics.median(abs(x - median) for x in logs) or 0.05
            for (ref, _, length), x in zip(group.members, logs):
                if 0.6745 * abs(x - median) / mad > max_z and abs(x - median) >= math.log(min_ratio):
                    yield LengthOutlier(ref, length, math.expm1(median), group.label)

    def stats(self) -> dict[str, int]:
        sizes = [len(g.members) for g in self._groups.values()]
        return {"tasks": len(sizes), "tasks_compared": sum(1 for s in sizes if s >= self.min_group),
                "distinct_profiles": len(self._by_id)}


def drift_message(drift: Drift) -> str:
    return (f"{drift.share:.0%} of {drift.group_size} outputs for {drift.task} are "
            f"{describe(drift.dimension, drift.dominant)}; this one is {describe(drift.dimension, drift.found)}")


def schema_validator(schema: str | dict):
    """A jsonschema validator for a schema given as a file path or a parsed table; UsageError when unusable."""
    from ..user_schemas import UnusableSchema, compile_schema

    path = schema if isinstance(schema, str) else "(inline)"
    try:
        if isinstance(schema, str):
            schema = json.loads(Path(schema).read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"output-schema {path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise UsageError(f"output-schema {path}: not JSON: {e.msg} at line {e.lineno}") from None
    except UnicodeDecodeError:
        raise UsageError(f"output-schema {path}: not UTF-8 text") from None
    try:
        return compile_schema(schema)  # refs resolved inside the schema, never fetched; linear-time patterns
    except UnusableSchema as e:
        raise UsageError(f"output-schema {path} {e}") from None
