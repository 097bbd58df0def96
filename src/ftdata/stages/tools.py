"""Tool calls: every call answered, ids and names well formed, arguments valid JSON that fits the
declared function's parameter schema."""

import json
from collections.abc import Iterator

import jsonschema
from referencing.exceptions import Unresolvable

from ..errors import UsageError
from ..records import Example, Message, ToolCall
from ..user_schemas import UnusableSchema, compile_schema, depth, linear_matcher, room
from .base import Problem, Stage

# Schemas and arguments deeper than this are reported (T011), not walked: jsonschema recurses once per level
# (about a dozen frames each), and arguments are a string that may hold any depth.
MAX_DEPTH = 128


class ToolsStage(Stage):
    name = "tools"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.rules = ctx.target["tools"]
        self.id_pattern = self._whole_match("id_pattern")
        self.name_pattern = self._whole_match("name_pattern")
        # by schema text: a validator, or why the schema cannot be used (T008: invalid; T011: not walked)
        self._validators: dict[str, jsonschema.protocols.Validator | tuple[str, str]] = {}

    def _whole_match(self, key: str):
        """The target's pattern for a whole id or name, matched in linear time (a target file can be the
        user's own, and Python's `re` can backtrack for hours); None when the target sets none."""
        pattern = self.rules[key]
        if not pattern:
            return None
        matcher = linear_matcher(f"^(?:{pattern})$")
        if matcher is None:
            raise UsageError(f"target {self.ctx.target.name}: tools.{key} {pattern!r} is not a regular expression "
                             "ftdata can match (ECMA 262, as in JSON Schema)")
        return matcher

    def check(self, example: Example) -> Iterator[Problem]:
        messages = example.messages or []
        if example.chosen:
            messages = messages + example.chosen
        if not example.tools:  # most records have no tools at all: a plain loop says so fastest
            for m in messages:
                if m.tool_calls or m.role == "tool" or m.role == "function":
                    break
            else:
                return
        calls = [(m, c) for m in messages for c in m.tool_calls]
        if not self.rules["allowed"]:
            yield Problem("T009", f"target {self.ctx.target.name} does not train on tool calls")
            return
        if not self.rules["content_with_calls"]:
            for m in messages:
                if m.tool_calls and m.content.strip():
                    yield Problem("T010", f"{m.role} message has both text and tool calls; target "
                                          f"{self.ctx.target.name} takes one or the other", m.content_path)
        for m in messages:
            if m.role == "function" and not m.name:
                yield Problem("T004", "function message has no name: it must name the function whose result it holds",
                              m.path)
        declared: dict[str, jsonschema.protocols.Validator | None] = {}
        for name, validator, problem in self._declared(example):
            declared[name] = validator
            if problem is not None:
                yield problem
        for message, call in calls:
            yield from self._call(call, declared)
        if self.rules["require_response"]:
            yield from self._responses(messages)

    def _declared(self, example: Example) -> Iterator[tuple[str, jsonschema.protocols.Validator | None, Problem | None]]:
        """Each declared function's name, its parameters' validator (None when there is none to use), and
        what is wrong with its parameters."""
        for i, tool in enumerate(example.tools or []):
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                continue
            name, parameters = function["name"], function.get("parameters")
            missing = [k for k in self.rules["function_keys"] if k not in function]
            if missing:
                yield name, None, Problem("T012", f"function {name!r} has no {' and no '.join(missing)}; target "
                                                  f"{self.ctx.target.name} needs {', '.join(self.rules['function_keys'])}",
                                          f"tools[{i}].function")
            if parameters is None:
                yield name, None, None
                continue
            validator = self._validator(parameters)
            if isinstance(validator, tuple):
                code, why = validator
                yield name, None, Problem(code, f"the parameters schema of {name!r} {why}", f"tools[{i}].function.parameters")
            else:
                yield name, validator, None

    def _validator(self, parameters: object) -> "jsonschema.protocols.Validator | tuple[str, str]":
        levels = depth(parameters, MAX_DEPTH)
        if levels > MAX_DEPTH:
            return "T011", f"nest more than {MAX_DEPTH} levels deep: not checked, and calls to it not validated"
        key = json.dumps(parameters, sort_keys=True, default=str)
        if key not in self._validators:
            try:
                self._validators[key] = compile_schema(parameters)
            except UnusableSchema as e:
                self._validators[key] = ("T008", str(e))
        return self._validators[key]

    def _call(self, call: ToolCall, declared: dict[str, jsonschema.protocols.Validator | None]) -> Iterator[Problem]:
        if call.id is None and self.rules["id_required"] and not call.path.endswith("function_call"):
            yield Problem("T003", "tool call has no id", call.path)
        elif call.id is not None and self.id_pattern and not (isinstance(call.id, str) and self.id_pattern.is_valid(call.id)):
            yield Problem("T003", f"tool-call id {call.id!r} does not match {self.rules['id_pattern']}", f"{call.path}.id")
        if not isinstance(call.name, str) or (self.name_pattern and not self.name_pattern.is_valid(call.name)):
            yield Problem("T004", f"function name {call.name!r} does not match {self.rules['name_pattern']}", f"{call.path}.function.name")
        where = call.path if call.path.endswith(".value") else f"{call.path}.function.arguments"
        if isinstance(call.arguments, dict) and not self.rules["arguments_string"]:
            arguments = call.arguments  # Hugging Face / TRL chat templates take the object itself
        elif not isinstance(call.arguments, str):
            yield Problem("T005", f"arguments must be a JSON string, found {type(call.arguments).__name__}", where)
            return
        else:
            try:
                arguments = json.loads(call.arguments)
            except ValueError as e:
                yield Problem("T005", f"arguments are not valid JSON: {e}", where)
                return
            except RecursionError:  # json.loads recurses once per level
                yield Problem("T011", f"arguments of {call.name!r} nest too deeply to read: not validated", where)
                return
        if not isinstance(arguments, dict):
            yield Problem("T005", "arguments must be a JSON object", where)
            return
        if (declared or self.rules["require_declared"]) and call.name not in declared:
            offered = f"declared: {', '.join(sorted(declared))}" if declared else "none declared"
            yield Problem("T007", f"call to {call.name!r}, which the record's tools do not declare ({offered})",
                          f"{call.path}.function.name")
            return
        validator = declared.get(call.name)
        if self.rules["validate_arguments"] and validator is not None:
            yield from self._validate(call, validator, arguments, where)

    def _validate(self, call: ToolCall, validator: jsonschema.protocols.Validator, arguments: dict,
                  where: str) -> Iterator[Problem]:
        levels = depth(arguments, MAX_DEPTH)
        if levels > MAX_DEPTH:
            yield Problem("T011", f"arguments of {call.name!r} nest more than {MAX_DEPTH} levels deep: not validated", where)
            return
        try:
            with room(levels + depth(validator.schema, MAX_DEPTH)):
                errors = sorted(validator.iter_errors(arguments), key=lambda e: list(map(str, e.absolute_path)))[:3]
        except Unresolvable as e:  # a reference only reached through the arguments ($dynamicRef and the like)
            yield Problem("T008", f"parameters of {call.name!r}: $ref {getattr(e, 'ref', str(e))!r} cannot be resolved", where)
            return
        for error in errors:
            inner = ".".join(map(str, error.absolute_path))
            yield Problem("T006", f"arguments of {call.name!r}{' at ' + inner if inner else ''}: {error.message}", where)

    def _responses(self, messages: list[Message]) -> Iterator[Problem]:
        open_calls: list[ToolCall] = []
        for m in messages:
            if m.role == "tool":
                if m.tool_call_id is None and self.rules["id_required"] and any(c.id for c in open_calls):
                    # a call without an id is reported itself; its result cannot name what does not exist
                    yield Problem("T003", f"tool message has no tool_call_id; target {self.ctx.target.name} matches "
                                          "each result to its call by id", m.path)
                match = next((c for c in open_calls if m.tool_call_id is None or c.id == m.tool_call_id), None)
                if match is None:
                    what = f"tool_call_id {m.tool_call_id!r}" if m.tool_call_id else "no pending call"
                    yield Problem("T002", f"tool message answers no earlier call ({what})", m.path)
                else:
                    open_calls.remove(match)
            elif m.role != "function":
                if open_calls and (m.tool_calls or m.role == "user" or m.content.strip()):
                    yield from self._unanswered(open_calls)
                    open_calls = []
                open_calls += [c for c in m.tool_calls if not c.path.endswith("function_call")]
        if open_calls and messages and messages[-1].role != "assistant":
            yield from self._unanswered(open_calls)

    def _unanswered(self, calls: list[ToolCall]) -> Iterator[Problem]:
        for call in calls:
            yield Problem("T001", f"tool call {call.id or call.name!r} is never answered by a tool message", call.path)

