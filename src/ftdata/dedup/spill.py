"""What a near-duplicate index holds of each record, kept on disk until the pairs are found and verified.

The LSH band keys (8 bytes a band, 200 bytes a record at the default 25 bands) are read once, a band at a
time, when the candidate pairs are found: each batch's keys are written band by band, so that one band over
every batch is a read of a slice per batch. The shingle sets a candidate pair is verified on, and the turns
its records teach (cluster.SameExample), are read back only for candidate pairs, which are a few records of
most datasets. Each goes to an anonymous temporary file as it is made, and memory keeps an offset a record
(8 bytes) or a batch instead of hundreds of bytes. Reads are `pread`s of what is asked for: the file is not
mapped, so the pages read do not count against the run's memory. The files have no name on disk: a killed
run leaves nothing behind.
"""

import os
import pickle
import tempfile
from array import array
from collections.abc import Sequence

import numpy as np

from ..temporaries import cannot_write
from .shingles import ShingleSets

_FLUSH = 1 << 20  # bytes gathered before a write


class Spilled:
    """Byte strings appended in order, read back by number; picklable (to hand a shard's to the run)."""

    def __init__(self) -> None:
        self._ends = array("q")  # of each item, in bytes from the start of all items
        self._pending = bytearray()  # items not yet written; they follow the file's `_written` bytes
        self._written = 0
        self._file = None  # made at the first write

    def __len__(self) -> int:
        return len(self._ends)

    @property
    def size(self) -> int:
        """Bytes of every item, written or not."""
        return self._ends[-1] if self._ends else 0

    def nbytes(self) -> int:
        """What it holds in memory for each item (the unwritten buffer, under _FLUSH bytes, aside: how full
        it is depends on how the items came, and the count should not)."""
        return self._ends.itemsize * len(self._ends)

    def extend(self, data: bytes, ends: np.ndarray) -> None:
        """Append items: `data` holds them back to back, `ends` is where each ends in it."""
        self._ends.frombytes((np.asarray(ends, dtype=np.int64) + self.size).tobytes())
        if len(data) >= _FLUSH:  # written as it is: no copy of a large batch
            self._flush()
            self._write(data)
        else:
            self._pending += data
            if len(self._pending) >= _FLUSH:
                self._flush()

    def item(self, i: int, offset: int = 0, length: int | None = None) -> bytes:
        """Item i, or `length` bytes of it from `offset`."""
        start, end = self._ends[i - 1] if i else 0, self._ends[i]
        start, end = start + offset, end if length is None else start + offset + length
        if start >= self._written:  # an item is written whole or not at all
            return bytes(self._pending[start - self._written:end - self._written])
        return os.pread(self._file.fileno(), end - start, start)

    def _flush(self) -> None:
        if self._pending:
            self._write(self._pending)
            self._pending = bytearray()

    def _write(self, data: bytes | bytearray) -> None:
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile()
            view = memoryview(data)
            while view:  # pwrite may write less than asked
                written = os.pwrite(self._file.fileno(), view, self._written)
                self._written += written
                view = view[written:]
        except OSError as e:
            raise cannot_write(tempfile.gettempdir(), e) from None

    def _data(self) -> bytes:
        written = os.pread(self._file.fileno(), self._written, 0) if self._written else b""
        return written + self._pending

    def append(self, other: "Spilled", keep: np.ndarray | None = None) -> None:
        """Append another's items (those of a later shard); `keep`: a bool per item of it, those to take."""
        data, ends = other._data(), np.frombuffer(other._ends, dtype=np.int64)
        if keep is not None:
            starts = np.concatenate(([0], ends[:-1]))[keep]
            data = b"".join(data[s:e] for s, e in zip(starts.tolist(), ends[keep].tolist()))
            ends = np.cumsum(ends[keep] - starts)
        self.extend(data, ends)

    def __getstate__(self) -> tuple[array, bytes]:
        return self._ends, self._data()

    def __setstate__(self, state: tuple[array, bytes]) -> None:
        self._ends, data = state
        self._pending, self._written, self._file = bytearray(data), 0, None


class SpilledSets(Spilled):
    """Shingle sets, set i read back by `of(i)` (the interface cluster.Sets has)."""

    def add(self, sets: ShingleSets) -> None:
        hashes = np.ascontiguousarray(sets.hashes, dtype=np.uint32)
        self.extend(hashes.tobytes(), (sets.offsets[1:] - sets.offsets[0]) * hashes.itemsize)

    def of(self, i: int) -> np.ndarray:
        return np.frombuffer(self.item(i), dtype=np.uint32)


class SpilledTexts(Spilled):
    """A tuple of lists of strings per record (what it teaches, what names are read from)."""

    def add(self, records: Sequence[tuple]) -> None:
        # pickle, not JSON: a lone surrogate from a JSON escape is a str that no UTF-8 encoder takes
        items = [pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL) for record in records]
        self.extend(b"".join(items), np.cumsum([len(item) for item in items], dtype=np.int64))

    def of(self, i: int) -> tuple:
        return pickle.loads(self.item(i))  # this run's own file, never a user's


class SpilledBands(Spilled):
    """LSH band keys, an item a batch: the batch's (texts, bands) uint64 keys written band by band."""

    def __init__(self) -> None:
        super().__init__()
        self.counts = array("q")  # texts of each batch

    def add(self, keys: np.ndarray) -> None:
        self.extend(np.ascontiguousarray(keys.T, dtype=np.uint64).tobytes(), np.array([keys.size * 8]))
        self.counts.append(len(keys))

    def nbytes(self) -> int:
        """Nothing a text: 16 bytes a batch (its offset and count) are not counted, so that the count does not
        depend on how the texts were batched (a run with workers makes more, smaller batches)."""
        return 0

    def band(self, band: int) -> np.ndarray:
        """One band's keys over every text, in order (the only copy of keys held at once)."""
        return np.concatenate([np.zeros(0, np.uint64), *(
            np.frombuffer(self.item(i, band * n * 8, n * 8), dtype=np.uint64) for i, n in enumerate(self.counts) if n)])

    def batch(self, i: int) -> np.ndarray:
        """Batch i's keys, (texts, bands)."""
        n = self.counts[i]
        return np.frombuffer(self.item(i), dtype=np.uint64).reshape(-1, n).T if n else np.zeros((0, 0), np.uint64)

    def append(self, other: "SpilledBands", keep: np.ndarray | None = None) -> None:
        """Append another's batches (those of a later shard); `keep`: a bool per text of it, those to take."""
        if keep is None:
            super().append(other)
            self.counts.extend(other.counts)
            return
        first = 0
        for i, n in enumerate(other.counts):
            self.add(other.batch(i)[keep[first:first + n]])
            first += n

    def __getstate__(self) -> tuple:
        return super().__getstate__(), self.counts

    def __setstate__(self, state: tuple) -> None:
        super().__setstate__(state[0])
        self.counts = state[1]
