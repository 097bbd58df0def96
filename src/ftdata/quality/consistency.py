"""Format drift within a task: records whose output profile disagrees with the task's dominant one.

State per record: in memory, its task id, interned profile id and output length (16 bytes as numpy
columns); on disk (`SpilledRows`), its place, read back for the records reported. Profiles and task
labels are kept once each, so memory grows by those 16 bytes a record whatever the outputs' size.
"""

import json
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..records import Ref
from .profile import DIMENSIONS, Profile, describe
from .spilled import SpilledRows


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


class FormatGroups:
    def __init__(self, min_group: int = 20, dominance: float = 0.9):
        self.min_group = min_group
        self.dominance = dominance
        self._tasks: dict[object, int] = {}  # task -> id, in the order tasks first came
        self._labels: list[str] = []  # task id -> how a message names it (its first record's)
        self._profiles: dict[Profile, int] = {}
        self._by_id: list[Profile] = []
        self._task_ids = array("i")  # per record, in input order
        self._profile_ids = array("i")
        self._lengths = array("q")
        self._places = SpilledRows()

    def add(self, task: object, label: str, ref: Ref, profile: Profile, length: int) -> None:
        pid = self._profiles.get(profile)
        if pid is None:
            pid = self._profiles[profile] = len(self._by_id)
            self._by_id.append(profile)
        tid = self._tasks.get(task)
        if tid is None:
            tid = self._tasks[task] = len(self._labels)
            self._labels.append(label)
        self._task_ids.append(tid)
        self._profile_ids.append(pid)
        self._lengths.append(length)
        self._places.add(ref)

    def state(self) -> tuple:
        """What a shard hands over: its distinct profiles and tasks, and its records' columns (ids name
        profiles and tasks by index)."""
        return (self._by_id, list(self._tasks.items()), self._labels, self._task_ids.tobytes(),
                self._profile_ids.tobytes(), self._lengths.tobytes(), self._places.state())

    def merge(self, state: tuple) -> None:
        """Append the next shard's records, as if they had been added here."""
        by_id, tasks, labels, task_ids, profile_ids, lengths, places = state
        profiles = []
        for profile in by_id:
            pid = self._profiles.get(profile)
            if pid is None:
                pid = self._profiles[profile] = len(self._by_id)
                self._by_id.append(profile)
            profiles.append(pid)
        ids = []
        for task, tid in tasks:
            ours = self._tasks.get(task)
            if ours is None:
                ours = self._tasks[task] = len(self._labels)
                self._labels.append(labels[tid])
            ids.append(ours)
        self._task_ids.frombytes(np.array(ids, dtype=np.int32)[np.frombuffer(task_ids, dtype=np.int32)].tobytes())
        self._profile_ids.frombytes(np.array(profiles, dtype=np.int32)[np.frombuffer(profile_ids, dtype=np.int32)].tobytes())
        self._lengths.frombytes(lengths)
        self._places.extend(places)

    def _groups(self) -> Iterator[tuple[int, np.ndarray]]:
        """(task id, positions of its records in input order) for each task, in the order tasks first came."""
        tids = np.frombuffer(self._task_ids, dtype=np.int32) if self._task_ids else np.zeros(0, dtype=np.int32)
        order = np.argsort(tids, kind="stable")
        sizes = np.bincount(tids, minlength=len(self._labels))
        ends = np.cumsum(sizes)
        for tid, (start, end) in enumerate(zip((ends - sizes).tolist(), ends.tolist())):
            yield tid, order[start:end]

    def drifts(self) -> Iterator[Drift]:
        profile_ids = np.frombuffer(self._profile_ids, dtype=np.int32) if self._profile_ids else None
        for tid, members in self._groups():
            if len(members) < self.min_group:
                continue
            pids, first, counts = np.unique(profile_ids[members], return_index=True, return_counts=True)
            dominant = {d: self._dominant(d, pids, first, counts) for d in DIMENSIONS}
            drifting = {}  # profile id -> (dimension, found) of its first drifting dimension
            for pid in pids.tolist():
                profile = self._by_id[pid]
                for dimension in DIMENSIONS:
                    found = getattr(profile, dimension)
                    if dominant[dimension] and found is not None and found != dominant[dimension][0]:
                        drifting[pid] = dimension, found
                        break
            if not drifting:
                continue
            at = members[np.isin(profile_ids[members], list(drifting))]
            for pid, row in zip(profile_ids[at].tolist(), self._places.take(at)):
                dimension, found = drifting[pid]
                value, share, size = dominant[dimension]
                yield Drift(self._places.ref(row), dimension, value, share, size, found, self._labels[tid])

    def _dominant(self, dimension: str, pids: np.ndarray, first: np.ndarray, counts: np.ndarray) -> tuple[object, float, int] | None:
        """The value most outputs share in this dimension, when nearly all that have one do (of a tie,
        the value that came first)."""
        values: dict[object, list[int]] = {}  # value -> [records, position of its first]
        for pid, at, count in zip(pids.tolist(), first.tolist(), counts.tolist()):
            value = getattr(self._by_id[pid], dimension)
            if value is None:
                continue
            entry = values.setdefault(value, [0, at])
            entry[0] += count
            entry[1] = min(entry[1], at)
        size = sum(count for count, _ in values.values())
        if size < self.min_group:
            return None
        value, (count, _) = min(values.items(), key=lambda item: (-item[1][0], item[1][1]))
        if dimension == "kind" and value == "prose":  # structure among prose may be the right answer
            return None
        share = count / size
        return (value, share, size) if share >= self.dominance and count < size else None

    def length_outliers(self, min_group: int = 30, max_z: float = 5.0, min_ratio: float = 4.0) -> Iterator[LengthOutlier]:
        """Outputs far longer or shorter than their task's: a robust z-score of log length over `max_z`,
        and at least `min_ratio` times (or a `min_ratio`th of) the median, so uniform tasks stay quiet."""
        lengths = np.frombuffer(self._lengths, dtype=np.int64) if self._lengths else None
        for tid, members in self._groups():
            if len(members) < min_group:
                continue
            ours = lengths[members]
            distinct, which = np.unique(ours, return_inverse=True)
            logs = np.array([math.log1p(n) for n in distinct.tolist()], dtype=np.float64)[which]  # as math.log1p rounds
            median = float(np.median(logs))
            mad = float(np.median(np.abs(logs - median))) or 0.05
            far = np.abs(logs - median)
            at = np.flatnonzero((0.6745 * far / mad > max_z) & (far >= math.log(min_ratio)))
            for length, row in zip(ours[at].tolist(), self._places.take(members[at])):
                yield LengthOutlier(self._places.ref(row), length, math.expm1(median), self._labels[tid])

    def stats(self) -> dict[str, int]:
        sizes = np.bincount(np.frombuffer(self._task_ids, dtype=np.int32), minlength=len(self._labels)) \
            if self._task_ids else np.zeros(len(self._labels), dtype=np.int64)
        return {"tasks": len(self._labels), "tasks_compared": int(np.count_nonzero(sizes >= self.min_group)),
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
