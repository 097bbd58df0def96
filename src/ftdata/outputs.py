"""Writing the clean and rejected datasets: atomically, never over an input.

Records go first to spool files (their exact bytes, one file per shard), because dataset-level
stages (duplicates, contradictions) can reject a record only after the whole input has been seen.
Once every finding is known, the spools are routed in input order: records without errors to the
clean file, the others to the rejected file with their reasons. Clean + rejected = every record
read, each exactly once.
"""

import base64
import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import orjson

from .errors import InputError, UsageError
from .printable import json_bytes
from .records import Example, Finding

_HEADER = struct.Struct("<QQI")  # index, line, length of raw bytes


def output_path(template: str | Path, source: str, several: bool) -> Path:
    """The clean output for `source`: the path itself, or a `{stem}`/`{name}` template filled in."""
    text = str(template)
    if "{stem}" in text or "{name}" in text:
        name = "stdin.jsonl" if source == "-" else Path(source).name
        stem = name.removesuffix(".gz").rsplit(".", 1)[0]
        return Path(text.format(stem=stem, name=name))
    if several:
        raise UsageError("--clean with several inputs needs a template such as 'clean/{stem}.jsonl'")
    return Path(text)


def claim_outputs(outputs: list[Path], inputs: list[str], force: bool = False) -> None:
    """Stop before the run if an output would land on an input, on another output, or (unless
    `force`) on a file that already exists: nothing the user has is lost by mistake."""
    sources = {Path(p).resolve() for p in inputs if p != "-"}
    claimed: set[Path] = set()
    for out in outputs:
        where = out.resolve()
        if where in sources:
            raise UsageError(f"{out}: is an input; ftdata never overwrites its inputs")
        if where in claimed:
            raise UsageError(f"{out}: two outputs would be written to the same file")
        claimed.add(where)
        if out.is_dir():
            raise UsageError(f"{out}: is a directory, not an output file")
        if out.exists() and not force:
            raise UsageError(f"{out}: already exists; pass --force to replace it")


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A file that appears at `path` only once completely written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as f:
            yield f
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


class Spool:
    """A shard's records' bytes in reading order, in a file of the run's temporary folder."""

    def __init__(self, path: Path):
        self.path = path
        self.file = open(path, "wb")

    def add(self, example: Example) -> None:
        self.file.write(_HEADER.pack(example.index, example.line, len(example.raw)))
        self.file.write(example.raw)

    def close(self) -> None:
        self.file.close()


def _spooled(path: Path) -> Iterator[tuple[int, int, bytes]]:
    with open(path, "rb") as f:
        read = f.read
        while header := read(_HEADER.size):
            index, line, size = _HEADER.unpack(header)
            yield index, line, read(size)


def route(spools: list[tuple[str, Path]], rejections: Iterator[tuple[int, list[Finding]]],
          clean: dict[str, Path] | None, rejected: Path | None) -> None:
    """Write each spooled record (spools of (input, path) in input order) to its input's clean file or,
    when it is the next of `rejections` (record index and errors, in input order), to the rejected file."""
    upcoming = next(rejections, None)
    with _Outputs(clean or {}, rejected) as outputs:
        for source, spool in spools:
            for index, line, raw in _spooled(spool):
                if upcoming is not None and upcoming[0] == index:
                    outputs.reject(source, line, raw, upcoming[1])
                    upcoming = next(rejections, None)
                else:
                    outputs.clean(source, raw)


class _Outputs:
    def __init__(self, clean: dict[str, Path], rejected: Path | None):
        self.paths = clean
        self.rejected_path = rejected
        self.stack: list = []
        self.handles: dict[str, BinaryIO] = {}
        self.arrays: dict[str, bool] = {}  # clean file is a JSON array (.json) rather than JSON Lines

    def __enter__(self):
        for source, path in self.paths.items():
            self.handles[source] = self._open(path)
            self.arrays[source] = path.suffix == ".json"
            if self.arrays[source]:
                self.handles[source].write(b"[")
        self.rejected_file = self._open(self.rejected_path) if self.rejected_path else None
        self.first = set(self.paths)
        return self

    def _open(self, path: Path) -> BinaryIO:
        manager = atomic_writer(path)
        self.stack.append(manager)
        return manager.__enter__()

    def clean(self, source: str, raw: bytes) -> None:
        handle = self.handles.get(source)
        if handle is None:
            return
        if self.arrays[source]:
            handle.write(b"\n" if source in self.first else b",\n")
            handle.write(raw)
        else:
            handle.write(raw if b"\n" not in raw else orjson.dumps(orjson.loads(raw)))
            handle.write(b"\n")
        self.first.discard(source)

    def reject(self, source: str, line: int, raw: bytes, reasons: list[Finding]) -> None:
        if self.rejected_file is None:
            return
        entry: dict = {"file": source, "line": line}
        try:
            entry["text"] = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:
            entry["text_base64"] = base64.b64encode(raw).decode("ascii")
        entry["findings"] = [{k: v for k, v in f.to_json().items() if k not in ("file", "line")} for f in reasons]
        self.rejected_file.write(json_bytes(entry) + b"\n")

    def __exit__(self, kind, value, traceback):
        for source, handle in self.handles.items():
            if self.arrays[source]:
                handle.write(b"\n]\n")
        failed = False
        for manager in reversed(self.stack):
            failed = manager.__exit__(kind, value, traceback) or failed
        return failed
