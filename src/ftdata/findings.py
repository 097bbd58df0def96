"""A run's findings in report order: in memory while they are few, on disk once they are many.

A file can have a problem on every record, and a finding held as an object costs about 600 bytes:
keeping them all would make memory grow with the file. `Findings` keeps up to `memory_limit` of
them in memory; past that it sorts them into a run file of its own temporary folder, and reading
merges the runs back in report order. Its counts are kept as findings arrive, so a summary never
reads the runs.
"""

import heapq
import tempfile
import pickle
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from .records import Finding
from .temporaries import TempFolder, cannot_write

MEMORY_LIMIT = 50_000


class Findings:
    """Findings sorted by input (in `order`), line, record and code; ties keep the order they came in."""

    def __init__(self, order: dict[str, int], memory_limit: int | None = None, folder: Path | None = None):
        """`folder`: where runs go, a folder of the caller's that outlives this object (a worker's findings
        are read by the parent); by default a temporary folder of its own, removed with it."""
        self._order = order
        self._limit = memory_limit or MEMORY_LIMIT
        self._held: list[Finding] = []
        self._held_sorted = True
        self._runs: list[Path] = []
        self._shared = folder
        self._folder: TempFolder | None = None  # removed with this object
        self.severities: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()

    def _key(self, f: Finding) -> tuple:
        return self._order.get(f.file, -1), f.line or 0, -1 if f.index is None else f.index, f.code

    def extend(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.append(finding)

    def append(self, finding: Finding) -> None:
        self.severities[finding.severity] += 1
        self.codes[finding.code] += 1
        self._held.append(finding)
        self._held_sorted = False
        if len(self._held) >= self._limit:
            self._spill()

    def _spill(self) -> None:
        if self._shared is None and self._folder is None:
            self._folder = TempFolder()
        folder = self._shared or Path(self._folder.name)
        self._held.sort(key=self._key)
        try:
            handle, name = tempfile.mkstemp(dir=folder, prefix="findings-", suffix=".pickle")  # unique in a shared folder
            path = Path(name)
            with open(handle, "wb") as f:
                for finding in self._held:  # one pickle each, so that reading holds one per run
                    pickle.dump(finding, f, pickle.HIGHEST_PROTOCOL)
        except OSError as e:
            raise cannot_write(folder, e) from None
        self._runs.append(path)
        self._held = []

    def __len__(self) -> int:
        return self.severities.total()

    def __iter__(self) -> Iterator[Finding]:
        if not self._held_sorted:
            self._held.sort(key=self._key)  # stable: equal keys keep their arrival order
            self._held_sorted = True
        if not self._runs:
            return iter(self._held)
        # heapq.merge takes equal keys from earlier iterables first: arrival order again
        return heapq.merge(*(_read_run(path) for path in self._runs), self._held, key=self._key)

    def __getitem__(self, item: int | slice):
        """A finding, or a list of them, by position in report order. With findings on disk, a position
        counted from the start reads up to it; one counted from the end reads them all."""
        everything = iter(self)  # sorts what is held
        if not self._runs:
            return self._held[item]
        if isinstance(item, int) and item >= 0:
            for found in islice(everything, item, None):
                return found
            raise IndexError("findings index out of range")
        if isinstance(item, slice) and item.stop is not None and min(item.start or 0, item.stop, item.step or 1) >= 0:
            return list(islice(everything, item.start, item.stop, item.step))
        return list(everything)[item]


def _read_run(path: Path) -> Iterator[Finding]:
    with open(path, "rb") as f:
        while f.peek(1):  # a file this process wrote: its own findings, nothing else
            yield pickle.load(f)


def rejections(findings: Iterable[Finding]) -> Iterator[tuple[int, list[Finding]]]:
    """Each rejected record's index with its errors, in input order.

    A record's findings share its file, line and index, so in report order they are adjacent, and
    records come in the order of their indices."""
    current: int | None = None
    reasons: list[Finding] = []
    for f in findings:
        if f.index is None or f.severity != "error":
            continue
        if f.index != current:
            if reasons:
                yield current, reasons  # type: ignore[misc]
            current, reasons = f.index, []
        reasons.append(f)
    if reasons:
        yield current, reasons  # type: ignore[misc]
