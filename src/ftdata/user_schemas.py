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
_REFS = ("$ref", "$dynamicRef", "$recursiveRef")  # each resolved inside the schema, never fetched
# How deep subschemas may apply to one value before one descends into its parts (a reference, an allOf inside
# an anyOf ...): each such level costs recursion at every level of the value
MAX_IN_PLACE = 16
# Subschemas one value gets that way (an anyOf of two references to an anyOf of two ... doubles each time:
# 2**20 took jsonschema 3.5 minutes)
MAX_APPLIED = 10_000
# A value (tool arguments, an output) nesting deeper than this is not validated
MAX_VALUE_DEPTH = 128
# A pattern with lookaround or backreferences needs a backtracking engine: it gets this many steps per match
_BACKTRACK_LIMIT = 1_000_000


class UnusableSchema(Exception):
    """Why a schema cannot be validated with; the message reads after the schema's name."""


def _never_fetch(uri: str):
    raise NoSuchResource(ref=uri)


_OFFLINE = Registry(retrieve=_never_fetch)  # type: ignore[call-arg]


def compile_schema(schema: object) -> "UserSchema":
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
        return UserSchema(cls(schema))
    if {"patternProperties", "unevaluatedProperties"} <= set(_keys(schema)):
        # jsonschema finds the properties patterns evaluated with Python's `re`, which can run for hours
        raise UnusableSchema("uses unevaluatedProperties together with patternProperties, which ftdata cannot "
                             "check in bounded time (use additionalProperties)")
    dialect = specification_with(base.META_SCHEMA.get("$schema", ""),
                                 default=specification_with(jsonschema.Draft202012Validator.META_SCHEMA["$schema"]))
    registry = _OFFLINE.with_resource(_ROOT, dialect.create_resource(schema))
    resolver = registry.resolver(_ROOT)
    for keyword in _REFS:
        for ref in _keys(schema, keyword):
            if not ref.startswith("#"):
                raise UnusableSchema(f"refers to {ref!r} ({keyword}) outside the schema: providers need a schema that "
                                     "holds everything it refers to, and ftdata does not fetch it")
            try:
                resolver.lookup(ref)
            except Unresolvable:
                raise UnusableSchema(f"refers to {ref!r} ({keyword}), which points nowhere in the schema") from None
    in_place, applied, loop = _in_place(schema, resolver)
    if loop is not None:
        raise UnusableSchema(f"refers to {loop[1]!r} ({loop[0]}), which leads back to itself before checking any "
                             "part of a value: validating with it would never end")
    if in_place > MAX_IN_PLACE:
        raise UnusableSchema(f"applies subschemas {in_place} deep to one value (references, allOf, anyOf, not and "
                             f"the like inside one another), more than the {MAX_IN_PLACE} ftdata validates with")
    if applied > MAX_APPLIED:
        raise UnusableSchema(f"applies more than {MAX_APPLIED:,} subschemas to one value (anyOf, allOf, oneOf and "
                             "references repeated inside one another): validating with it could take hours")
    return UserSchema(cls(schema, registry=registry), in_place)


class UserSchema:
    """A user's schema compiled: `iter_errors(value)` validates with the recursion it needs."""

    def __init__(self, validator: jsonschema.protocols.Validator, in_place: int = 0):
        self.validator, self.schema, self._in_place = validator, validator.schema, in_place

    def iter_errors(self, value: object) -> list[jsonschema.ValidationError]:
        """Every error of `value`; for a value nesting more than MAX_VALUE_DEPTH levels, one saying so."""
        levels = depth(value, MAX_VALUE_DEPTH)
        if levels > MAX_VALUE_DEPTH:
            return [jsonschema.ValidationError(f"the value nests more than {MAX_VALUE_DEPTH} levels deep: not validated")]
        # at each level of the value, subschemas applied in place, then the schema's own nesting once
        with room((levels + 1) * (self._in_place + 1) + depth(self.schema, 10_000)):
            return list(self.validator.iter_errors(value))


# Keywords whose subschemas apply to the same value (a $ref among them loops without descending into it)
_IN_PLACE = {"allOf": list, "anyOf": list, "oneOf": list, "not": dict, "if": dict, "then": dict, "else": dict,
             "dependentSchemas": "values", "dependencies": "values"}


def _in_place(schema: dict, resolver) -> tuple[int, int, tuple[str, str] | None]:
    """Along chains of references and in-place subschemas (allOf, not, if, ...), which apply to one value
    before any descends into its parts: how deep they go, how many subschemas one value gets (counted up to
    MAX_APPLIED + 1), and the first reference a chain leads back to ({"$ref": "#"} at the root, A -> B -> A),
    on which jsonschema would recurse forever whatever the value. Walked without recursion."""
    def following(node: dict) -> list[tuple[object, tuple[str, str] | None]]:
        after: list[tuple[object, tuple[str, str] | None]] = []
        for keyword in _REFS:  # a dynamic reference taken where it points statically
            if isinstance(ref := node.get(keyword), str):
                after.append((resolver.lookup(ref).contents, (keyword, ref)))
        for key, shape in _IN_PLACE.items():
            value = node.get(key)
            if shape is list and isinstance(value, list):
                after += [(sub, None) for sub in value]
            elif shape is dict and isinstance(value, dict):
                after.append((value, None))
            elif shape == "values" and isinstance(value, dict):
                after += [(sub, None) for sub in value.values()]
        return [(sub, ref) for sub, ref in after if isinstance(sub, dict)]

    deepest: dict[int, int] = {}  # a node's deepest chain, once every chain from it is walked
    applied: dict[int, int] = {}
    for start in _nodes(schema):
        if id(start) in deepest:
            continue
        on_path, stack = {id(start)}, [(start, following(start), 0, None)]
        while stack:
            node, children, index, via = stack[-1]
            if index == len(children):
                stack.pop()
                on_path.discard(id(node))
                deepest[id(node)] = max((deepest[id(c)] + 1 for c, _ in children), default=0)
                applied[id(node)] = min(1 + sum(applied[id(c)] for c, _ in children), MAX_APPLIED + 1)
                continue
            stack[-1] = (node, children, index + 1, via)
            child, ref = children[index]
            if id(child) in on_path:  # a loop: name the last reference on it
                return 0, 0, ref or next(r for *_, r in reversed(stack) if r)
            if id(child) not in deepest:
                on_path.add(id(child))
                stack.append((child, following(child), 0, ref))
    return max(deepest.values(), default=0), max(applied.values(), default=0), None


def _nodes(schema: object) -> Iterator[dict]:
    """Every object in a schema, walked without recursion."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


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
