"""Reading inputs into records, streaming: JSON Lines (also gzipped), .json arrays, Parquet, stdin.

A run reads its inputs shard by shard (see `ftdata.shards`): a whole input, or a byte range of a
JSON Lines file that starts and ends at line boundaries. Memory stays flat whatever the file size:
JSON Lines are split from 1 MiB chunks, a .json array is delimited element by element, Parquet is
read in row batches. Every non-blank line becomes exactly one record, even when it is not JSON (the
parse stage judges it), so clean + rejected always adds up.
"""

import gzip
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from ..errors import InputError, UsageError
from ..records import Example, Ref
from .arrays import CHUNK, WHITESPACE, ArrayScanner, Unloaded
from .base import InputFile, Problem, Shard, Stage

BOM = b"\xef\xbb\xbf"


# What a reader yields for each record: line, bytes, the parsed object when the format gives one, a
# problem found reading it, and for a record too large to load, where its bytes lie (start, end)
Unit = tuple[int, bytes, dict | None, Problem | None, tuple[int, int] | None]


@dataclass
class ReadOptions:
    max_record_bytes: int = 64 << 20


def check_readable(path: str) -> None:
    """Fail early, in one line, for an input that cannot be opened."""
    if path == "-":
        return
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a directory; pass the dataset files inside it")
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if not p.is_file():  # a named pipe or a device: opening it to probe would take what it has to give
        if not os.access(p, os.R_OK):
            raise InputError(f"{path}: cannot read: permission denied")
        return
    try:
        with p.open("rb"):
            pass
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None


class ReadStage(Stage):
    """The source of the pipeline: yields one Example per record of a shard of an input."""

    name = "read"
    Options = ReadOptions

    def __init__(self, ctx):
        super().__init__(ctx)
        if self.options.max_record_bytes < 1:  # every record would be "over the limit" and none read
            raise UsageError(f"[tool.ftdata.read]: max-record-bytes must be at least 1, not {self.options.max_record_bytes}")
        self.bytes_read = 0  # of the current shard, for the progress bar
        self.loose: list = []  # findings that belong to no record (blank lines, a BOM, a broken array)
        self.records_per_file: dict[str, int] = {}

    def records(self, shard: Shard) -> Iterator[Example]:
        source, path = shard.source, shard.source.path
        self.bytes_read = 0
        count = 0
        if path != "-" and Path(path).suffix == ".parquet":
            units: Iterator = self._parquet(source)
        else:
            units = self._units(shard)
        for count, (line, raw, data, problem, not_loaded) in enumerate(units, 1):
            example = Example(shard.first_index + count - 1, path, line, raw, source.split, data, not_loaded=not_loaded)
            if problem:
                self.add(example, problem)
            yield example
        self.records_per_file[path] = self.records_per_file.get(path, 0) + count

    def whole(self, inputs: list[InputFile]) -> Iterator[Example]:
        """Every record of the inputs in order, each input read whole, indices from 0."""
        index = 0
        for source in inputs:
            for example in self.records(Shard(source, first_index=index)):
                index += 1
                yield example

    def _units(self, shard: Shard) -> Iterator[Unit]:
        path = shard.source.path
        stream = _open(path, shard.start, shard.end)
        try:
            first = stream.read(CHUNK)
            offset = shard.start  # the input's byte offset of first[0]
            if shard.start == 0 and first.startswith(BOM):
                first, offset = first[len(BOM):], len(BOM)
                self._loose(Ref(path, 1), Problem("F004", "file starts with a UTF-8 byte order mark (EF BB BF); ignored"))
            if shard.array or (shard.start == 0 and not lines_only(path) and first.lstrip(WHITESPACE).startswith(b"[")):
                units = self._array_elements(first, stream, path, shard, offset)
            elif shard.start == 0 and multiline_objects(first):
                units = self._objects(first, stream, path, offset)
            else:
                units = self._lines(first, stream, path, shard.first_line - 1, offset)
            yield from units
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise InputError(f"{path}: read failed: {e}") from None
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()

    def finish(self) -> Iterator[tuple[Ref | None, Problem]]:
        for source in self.ctx.inputs:
            if not self.records_per_file.get(source.path):
                yield Ref(source.path, None), Problem("F012", "no records in this input")

    def shard_state(self) -> dict[str, int]:
        return self.records_per_file  # loose findings leave with the shard's (check_shard)

    def merge(self, records_per_file: dict[str, int]) -> None:
        for path, count in records_per_file.items():
            self.records_per_file[path] = self.records_per_file.get(path, 0) + count

    def _lines(self, data: bytes, stream: BinaryIO, path: str, line_no: int, offset: int) -> Iterator[Unit]:
        """The lines after line `line_no`, which ends at byte `offset` of the input."""
        limit = self.options.max_record_bytes
        # the start of the last line, in pieces joined once when it ends: joining them chunk by chunk would
        # copy a long record again for each chunk of it (a 20 MB record: twenty copies). From a plain file, a
        # line longer than a chunk is not kept at all: read again in one piece when it ends (one copy, not two)
        pending: list[bytes] = []
        pending_size = 0
        file = _seekable(stream, path)
        dropped = False  # the pending line's pieces were let go, to be read again
        skipped = 0  # bytes of an oversized line being drained, or 0
        while data:
            self.bytes_read += len(data)
            if skipped:
                newline = data.find(b"\n")
                if newline < 0:
                    skipped += len(data)
                    data = stream.read(CHUNK)
                    continue
                line_no += 1
                yield self._too_long(line_no, offset, skipped + newline)
                offset += skipped + newline + 1
                skipped, data = 0, data[newline + 1:]
            if b"\n" not in data:
                pending_size += len(data)
                if not dropped:
                    pending.append(data)
                if pending_size > limit:
                    skipped, pending, pending_size, dropped = pending_size, [], 0, False
                elif file is not None and pending_size > CHUNK:
                    pending, dropped = [], True
                data = stream.read(CHUNK)
                continue
            lines = data.split(b"\n")
            if dropped:
                lines[0], dropped = _read_again(file, offset, pending_size + len(lines[0])), False
            elif pending:
                lines[0] = b"".join([*pending, lines[0]])
            last = lines.pop()
            pending, pending_size = [last], len(last)
            for line in lines:
                line_no += 1
                size = len(line) + 1
                if line.endswith(b"\r"):
                    line = line[:-1]
                if not line or line.isspace():
                    self._loose(Ref(path, line_no), Problem("F005", "blank line"))
                elif len(line) > limit:
                    yield self._too_long(line_no, offset, len(line))
                else:
                    yield line_no, line, None, None, None
                offset += size
            if pending_size > limit:
                skipped, pending, pending_size = pending_size, [], 0
            data = stream.read(CHUNK)
        last = (_read_again(file, offset, pending_size) if dropped else b"".join(pending)).rstrip(b"\r")
        if skipped:
            yield self._too_long(line_no + 1, offset, skipped)
        elif len(last) > limit:
            yield self._too_long(line_no + 1, offset, len(last))
        elif last and not last.isspace():
            yield line_no + 1, last, None, None, None

    def _too_long(self, line_no: int, offset: int, size: int) -> Unit:
        """The record of `size` bytes from `offset`, not loaded: where it is, and why."""
        problem = Problem("F007", f"record is {size:,} bytes, over the {self.options.max_record_bytes:,}-byte limit "
                                  f"(bytes {offset:,}-{offset + size:,} of the input); not loaded")
        return line_no, b"", None, problem, (offset, offset + size)

    def _array_elements(self, buf: bytes, stream: BinaryIO, path: str, shard: Shard, offset: int) -> Iterator[Unit]:
        """Delimit the elements of a top-level JSON array (or of a shard of one) without parsing them."""
        scanner = ArrayScanner(buf, stream, self, inside=shard.start > 0, line=shard.first_line,
                               last=shard.end is None, offset=offset, limit=self.options.max_record_bytes)
        for _, line, raw in scanner.elements():
            yield self._element(line, raw)
        for line, message in scanner.problems:
            self._loose(Ref(path, line), Problem("F011", message))

    def _objects(self, buf: bytes, stream: BinaryIO, path: str, offset: int) -> Iterator[Unit]:
        """The JSON values of a file that writes each over several lines, one after another: a .json file
        holding one object, or a .jsonl file of pretty-printed objects. One finding for the file says so."""
        count = 0
        scanner = ArrayScanner(buf, stream, self, inside=True, offset=offset, limit=self.options.max_record_bytes)
        for count, (_, line, raw) in enumerate(scanner.values(), 1):
            yield self._element(line, raw)
        self._loose(Ref(path, 1), Problem(
            "F013", f"the file holds {count:,} JSON value{'s' if count != 1 else ''} written over several lines each "
                    "(pretty-printed), not JSON Lines: ftdata read each as one record, but fine-tuning APIs and "
                    "trainers read one record per line (`--clean FILE.jsonl` writes them so)"))

    def _element(self, line: int, raw: bytes | Unloaded) -> Unit:
        if isinstance(raw, Unloaded):
            return self._too_long(line, raw.start, raw.end - raw.start)
        return line, raw, None, None, None

    def _parquet(self, source: InputFile) -> Iterator[Unit]:
        import pyarrow.parquet as pq
        from pyarrow import ArrowException

        try:
            table = pq.ParquetFile(source.path)
            row = 0
            for batch in table.iter_batches(batch_size=4096):
                for data in batch.to_pylist():
                    row += 1
                    raw = orjson.dumps(data, default=str)
                    self.bytes_read += len(raw)
                    yield row, raw, data, None, None
        except (ArrowException, OSError) as e:
            raise InputError(f"{source.path}: not a readable Parquet file: {e}") from None

    def _loose(self, ref: Ref, problem: Problem) -> None:
        finding = self.ctx.finding(problem.code, ref, problem)
        if finding is not None:
            self.counts[problem.code] += 1
            self.loose.append(finding)


def multiline_objects(head: bytes) -> bool:
    """Whether an input starting with `head` writes its records over several lines each (a pretty-printed
    object, or a run of them), not one per line: its first line opens an object that closes on a later one."""
    text = head.removeprefix(BOM).lstrip(WHITESPACE)
    if not text.startswith(b"{"):
        return False
    first = text.split(b"\n", 1)[0].rstrip()
    if first == b"{":
        return True
    try:
        orjson.loads(first)
        return False
    except orjson.JSONDecodeError:
        pass
    try:  # the first line is not a record by itself: is it the start of one that ends further down?
        decoded = text.decode("utf-8", errors="replace")
        _, end = json.JSONDecoder().raw_decode(decoded)
    except (ValueError, RecursionError):
        return False
    return "\n" in decoded[:end]


def lines_only(path: str) -> bool:
    """Whether the input is JSON Lines by its name (otherwise a top-level [ makes it a JSON array)."""
    return Path(path).suffix in (".jsonl", ".ndjson") or path.endswith((".jsonl.gz", ".ndjson.gz"))


def _open(path: str, start: int = 0, end: int | None = None) -> BinaryIO:
    if start or end is not None:
        return _Range(path, start, end)
    if path == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(path, "rb")
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from None
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=stream)
    return stream


class _Range:
    """Bytes start..end (None: the end) of a file, read like a stream."""

    def __init__(self, path: str, start: int, end: int | None):
        try:
            self.file = open(path, "rb")
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from None
        self.file.seek(start)
        self.left = end - start if end is not None else 1 << 62

    def read(self, size: int) -> bytes:
        data = self.file.read(min(size, self.left))
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def _seekable(stream: "BinaryIO | _Range", path: str) -> BinaryIO | None:
    """The plain file under a stream, which can be read again at any offset (not a .gz, not stdin)."""
    file = stream.file if isinstance(stream, _Range) else stream
    return file if path != "-" and not path.endswith(".gz") and isinstance(file, io.BufferedReader) else None


def _read_again(file: BinaryIO | None, start: int, size: int) -> bytes:
    """Bytes start..start + size of the file, in one read, leaving its position as it was."""
    assert file is not None
    here = file.tell()
    file.seek(start)
    data = file.read(size)
    file.seek(here)
    if len(data) != size:
        raise OSError(f"the file changed while it was read (bytes {start:,}-{start + size:,})")
    return data
