"""JSON Schemas that users give (a record's tool `parameters`, `--output-schema`), made safe to validate with.

A user's schema is untrusted input: its `$ref`s are resolved inside the schema only (one that points nowhere
or outside it is reported, never downloaded), its `pattern`s are matched by a linear-time engine (Python's
`re` backtracks for minutes on ^(a+)+$ and a short string), and deep nesting gets the recursion it needs
within a bound the caller checks with `depth`.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache

import jsonschema
import jsonschema_rs
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import specification_with

_ROOT = "urn:ftdata:user-schema"
# A pattern with lookaround or backreferences needs a backtracking engine: it gets this many steps per match
_BACKTRACK_LIMIT = 1_000_000


class UnusableSchema(Exception):
    """Why a schema cannot be validated with; the message reads after the schema's name."""


def _never_fetch(uri: str):
    raise NoSuchResource(ref=uri)


_OFFLINE = Registry(retrieve=_never_fetch)  # type: ignore[call-arg]


def compile_schema(schema: object) -> jsonschema.protocols.Validator:
    """A validator for `schema`, every `$ref` resolved; UnusableSchema when it is invalid or refers outside."""
    try:
        base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        with room(depth(schema, 10_000)):
            base.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise UnusableSchema(f"is not a valid JSON Schema: {e.message}") from None
    except TypeError:
        raise UnusableSchema("is not a valid JSON Schema") from None
    cls = _linear(base)
    if not isinstance(schema, dict):  # true or false: nothing to resolve
        return cls(schema)
    dialect = specification_with(base.META_SCHEMA.get("$schema", ""),
                                 default=specification_with(jsonschema.Draft202012Validator.META_SCHEMA["$schema"]))
    registry = _OFFLINE.with_resource(_ROOT, dialect.create_resource(schema))
    resolver = registry.resolver(_ROOT)
    for ref in _refs(schema):
        if not ref.startswith("#"):
            raise UnusableSchema(f"refers to {ref!r} ($ref) outside the schema: providers need a schema that holds "
                                 "everything it refers to, and ftdata does not fetch it")
        try:
            resolver.lookup(ref)
        except Unresolvable:
            raise UnusableSchema(f"refers to {ref!r} ($ref), which points nowhere in the schema") from None
    return cls(schema, registry=registry)


def depth(value: object, limit: int) -> int:
    """How many levels of objects and arrays `value` nests, counted up to limit + 1, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


@contextmanager
def room(levels: int):
    """Enough recursion for jsonschema to walk `levels` nested levels (it takes about a dozen frames each)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 1_000 + 16 * levels))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _refs(schema: object) -> Iterator[str]:
    """Every $ref string in a schema, walked without recursion."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


@cache
def _linear(cls: type) -> type:
    return jsonschema.validators.extend(cls, {"pattern": _pattern})


def _pattern(validator, pattern: str, instance: object, schema: dict):
    if not validator.is_type(instance, "string"):
        return
    matcher = _matcher(pattern)
    if matcher is None:
        yield jsonschema.ValidationError(f"pattern {pattern!r} is not an ECMA 262 regular expression ftdata can match")
    elif not matcher.is_valid(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=1024)
def _matcher(pattern: str):
    """A jsonschema-rs validator of {"pattern": pattern}: the linear-time regex engine, or for lookaround and
    backreferences the backtracking one within a step budget."""
    for options in (jsonschema_rs.RegexOptions(), jsonschema_rs.FancyRegexOptions(backtrack_limit=_BACKTRACK_LIMIT)):
        try:
            return jsonschema_rs.validator_for({"pattern": pattern}, pattern_options=options)
        except jsonschema_rs.ValidationError:
            continue
    return None
