"""Delimiting the JSON values of a .json array (or of a file of pretty-printed objects) in a stream,
without parsing them: each element's exact bytes, its line and its byte offset, a chunk at a time.
An element over the size limit is scanned to its end without being held (`Unloaded`)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

CHUNK = 1 << 20
LARGE = 1 << 20  # a record larger is counted and compared in place, not through copies of it
WHITESPACE = b" \t\r\n"
# A JSON string, or a bracket; a lone quote means a string runs past the end of the buffer.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}"]', re.DOTALL)
_SPACES = re.compile(rb"[ \t\r\n]*")
_SCALAR_END = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[,\]"]', re.DOTALL)
# The inside of a string, up to its closing quote, or to the end of the buffer (or a backslash there)
_STRING_BODY = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)


class _Reading(Protocol):
    bytes_read: int  # the reader's progress, which the scanner advances


@dataclass(frozen=True, slots=True)
class Unloaded:
    """An element over the size limit, not held: bytes start..end of the input."""

    start: int
    end: int


def count_byte(data: bytes, byte: bytes) -> int:
    """How often one byte occurs in data: the length a removal takes off, several times faster than
    `bytes.count`, which compares byte by byte where the removal scans with memchr; but the removal is a
    copy, which a large record (a 60 MB one: 60 MB more) does not get."""
    if len(data) > LARGE:
        return data.count(byte)
    return len(data) - len(data.replace(byte, b""))


class ArrayScanner:
    """Walks a top-level JSON array, tracking line numbers, yielding each element's exact bytes."""

    def __init__(self, buf: bytes, stream: BinaryIO, stage: _Reading | None, *, inside: bool = False,
                 line: int = 1, last: bool = True, offset: int = 0, limit: int | None = None):
        """`inside`: the stream starts at an element of the array, not at its `[`; `last`: the stream
        ends where the array does (a shard that is not last ends after the comma before an element);
        `limit`: the most bytes of an element held (a larger one is `Unloaded`)."""
        self.buf, self.stream, self.stage = buf, stream, stage
        self.inside, self.last, self.limit = inside, last, limit
        self.pos = 0
        self.base = offset  # the input's byte offset of buf[0]
        self.after_comma = True  # whether the element being yielded follows its separator, as it should
        self.line = line
        self.problems: list[tuple[int, str]] = []
        self._count(buf)

    def _count(self, data: bytes) -> None:
        if self.stage is not None:
            self.stage.bytes_read += len(data)

    def _more(self) -> bool:
        data = self.stream.read(CHUNK)
        if not data:
            return False
        self._count(data)
        if self.pos > CHUNK:  # drop what was consumed, keeping slices cheap
            self.base += self.pos
            self.buf, self.pos = self.buf[self.pos:], 0
        self.buf += data
        return True

    def _skip_whitespace(self) -> bytes:
        """Advance past whitespace; the next byte, or b'' at the end of input."""
        while True:
            end = _SPACES.match(self.buf, self.pos).end()
            self.line += self.buf.count(b"\n", self.pos, end)
            self.pos = end
            if end < len(self.buf):
                return self.buf[end:end + 1]
            if not self._more():
                return b""

    def elements(self) -> Iterator[tuple[int, int, bytes | Unloaded]]:
        """(byte offset in the input, line, bytes) of each element."""
        self._skip_whitespace()
        if not self.inside:
            self.pos += 1  # the opening [
        expect_element = True
        while True:
            byte = self._skip_whitespace()
            if byte == b"":
                if self.last:
                    self.problems.append((self.line, "the array is not closed: the file ends inside it"))
                return
            if byte == b"]":
                self.pos += 1
                if self._skip_whitespace():
                    self.problems.append((self.line, "unexpected text after the array's closing ]"))
                return
            self.after_comma = expect_element
            if not expect_element:
                if byte == b",":
                    self.pos += 1
                    expect_element = True
                    continue
                self.problems.append((self.line, f"expected ',' or ']' between array elements, found {byte.decode(errors='replace')!r}"))
            start_line, start = self.line, self.base + self.pos
            element = self._element()
            if element is None:
                self.problems.append((start_line, "the array is not closed: the file ends inside an element"))
                return
            if not isinstance(element, Unloaded):
                self.line += count_byte(element, b"\n")
            yield start, start_line, element
            expect_element = False

    def values(self) -> Iterator[tuple[int, int, bytes | Unloaded]]:
        """(byte offset, line, bytes) of each value of a stream of JSON values written one after another,
        with no array around them. Anything that is not an object or an array is taken to the end of its
        line, and an unclosed value to the end of the input, for the parse stage to judge."""
        while byte := self._skip_whitespace():
            start_line, start = self.line, self.base + self.pos
            value = self._element() if byte in (b"{", b"[") else self._rest_of_line()
            if value is None:
                while self._more():
                    pass
                value = self._take(len(self.buf))
            if not isinstance(value, Unloaded):
                self.line += count_byte(value, b"\n")
            yield start, start_line, value

    def _rest_of_line(self) -> bytes:
        while (newline := self.buf.find(b"\n", self.pos)) < 0:
            if not self._more():
                return self._take(len(self.buf))
        return self._take(newline)

    def _element(self) -> bytes | Unloaded | None:
        """The element starting at self.pos (which stays there until it is complete, unless it grows over
        the limit: then what was scanned of it is let go, its lines counted, as it goes)."""
        pattern = _TOKEN if self.buf[self.pos:self.pos + 1] in (b"{", b"[") else _SCALAR_END
        depth = 0
        scan = self.pos
        start, unloaded = self.base + self.pos, False
        # in a string that runs past the buffer: how far its inside is scanned. Each read goes on from
        # there (scanning a 20 MB string again from its quote for every chunk took a minute)
        inside: int | None = None
        while True:
            if inside is not None:
                inside = _STRING_BODY.match(self.buf, inside).end()
                if inside < len(self.buf) and self.buf[inside] == 0x22:  # its closing quote
                    scan, inside = inside + 1, None
            if inside is None:
                for match in pattern.finditer(self.buf, scan):
                    token = match.group()
                    if token == b'"':  # a string continues past the buffer
                        inside = match.end()
                        break
                    scan = match.end()
                    if pattern is _SCALAR_END:
                        if token in (b",", b"]"):
                            return self._complete(match.start(), start, unloaded)
                    elif token in (b"{", b"["):
                        depth += 1
                    elif token in (b"}", b"]"):
                        depth -= 1
                        if depth == 0:
                            return self._complete(match.end(), start, unloaded)
                else:
                    scan = len(self.buf)
            scanned = scan if inside is None else inside
            if self.limit is not None and (unloaded or self.base + scanned - start > self.limit):
                unloaded = True
                self.line += self.buf.count(b"\n", self.pos, scanned)
                self.pos = scanned
            before = self.pos  # _more may drop consumed bytes and move self.pos
            if not self._more():  # unclosed: what was let go of it is still reported, to the end
                return Unloaded(start, self.base + len(self.buf)) if unloaded else None
            scan += self.pos - before
            if inside is not None:
                inside += self.pos - before

    def _complete(self, end: int, start: int, unloaded: bool) -> bytes | Unloaded:
        """The element ending at `end`, or where it is when it is over the limit."""
        held_from = self.base + self.pos
        element = self._take(end)
        if not unloaded and (self.limit is None or len(element) <= self.limit):
            return element
        self.line += count_byte(element, b"\n")
        return Unloaded(start, held_from + len(element))

    def _take(self, end: int) -> bytes:
        element = self.buf[self.pos:end].rstrip(WHITESPACE)
        self.pos = end
        return element
