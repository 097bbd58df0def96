"""A record as the page shows it (a conversation), an edit re-checked, and a word-level diff.

Everything here returns plain data; the page puts text into the DOM as text, never as HTML.
"""

import difflib
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import orjson

from .. import formats
from ..config import Config
from ..pipeline import check
from ..records import Example, Message
from ..stages.base import InputFile

# images the page shows inline: data URIs of raster types only (an SVG can carry script; a remote URL
# would make the page fetch from the network)
_INLINE_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")
_WORDS = re.compile(r"\s+|[^\s]+")


def conversation(text: str) -> dict[str, Any]:
    """The record's turns, per part (conversation; chosen and rejected for preference pairs)."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        return {"error": f"not valid JSON: {e}", "sections": []}
    if not isinstance(data, dict):
        return {"error": f"expected a JSON object, found {type(data).__name__}", "sections": []}
    fmt = formats.detect(data)
    if fmt is None:
        return {"error": "record of no known format", "sections": []}
    example = Example(0, "", 1, b"", data=data)
    try:
        fmt.read(data, example)
    except Exception as e:  # noqa: BLE001  a malformed record still gets its raw JSON shown
        return {"error": f"cannot read as {fmt.name}: {e}", "format": fmt.name, "sections": []}
    sections = [{"title": "conversation", "messages": [_message(m, data) for m in example.messages or []]}]
    if example.chosen is not None:
        sections.append({"title": "chosen", "messages": [_message(m, data) for m in example.chosen]})
        sections.append({"title": "rejected", "messages": [_message(m, data) for m in example.rejected or []]})
    tools = [t.get("function", t).get("name") for t in example.tools or [] if isinstance(t, dict)]
    return {"format": fmt.name, "sections": sections, "tools": [t for t in tools if isinstance(t, str)]}


def _message(m: Message, data: dict) -> dict[str, Any]:
    calls = [{"name": c.name, "id": c.id,
              "arguments": c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments)}
             for c in m.tool_calls]
    # the page edits a turn in place only where its text is one string at its path (not parts, not
    # Alpaca's instruction and input joined); other records are edited as JSON
    editable = _at(data, m.content_path) == m.content and isinstance(m.content, str)
    return {"role": m.role or m.source_role or "?", "content": m.content, "name": m.name, "tool_calls": calls,
            "tool_call_id": m.tool_call_id, "images": [u for u in m.images if _INLINE_IMAGE.match(u)],
            "image_links": [u[:200] for u in m.images if not _INLINE_IMAGE.match(u)],
            "path": _PATH.findall(m.content_path) if editable else None}


_PATH = re.compile(r"[^.\[\]]+")


def _at(data: Any, path: str) -> Any:
    """The value at a field path such as messages[2].content, or None."""
    for step in _PATH.findall(path):
        try:
            data = data[int(step)] if isinstance(data, list) else data[step]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return data


def pretty(text: str) -> str:
    """The record as people edit it: indented JSON (the text as it is when it is not JSON)."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def word_diff(before: str, after: str) -> list[list[str]]:
    """[op, text] runs, op one of '=', '-', '+': what an edit changed, word by word."""
    a, b = _WORDS.findall(before), _WORDS.findall(after)
    runs: list[list[str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            runs.append(["=", "".join(a[i1:i2])])
            continue
        if i2 > i1:
            runs.append(["-", "".join(a[i1:i2])])
        if j2 > j1:
            runs.append(["+", "".join(b[j1:j2])])
    return runs


def recheck(text: str, config: Config, split: str = "train") -> tuple[str | None, list[dict[str, Any]]]:
    """An edited record checked by the same stages as the dataset: (its one-line form or None, findings).

    None means refused: it is not JSON, or the check found an error in it. Findings about the dataset as a
    whole (its size, its splits) are left out: one record alone says nothing about them."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as e:
        return None, [{"code": "F001", "name": "invalid-json", "severity": "error", "field": None,
                       "message": f"not valid JSON: {e}"}]
    # JSON strings cannot hold a raw line break, so every one here is whitespace between tokens
    line = text.replace("\r", " ").replace("\n", " ").strip()
    with tempfile.TemporaryDirectory(prefix="ftdata-edit-") as tmp:
        path = Path(tmp) / f"edit{'.' + split if split != 'train' else ''}.jsonl"
        path.write_text(line + "\n", encoding="utf-8")
        report = check([InputFile(str(path), split)], config.replace(jobs=1), jobs=1)
        found = [f for f in report.findings if f.line is not None]
    findings = [{"code": f.code, "name": f.name, "severity": f.severity, "field": f.field, "message": f.message}
                for f in found]
    if any(f.severity == "error" for f in found):
        return None, findings
    return orjson.dumps(orjson.loads(line)).decode(), findings
