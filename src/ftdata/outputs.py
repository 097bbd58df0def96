"""Writing the clean and rejected datasets: atomically, never over an input, never over another run's.

Every output is claimed before a byte of input is read (`claim_outputs`): the checks (not an input,
not twice, not existing unless `force`), and a temporary file beside it, `.NAME.ftdata-part`,
created exclusively and locked for as long as this process writes it. A second run writing the same
output finds the lock and stops; a part file nobody holds is what a killed run left, and is removed.
The part file is renamed over the output once completely written, so the output appears whole or
not at all, with the mode the umask gives a new file (or the mode of the file `force` replaces).
Standard output (`-`) and paths that are not regular files (`/dev/stdout`, a named pipe) cannot be
replaced: they are written in place, as a stream.

Records go first to spool files (their exact bytes, one file per shard), because dataset-level
stages (duplicates, contradictions) can reject a record only after the whole input has been seen.
Once every finding is known, the spools are routed in input order: records without errors to the
clean file, the others to the rejected file with their reasons. Clean + rejected = every record
read, each exactly once.
"""

import atexit
import base64
import gzip
import os
import re
import stat
import struct
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import InputError, UsageError
from .printable import json_bytes
from .records import Example, Finding
from .temporaries import MOVE_WHILE_OPEN, cannot_write, create_locked, held, log

_HEADER = struct.Struct("<QQI")  # index, line, length of raw bytes (or _NOT_LOADED, and a _SPAN follows)
_NOT_LOADED = 0xFFFFFFFF  # a record too large to load: its place in the input, not its bytes
_SPAN = struct.Struct("<QQ")
_CHUNK = 1 << 20
_PART = ".ftdata-part"
_LINE_BREAK = re.compile(rb"[ \t]*\r?\n[ \t\r\n]*")


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


@dataclass
class _Claim:
    path: Path
    part: Path | None  # None: a stream (stdout, a device, a pipe), written in place
    fd: int | None = None


_claims: dict[Path, _Claim] = {}  # this process's outputs not yet written, by resolved path


def _where(path: Path) -> Path:
    return Path("-") if str(path) == "-" else path.resolve()


def claim_outputs(outputs: list[Path], inputs: list[str], force: bool = False) -> None:
    """Before the run: stop if an output would land on an input, on another output, or (unless
    `force`) on a file that already exists, or cannot be written; then hold each output's part file.
    Outputs this process has claimed already are kept (a command and the library may both claim)."""
    sources = {Path(p).resolve() for p in inputs if p != "-"}
    claimed: set[Path] = set()
    for out in outputs:
        where = _where(out)
        if where in sources:
            raise UsageError(f"{out}: is an input; ftdata never overwrites its inputs")
        if where in claimed:
            raise UsageError(f"{out}: two outputs would be written to the same file")
        claimed.add(where)
    for out in outputs:
        if _where(out) not in _claims:
            _claims[_where(out)] = _claim(out, force)


def _claim(out: Path, force: bool) -> _Claim:
    if str(out) == "-":
        return _Claim(out, None)
    try:
        existing = out.stat()
    except FileNotFoundError:
        existing = None
    except OSError as e:
        raise InputError(f"{out}: cannot write: {e.strerror}") from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise UsageError(f"{out}: is a directory, not an output file")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if not os.access(out, os.W_OK):
            raise InputError(f"{out}: cannot write: permission denied")
        return _Claim(out, None)  # a device or a pipe: there is no file to lose
    if existing is not None and not force:
        raise UsageError(f"{out}: already exists; pass --force to replace it")
    part = out.parent / f".{out.name}{_PART}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = _create_part(part, out)
        if existing is not None and hasattr(os, "fchmod"):  # --force keeps the replaced file's permissions
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))  # (Windows has no such modes, nor fchmod before 3.13)
    except OSError as e:
        raise InputError(f"{out}: cannot write: {e.strerror}") from None
    return _Claim(out, part, fd)


def _create_part(part: Path, out: Path) -> int:
    """The part file, created exclusively (mode 0666 less the umask) and locked; a stale one (its
    run was killed: nobody holds its lock) is removed first."""
    for _ in range(2):
        try:
            return create_locked(part)
        except FileExistsError:
            if held(part):
                raise UsageError(f"{out}: another ftdata run is writing it now ({part.name} is locked)") from None
            part.unlink(missing_ok=True)
            log.warning("ftdata: removed %s, left by an interrupted run", part)
    raise UsageError(f"{out}: another ftdata run is writing it now ({part.name} keeps reappearing)")


def _release(claim: _Claim) -> None:
    """Forget a claim whose output was not written: its part file goes."""
    if claim.fd is not None:
        os.close(claim.fd)
        claim.fd = None
    if claim.part is not None:
        claim.part.unlink(missing_ok=True)


def release_outputs(outputs: list[Path]) -> None:
    """Give up outputs claimed and not written (the run failed): their part files go."""
    for out in outputs:
        claim = _claims.pop(_where(out), None)
        if claim is not None:
            _release(claim)


@atexit.register
def _release_all() -> None:
    """Outputs claimed but never written (a run that stopped on an error or a signal) leave nothing."""
    while _claims:
        _release(_claims.popitem()[1])


class _Writer:
    """What an output's writer gives: `write`, with a failure (a full disk) reported as one line."""

    def __init__(self, file: BinaryIO, path: Path):
        self.file, self.path = file, path

    def write(self, data: bytes) -> None:
        try:
            self.file.write(data)
        except OSError as e:
            raise InputError(f"{self.path}: cannot write: {e.strerror}") from None


@contextmanager
def atomic_writer(path: Path) -> Iterator[_Writer]:
    """A file that appears at `path` only once completely written (a stream is written in place)."""
    claim = _claims.pop(_where(path), None) or _claim(path, force=True)
    if claim.part is None:
        yield from _stream(claim.path)
        return
    assert claim.fd is not None
    file = os.fdopen(claim.fd, "wb")
    claim.fd = None  # the file object closes it now
    try:
        yield _Writer(file, path)
        try:
            file.flush()
            if not MOVE_WHILE_OPEN:
                file.close()  # (and the lock goes with it: here the part file is unguarded a moment)
            os.replace(claim.part, path)
        except OSError as e:
            raise InputError(f"{path}: cannot write: {e.strerror}") from None
    except BaseException:
        _close(file)
        claim.part.unlink(missing_ok=True)
        raise
    finally:
        _close(file)


def _close(file: BinaryIO) -> None:
    try:
        file.close()
    except OSError:
        pass  # only after a failure already reported: a flush of what the full disk refused


def _stream(path: Path) -> Iterator[_Writer]:
    if str(path) == "-":
        yield _Writer(sys.stdout.buffer, Path("<stdout>"))
        sys.stdout.buffer.flush()
        return
    try:
        file = open(path, "wb")
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror}") from None
    with file:
        yield _Writer(file, path)


def jsonl_line(raw: bytes) -> bytes:
    """A record's bytes as one JSON Lines line: a pretty-printed element of a .json array has its line
    breaks (whitespace between tokens, never inside a valid string) folded into one space each; its
    values, key order and duplicate keys stay exactly as written."""
    return (raw if b"\n" not in raw else _LINE_BREAK.sub(b" ", raw)) + b"\n"


def write_record(out: _Writer, source: str, line: int, raw: bytes, not_loaded: tuple[int, int] | None,
                 *, as_line: bool = True) -> None:
    """A record's bytes into an output (as one JSON Lines line unless `as_line` is False). A record too
    large to load (its `not_loaded` span) is copied from its input a chunk at a time."""
    if not_loaded is None:
        out.write(jsonl_line(raw) if as_line else raw)
        return
    if source == "-":
        raise InputError(f"<stdin>:{line}: the record of {not_loaded[1] - not_loaded[0]:,} bytes is over the size "
                         "limit and standard input cannot be read again to copy it to the output; pass the file, or "
                         "raise the limit (-o read.max-record-bytes=N)")
    start, end = not_loaded
    try:
        with open(source, "rb") as file, (gzip.GzipFile(fileobj=file) if source.endswith(".gz") else file) as stream:
            stream.seek(start)  # a .gz decompresses up to it, a chunk at a time
            left, spaces = end - start, b""
            while left:
                chunk = stream.read(min(_CHUNK, left))
                if not chunk:
                    raise InputError(f"{source}:{line}: the file ended before byte {end:,}: it changed during the run")
                left -= len(chunk)
                if as_line:  # a pretty-printed element's line breaks folded as jsonl_line folds them
                    chunk, spaces = spaces + chunk, b""
                    if left:  # whitespace at a chunk's end may go on in the next: folded with it
                        body = chunk.rstrip(b" \t\r\n")
                        chunk, spaces = body, chunk[len(body):]
                    chunk = _LINE_BREAK.sub(b" ", chunk)
                out.write(chunk if left else chunk.removesuffix(b"\r"))
    except OSError as e:
        raise InputError(f"{source}: read failed: {e.strerror or e}") from None
    if as_line:
        out.write(b"\n")


class Spool:
    """A shard's records' bytes in reading order, in a file of the run's temporary folder."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.file = open(path, "wb")
        except OSError as e:
            raise _temporary_error(path, e) from None

    def add(self, example: Example) -> None:
        try:
            if example.not_loaded:
                self.file.write(_HEADER.pack(example.index, example.line, _NOT_LOADED))
                self.file.write(_SPAN.pack(*example.not_loaded))
                return
            self.file.write(_HEADER.pack(example.index, example.line, len(example.raw)))
            self.file.write(example.raw)
        except OSError as e:
            raise cannot_write(self.path.parent, e) from None

    def close(self) -> None:
        try:
            self.file.close()
        except OSError as e:
            raise cannot_write(self.path.parent, e) from None


def _spooled(path: Path) -> Iterator[tuple[int, int, bytes, tuple[int, int] | None]]:
    """(index, line, bytes, span in the input of a record not loaded) of each spooled record."""
    with open(path, "rb") as f:
        read = f.read
        while header := read(_HEADER.size):
            index, line, size = _HEADER.unpack(header)
            if size == _NOT_LOADED:
                yield index, line, b"", _SPAN.unpack(read(_SPAN.size))
            else:
                yield index, line, read(size), None


def route(spools: list[tuple[str, Path]], rejections: Iterator[tuple[int, list[Finding]]],
          clean: dict[str, Path] | None, rejected: Path | None, progress: Callable[[int], None] | None = None) -> None:
    """Write each spooled record (spools of (input, path) in input order) to its input's clean file or,
    when it is the next of `rejections` (record index and errors, in input order), to the rejected file;
    `progress` hears the records written so far, now and then."""
    upcoming = next(rejections, None)
    written = 0
    with _Outputs(clean or {}, rejected) as outputs:
        for source, spool in spools:
            for index, line, raw, not_loaded in _spooled(spool):
                written += 1
                if upcoming is not None and upcoming[0] == index:
                    outputs.reject(source, line, raw, not_loaded, upcoming[1])
                    upcoming = next(rejections, None)
                else:
                    outputs.clean(source, line, raw, not_loaded)
                if progress and written % 4096 == 0:
                    progress(written)
        if progress:
            progress(written)


class _Outputs:
    def __init__(self, clean: dict[str, Path], rejected: Path | None):
        self.paths = clean
        self.rejected_path = rejected
        self.stack = ExitStack()  # every writer is closed (or its part removed) whatever fails
        self.handles: dict[str, _Writer] = {}
        self.arrays: dict[str, bool] = {}  # clean file is a JSON array (.json) rather than JSON Lines

    def __enter__(self):
        with ExitStack() as opening:
            for source, path in self.paths.items():
                self.handles[source] = opening.enter_context(atomic_writer(path))
                self.arrays[source] = path.suffix == ".json"
                if self.arrays[source]:
                    self.handles[source].write(b"[")
            self.rejected_file = opening.enter_context(atomic_writer(self.rejected_path)) if self.rejected_path else None
            self.stack = opening.pop_all()
        self.first = set(self.paths)
        return self

    def clean(self, source: str, line: int, raw: bytes, not_loaded: tuple[int, int] | None) -> None:
        handle = self.handles.get(source)
        if handle is None:
            return
        if self.arrays[source]:
            handle.write(b"\n" if source in self.first else b",\n")
        write_record(handle, source, line, raw, not_loaded, as_line=not self.arrays[source])
        self.first.discard(source)

    def reject(self, source: str, line: int, raw: bytes, not_loaded: tuple[int, int] | None,
               reasons: list[Finding]) -> None:
        if self.rejected_file is None:
            return
        entry: dict = {"file": source, "line": line}
        if not_loaded:  # never held in memory: where the user finds it
            entry["bytes"] = {"start": not_loaded[0], "end": not_loaded[1]}
        else:
            try:
                entry["text"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                entry["text_base64"] = base64.b64encode(raw).decode("ascii")
        entry["findings"] = [{k: v for k, v in f.to_json().items() if k not in ("file", "line")} for f in reasons]
        self.rejected_file.write(json_bytes(entry) + b"\n")

    def __exit__(self, kind, value, traceback):
        if kind is not None:  # every part file is removed
            return self.stack.__exit__(kind, value, traceback)
        with self.stack:  # a failure closing an array removes them too
            for source, handle in self.handles.items():
                if self.arrays[source]:
                    handle.write(b"\n]\n")
        return False
