"""Per-record rows that a dataset-level check reads back only for the records it reports: kept on disk.

A contradiction or a format drift names a few records, but which ones is known only at the end of the
run. What the decision reads of every record stays in memory as numpy columns (a prompt hash, a profile
id, a length); the rest of each record (its place, a hash, a flag, a short quote) goes to an anonymous
temporary file as a fixed-width row, its quote to a second one, read back by position at the end. So
memory grows by the few bytes of the columns, not by a record's Python objects. The files have no name
on disk: a killed run leaves nothing behind.
"""

import tempfile

import numpy as np

from ..records import Ref
from ..temporaries import cannot_write

# line and index -1: None; value and flag: whatever the caller keeps; at and size: the quote's bytes
ROW = np.dtype([("file", "<i4"), ("line", "<i8"), ("index", "<i8"), ("value", "<u8"), ("flag", "u1"),
                ("at", "<i8"), ("size", "<i4")])
_BUFFER = 1024  # rows gathered before a write (a few hundred KB)


class SpilledRows:
    """Rows appended in record order, read back by position (`take`) as a structured array of `ROW`."""

    def __init__(self) -> None:
        self.files: list[str] = []  # file names, interned: a row keeps a number
        self._file_ids: dict[str, int] = {}
        self._pending: list[tuple] = []
        self._pending_quotes = bytearray()
        self._quoted = 0  # bytes of quotes, written and pending: the next quote's offset
        self._count = 0
        self._rows = self._quotes = None  # temporary files, made at the first write

    def __len__(self) -> int:
        return self._count

    def add(self, ref: Ref, value: int = 0, flag: bool = False, quote: str = "") -> None:
        file = self._file_id(ref.file)
        data = quote.encode("utf-8", "surrogatepass")  # a lone surrogate from a JSON escape comes back as it was
        self._pending.append((file, -1 if ref.line is None else ref.line, -1 if ref.index is None else ref.index,
                              value, flag, self._quoted, len(data)))
        self._pending_quotes += data
        self._quoted += len(data)
        self._count += 1
        if len(self._pending) >= _BUFFER:
            self._flush()

    def _file_id(self, name: str) -> int:
        file = self._file_ids.get(name)
        if file is None:
            file = self._file_ids[name] = len(self.files)
            self.files.append(name)
        return file

    def _flush(self) -> None:
        if self._pending:
            self._write(np.array(self._pending, dtype=ROW).tobytes(), bytes(self._pending_quotes))
            self._pending, self._pending_quotes = [], bytearray()

    def _write(self, rows: bytes, quotes: bytes) -> None:
        try:
            if self._rows is None:
                self._rows, self._quotes = tempfile.TemporaryFile(), tempfile.TemporaryFile()
            self._rows.seek(0, 2)
            self._rows.write(rows)
            self._quotes.seek(0, 2)
            self._quotes.write(quotes)
        except OSError as e:
            raise cannot_write(tempfile.gettempdir(), e) from None

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The rows at `positions` (record numbers in the order added), in the order given."""
        self._flush()
        if not len(positions):
            return np.zeros(0, dtype=ROW)
        self._rows.flush()
        mapped = np.memmap(self._rows, dtype=ROW, mode="r", shape=(self._count,))
        rows = np.array(mapped[positions])  # a copy: only the pages of these rows are read
        del mapped
        return rows

    def ref(self, row: np.void) -> Ref:
        line, index = int(row["line"]), int(row["index"])
        return Ref(self.files[row["file"]], None if line < 0 else line, None if index < 0 else index)

    def quote(self, row: np.void) -> str:
        self._quotes.seek(int(row["at"]))
        return self._quotes.read(int(row["size"])).decode("utf-8", "surrogatepass")

    def state(self) -> tuple[list[str], bytes, bytes]:
        """What a shard hands over: its file names and its rows and quotes as bytes."""
        self._flush()
        if self._rows is None:
            return self.files, b"", b""
        self._rows.seek(0)
        self._quotes.seek(0)
        return self.files, self._rows.read(), self._quotes.read()

    def extend(self, state: tuple[list[str], bytes, bytes]) -> None:
        """Append another instance's rows (`state()`), which come after these."""
        files, rows, quotes = state
        if not rows:
            return
        self._flush()
        ids = np.array([self._file_id(name) for name in files], dtype=np.int32)
        theirs = np.frombuffer(rows, dtype=ROW).copy()
        theirs["file"] = ids[theirs["file"]]
        theirs["at"] += self._quoted
        self._write(theirs.tobytes(), quotes)
        self._quoted += len(quotes)
        self._count += len(theirs)
