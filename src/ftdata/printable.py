"""Text that every output can hold. Python keeps the bytes of a file name that are not UTF-8 as lone
surrogates (U+DC80..U+DCFF, PEP 383); a JSON encoder refuses them and a UTF-8 stream cannot write them.
Every output (text, json, github, sarif, the rejected file) shows such a byte as a `\\xNN` escape, the same
way, so that the name the user sees is the one they can find."""

import codecs
import re
from typing import Any

import orjson


def _escape(error: UnicodeEncodeError) -> tuple[str, int]:
    # an undecodable byte as itself; any other lone surrogate (never from a file name) as its code point
    escaped = (f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else f"\\u{ord(c):04x}"
               for c in error.object[error.start:error.end])
    return "".join(escaped), error.end


codecs.register_error("ftdata-printable", _escape)


def printable(text: str) -> str:
    return text.encode("utf-8", "ftdata-printable").decode("utf-8")


# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal(text: str) -> str:
    """Text for a terminal or a log: printable, and a control character from a dataset key or a file name
    (an escape sequence, a carriage return) shown as its escape, never sent raw."""
    text = printable(text)
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                         text) if _CONTROLS.search(text) else text


def printable_json(value: Any) -> Any:
    """A JSON value with every string and key printable."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_json(k): printable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_json(v) for v in value]
    return value


def json_bytes(value: Any, option: int = 0) -> bytes:
    """orjson's encoding of a JSON value; strings are escaped only when orjson refuses one (rare: a
    file name that is not UTF-8), so the common case costs nothing more."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        return orjson.dumps(printable_json(value), option=option)
