"""JSON Schemas that users give (a record's tool `parameters`, `--output-schema`), made safe to validate with.

A user's schema is untrusted input: its `$ref`s are resolved inside the schema only (one that points nowhere
or outside it is reported, never downloaded), its regular expressions (`pattern`, the keys of
`patternProperties`, which `additionalProperties` also reads) are matched by a linear-time engine (Python's
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
    if {"patternProperties", "unevaluatedProperties"} <= set(_keys(schema)):
        # jsonschema finds the properties patterns evaluated with Python's `re`, which can run for hours
        raise UnusableSchema("uses unevaluatedProperties together with patternProperties, which ftdata cannot "
                             "check in bounded time (use additionalProperties)")
    dialect = specification_with(base.META_SCHEMA.get("$schema", ""),
                                 default=specification_with(jsonschema.Draft202012Validator.META_SCHEMA["$schema"]))
    registry = _OFFLINE.with_resource(_ROOT, dialect.create_resource(schema))
    resolver = registry.resolver(_ROOT)
    for ref in _keys(schema, "$ref"):
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


def _keys(schema: object, value_of: str | None = None) -> Iterator[str]:
    """Every key of every object in a schema, or with `value_of` every string value of that key (every
    $ref); walked without recursion."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if value_of is None:
                yield from node
            elif isinstance(found := node.get(value_of), str):
                yield found
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


@cache
def _linear(cls: type) -> type:
    return jsonschema.validators.extend(cls, {"pattern": _pattern, "patternProperties": _pattern_properties,
                                              "additionalProperties": _additional_properties})


def _unusable(pattern: str, where: str = "pattern") -> jsonschema.ValidationError:
    return jsonschema.ValidationError(f"{where} {pattern!r} is not an ECMA 262 regular expression ftdata can match")


def _pattern(validator, pattern: str, instance: object, schema: dict):
    if not validator.is_type(instance, "string"):
        return
    matcher = linear_matcher(pattern)
    if matcher is None:
        yield _unusable(pattern)
    elif not matcher.is_valid(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns: dict, instance: object, schema: dict):
    """jsonschema's patternProperties, its patterns matched by the linear-time engine."""
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        matcher = linear_matcher(pattern)
        if matcher is None:
            yield _unusable(pattern, "patternProperties")
            continue
        for key, value in instance.items():
            if matcher.is_valid(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, allowed: object, instance: object, schema: dict):
    """jsonschema's additionalProperties, the keys that patternProperties covers found by the linear-time
    engine (a pattern it cannot match is reported by patternProperties, and covers no key here)."""
    if not validator.is_type(instance, "object"):
        return
    matchers = [m for p in schema.get("patternProperties", {}) if (m := linear_matcher(p)) is not None]
    properties = schema.get("properties", {})
    extras = [key for key in instance if key not in properties and not any(m.is_valid(key) for m in matchers)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        if "patternProperties" in schema:  # jsonschema's messages
            patterns = ", ".join(repr(p) for p in sorted(schema["patternProperties"]))
            yield jsonschema.ValidationError(f"{', '.join(repr(e) for e in sorted(extras))} "
                                             f"{'does' if len(extras) == 1 else 'do'} not match any of the regexes: {patterns}")
        else:
            yield jsonschema.ValidationError(f"Additional properties are not allowed ({', '.join(map(repr, sorted(extras)))} "
                                             f"{'was' if len(extras) == 1 else 'were'} unexpected)")


@lru_cache(maxsize=1024)
def linear_matcher(pattern: str):
    """A jsonschema-rs validator of {"pattern": pattern} (`is_valid(text)`: whether the pattern occurs in
    text): the linear-time regex engine, or for lookaround and backreferences the backtracking one within a
    step budget; None for a pattern neither takes."""
    for options in (jsonschema_rs.RegexOptions(), jsonschema_rs.FancyRegexOptions(backtrack_limit=_BACKTRACK_LIMIT)):
        try:
            return jsonschema_rs.validator_for({"pattern": pattern}, pattern_options=options)
        except jsonschema_rs.ValidationError:
            continue
    return None
