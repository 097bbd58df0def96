"""Format JSON Schemas from `rules/schemas/`, and validation that names every problem's field.

Schemas refer to shared definitions as `common.schema.json#/$defs/NAME`; those references are
inlined at load time, so each compiled schema is self-contained. A compiled check (jsonschema-rs,
in Rust) clears valid records quickly; only an invalid one is walked by jsonschema to list all its
errors, in the words `_describe` gives them.
"""

import difflib
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import jsonschema_rs

from .resources import rules_dir

# jsonschema keyword -> rule code; anything else is a generic schema violation.
_CODE_OF = {"required": "S003", "type": "S004", "additionalProperties": "S005", "enum": "S006", "const": "S006"}
_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
               float: "a number", type(None): "null"}


@cache
def _raw(name: str) -> dict:
    with (rules_dir() / "schemas" / f"{name}.schema.json").open() as f:
        return json.load(f)


def _inline(node: Any) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and "#/$defs/" in ref:
            file, _, definition = ref.partition("#/$defs/")
            return _inline(_raw(file.removesuffix(".schema.json"))["$defs"][definition])
        return {k: _inline(v) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v) for v in node]
    return node


@cache
def schema(format_name: str) -> dict:
    return _inline(_raw(format_name))


@cache
def _compiled(format_name: str):
    return jsonschema_rs.validator_for(schema(format_name))


@cache
def _validator(format_name: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(schema(format_name))


def field_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def is_valid(format_name: str, data: dict) -> bool:
    """Whether `data` fits the format's schema: the compiled check, which every record pays."""
    return _compiled(format_name).is_valid(data)


def validate(format_name: str, data: dict) -> Iterator[tuple[str, str | None, str]]:
    """(code, field path, message) for every way `data` breaks the format's schema: the slow, exact
    diagnosis, for a record that `is_valid` refused."""
    seen = set()  # jsonschema reports each missing key of an object apart, and _describe names them all at once
    for error in sorted(_validator(format_name).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        for problem in _describe(error):
            if problem not in seen:
                seen.add(problem)
                yield problem


def _describe(error: jsonschema.ValidationError) -> Iterator[tuple[str, str | None, str]]:
    where = field_path(error.absolute_path)
    keyword = error.validator
    code = _CODE_OF.get(str(keyword), "S007")
    if keyword == "required":
        known = set(error.instance) if isinstance(error.instance, dict) else set()
        for key in error.validator_value:
            if key not in known:
                yield code, _join(where, key), f"missing required field {key!r}"
    elif keyword == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        for key in error.instance:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f"; expected one of {', '.join(allowed)}"
                yield code, _join(where, key), f"unknown key {key!r}{hint}"
    elif keyword == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        found = _TYPE_NAMES.get(type(error.instance), type(error.instance).__name__)
        yield code, where or None, f"expected {' or '.join(expected)}, found {found} {_short(error.instance)}"
    elif keyword in ("enum", "const"):
        options = error.validator_value if keyword == "enum" else [error.validator_value]
        yield code, where or None, f"expected one of {', '.join(map(repr, options))}, found {_short(error.instance)}"
    else:
        yield code, where or None, error.message


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
