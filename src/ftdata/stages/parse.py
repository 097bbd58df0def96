"""Parsing each record's bytes as a JSON object, and saying precisely why when that fails.

The fast path is one orjson parse. Only a record that fails it (or may hide a duplicate key) pays for
the slower diagnosis with the standard library, which can name the column, the key or the bad value.
"""

import json
import math
import re
from collections.abc import Iterator

import orjson

from ..records import Example
from .base import Problem, Stage
from .arrays import LARGE, count_byte

# Records nesting deeper cannot be written by orjson, which the outputs and later stages use: they are
# refused at parsing (F008), one limit for every command, rather than crashing whichever writes first
MAX_DEPTH = 254


class ParseStage(Stage):
    name = "parse"

    @classmethod
    def active(cls, ctx) -> bool:
        return True  # later stages need the parsed record and its conversation, whatever rules are selected

    def check(self, example: Example) -> Iterator[Problem]:
        if example.data is not None or not example.raw:  # parsed by the reader, or too large to load
            return
        raw = example.raw
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            yield from self._diagnose(example)
            return
        if not isinstance(data, dict):
            yield Problem("F002", _not_an_object(data))
            return
        try:
            suspect = _may_have_duplicate_keys(raw, data)
        except orjson.JSONEncodeError:  # orjson reads 1,024 levels but writes back only MAX_DEPTH
            yield _too_deep()
            return
        if suspect:
            duplicate = _first_duplicate_key(raw)
            if duplicate:
                yield Problem("F010", f"key {duplicate!r} appears twice in one object; parsers keep only one value")
        example.data = data

    def _diagnose(self, example: Example) -> Iterator[Problem]:
        raw = example.raw
        nul = raw.find(b"\x00")
        if nul >= 0:
            yield Problem("F006", f"raw NUL byte at column {nul + 1}")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield Problem("F003", f"invalid UTF-8 at byte {e.start + 1} ({raw[e.start:e.start + 4]!r})")
            return
        non_finite: list[str] = []
        try:
            data = json.loads(text, parse_constant=lambda name: non_finite.append(name) or float(name),
                              parse_float=lambda number: _finite(number, non_finite))
        except RecursionError:
            yield Problem("F008", "nesting is too deep for a JSON parser")
            return
        except json.JSONDecodeError as e:
            yield Problem("F001", f"not valid JSON: {e.msg[0].lower() + e.msg[1:]} at column {e.colno}"
                          + (f" of its line {e.lineno}" if e.lineno > 1 else ""))
            return
        if _lone_surrogate(data):
            at = _SURROGATE_ESCAPE.search(text)
            yield Problem("F001", f"not valid JSON: {at.group(1) if at else 'an escape'} is half of a UTF-16 surrogate "
                                  f"pair{f' at column {at.start(1) + 1}' if at else ''}, not a character (orjson and "
                                  "providers refuse it)")
            return
        if non_finite:
            yield Problem("F009", f"{non_finite[0]} is not a JSON number (providers refuse NaN and Infinity)")
        if _depth_exceeds(data, MAX_DEPTH):
            yield _too_deep()
            return
        if isinstance(data, dict):
            example.data = data  # keep checking the rest of the record
        else:
            yield Problem("F002", _not_an_object(data))


def _finite(number: str, non_finite: list[str]) -> float:
    """A JSON number as a float; one too large for a double (1e400) becomes Infinity, so it is noted."""
    value = float(number)
    if math.isinf(value):
        non_finite.append(f"{number} (Infinity as a double)")
    return value


def _may_have_duplicate_keys(raw: bytes, data: dict) -> bool:
    """True when parsing may have dropped a key.

    Every key/value pair owns one structural colon, and colons in strings survive re-serialisation,
    so a compact dump with fewer colons than the input lost a pair: a duplicate key. An escaped
    colon (\\u003a) would add one back, so its presence sends the record to the exact check too.
    (An escape needs a backslash, which memchr rules out for most records.)
    """
    written = count_byte(orjson.dumps(data), b":") if len(raw) <= LARGE else _colons(data)
    return written < count_byte(raw, b":") or (raw.find(b"\\") >= 0 and b"\\u003" in raw)


def _colons(value: object) -> int:
    """The colons a compact dump of `value` would hold (one per key/value pair, and those in its strings),
    counted by walking it: for a large record, the dump would be one more copy of it. Too deep to dump
    raises as the dump does."""
    colons, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            colons += item.count(":")
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise orjson.JSONEncodeError("Recursion limit reached")
            if isinstance(item, dict):
                colons += len(item) + sum(key.count(":") for key in item)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return colons


def _first_duplicate_key(raw: bytes) -> str | None:
    found: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict:
        seen = set()
        for key, _ in items:
            if key in seen and not found:
                found.append(key)
            seen.add(key)
        return dict(items)

    json.loads(raw, object_pairs_hook=pairs)
    return found[0] if found else None


# an escaped surrogate that is not half of a high-low pair, after an even run of backslashes (a best
# guess at where: the parsed data says whether there is one)
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*(\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                               r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: object) -> bool:
    """Whether a key or string holds a surrogate code point: the stdlib decodes an unpaired \\ud800
    escape into one, which no UTF-8 encoder (and no provider) takes."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATES.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _too_deep() -> Problem:
    return Problem("F008", f"nesting is deeper than {MAX_DEPTH} levels, the most ftdata (orjson) can write back")


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in children)
    return False


def _not_an_object(data: object) -> str:
    if isinstance(data, list) and data and all(isinstance(m, dict) and "role" in m for m in data):
        return (f"expected a JSON object, found a bare list of {len(data)} chat messages; an OpenAI chat record "
                'holds them under a key: {"messages": [...]}')
    return f"expected a JSON object, found {_json_type(data)}"


def _json_type(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
