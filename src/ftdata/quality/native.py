"""Regular-expression searches over a batch of texts in native code: polars runs Rust's regex engine, in
linear time, over a column at once.

Rust's engine and Python's `re` find the same matches in ASCII texts for the patterns translated here,
once `\\s` is widened (Python's also matches U+001C-U+001F) and a bare `$` may match before any newline
(Python's matches before a final one). So for an ASCII text the native search says where Python's first
match can start, or that there is none; Python then searches from that position, so that the match, and
every message made of it, is Python's own. Texts with other characters (where the engines' word
characters and case folding differ) and patterns that cannot be translated (lookarounds, back-references,
inline flags) are searched by Python alone.
"""

import re
from collections.abc import Callable, Sequence
from functools import cache

Search = Callable[[re.Pattern, str], "re.Match | None"]  # answers as pattern.search(text)


def find(pattern: re.Pattern, text: str, search: Search | None) -> re.Match | None:
    """`pattern.search(text)`, through `search` when the batch path gives one."""
    return pattern.search(text) if search is None else search(pattern, text)

# Below this many characters a batch is searched by Python: importing polars costs more than it saves.
MIN_CHARS = 1 << 18
_FLAGS = {re.I: "i", re.M: "m", re.S: "s"}
# Python's case-insensitive matching maps these to ASCII 'i'; Rust's does not: a pattern that can match
# them is left to Python.
_DOTTED_I = (0x130, 0x131)
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "a": 7}


def rust_pattern(pattern: str, flags: int = 0) -> str | None:
    """A Rust regex that matches, in any ASCII text, wherever `pattern` (Python syntax) can start a match;
    None when the pattern uses what is not translated."""
    if flags & ~(re.I | re.M | re.S):
        return None
    out: list[str] = []
    in_class = False
    low: int | None = None  # in a class: the member before a '-', which starts a range
    last: int | None = None  # in a class: the code point of the member just read
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            escape, point, i = _escape(pattern, i)
            if escape is None or point in _DOTTED_I:
                return None
            if escape == "s":
                out.append(r"\s\x1c-\x1f" if in_class else r"[\s\x1c-\x1f]")
            elif escape == "S" and not in_class:
                out.append(r"[^\s\x1c-\x1f]")
            elif escape == "S" or escape == "Z" and in_class:
                return None
            else:
                out.append(r"\z" if escape == "Z" else "\\" + escape)
        elif in_class and c == "]":
            in_class = False
            out.append(c)
            i += 1
            continue
        elif in_class and (c == "[" or pattern[i:i + 2] in ("&&", "--", "~~")):
            return None  # Rust reads these as a nested class or a set operation
        elif in_class and c == "-" and last is not None and pattern[i + 1:i + 2] != "]":
            low, last = last, None
            out.append(c)
            i += 1
            continue
        elif ord(c) in _DOTTED_I:
            return None
        elif c == "[":
            i += 1
            out.append("[")
            if pattern[i:i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i:i + 1] == "]":  # a leading ']' is a member
                out.append(r"\]")
                i += 1
            in_class, low, last = True, None, None
            continue
        elif in_class:
            point = ord(c)
            out.append(c)
            i += 1
        elif c == "(" and pattern[i + 1:i + 2] == "?" and pattern[i + 2:i + 3] != ":":
            return None  # lookarounds, named groups, inline flags
        elif c == "{" and pattern[i + 1:i + 2] == ",":
            return None  # Python's {,n}
        else:
            out.append("(?m:$)" if c == "$" and not flags & re.M else c)
            i += 1
            continue
        if in_class:  # a member was read: it may close a range that spans a dotted i
            if low is not None and (point is None or low <= _DOTTED_I[1] and point >= _DOTTED_I[0]):
                return None
            low, last = None, point
    if in_class:
        return None
    letters = "".join(v for k, v in _FLAGS.items() if flags & k)
    return (f"(?{letters})" if letters else "") + "".join(out)


def _escape(pattern: str, i: int) -> tuple[str | None, int | None, int]:
    """(the escape as Rust writes it, its code point when it is one character, the index after it)."""
    nxt = pattern[i + 1:i + 2]
    if not nxt or nxt.isdigit() or nxt in "Ngpk":
        return None, None, i + 2  # back-references, octal, named characters: Python's own
    for letter, width in (("x", 2), ("u", 4), ("U", 8)):
        if nxt == letter:
            digits = pattern[i + 2:i + 2 + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                return None, None, i + 2
            point = int(digits, 16)
            return f"x{{{digits}}}", point, i + 2 + width
    if nxt in _SIMPLE_ESCAPES:
        return nxt, _SIMPLE_ESCAPES[nxt], i + 2
    if nxt.isalpha():
        return nxt, None, i + 2  # classes and assertions: \w \d \b \B \A ...
    return nxt, ord(nxt), i + 2  # an escaped punctuation mark or other character stands for itself


@cache
def _translated(pattern: re.Pattern) -> str | None:
    rust = rust_pattern(pattern.pattern, pattern.flags & ~re.U)
    if rust is None:
        return None
    import polars as pl

    try:
        pl.Series([""]).str.contains(rust)
    except pl.exceptions.PolarsError:
        return None  # a construct Rust's engine does not know
    return rust


def starts(patterns: Sequence[re.Pattern], texts: Sequence[str]) -> dict[re.Pattern, list[int | None]]:
    """For each pattern that native code can search, and each text: where Python's first match can start
    (0 for a text that is not ASCII, which Python searches whole), or None where it surely finds none.
    Empty when the texts are too few to be worth it. The patterns run at once, on every core."""
    native = [(p, rust) for p in patterns if (rust := _translated(p)) is not None]
    if not native or sum(map(len, texts)) < MIN_CHARS:
        return {}
    import polars as pl

    ascii_texts = [t for t in texts if t.isascii()]
    column = pl.DataFrame({"text": ascii_texts}, schema={"text": pl.String})
    found = column.select(pl.col("text").str.find(rust).alias(str(n)) for n, (_, rust) in enumerate(native))
    result = {}
    for n, (pattern, _) in enumerate(native):
        ascii_starts = iter(found.get_column(str(n)).to_list())
        result[pattern] = [next(ascii_starts) if t.isascii() else 0 for t in texts]
    return result


class BatchSearch:
    """The first match of some patterns in some texts of a batch (columns of texts, each with the patterns
    to search in it), found natively where that can be done. `search(pattern, text)` answers as
    `pattern.search(text)` does, for any text; for the columns' texts native code has ruled out most of the
    work. `native` says whether it did any (a small batch is left to Python)."""

    def __init__(self, columns: Sequence[tuple[Sequence[re.Pattern], Sequence[str]]]):
        self._texts = [texts for _, texts in columns]  # held, so that the ids below stay theirs
        self._starts: dict[re.Pattern, dict[int, int | None]] = {}
        for patterns, texts in columns:
            for pattern, found in starts(patterns, texts).items():
                self._starts.setdefault(pattern, {}).update(zip(map(id, texts), found))
        self.native = bool(self._starts)

    def search(self, pattern: re.Pattern, text: str) -> re.Match | None:
        starts = self._starts.get(pattern)
        if starts is None:
            return pattern.search(text)
        start = starts.get(id(text), 0)
        return None if start is None else pattern.search(text, start)
