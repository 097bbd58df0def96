"""Tool calls: every call answered, ids and names well formed, arguments valid JSON that fits the
declared function's parameter schema."""

import json
import re
from collections.abc import Iterator

import jsonschema

from ..records import Example, Message, ToolCall
from .base import Problem, Stage


class ToolsStage(Stage):
    name = "tools"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.rules = ctx.target["tools"]
        self.id_pattern = re.compile(self.rules["id_pattern"]) if self.rules["id_pattern"] else None
        self.name_pattern = re.compile(self.rules["name_pattern"]) if self.rules["name_pattern"] else None
        self._validators: dict[str, jsonschema.protocols.Validator | None] = {}  # by schema text

    def check(self, example: Example) -> Iterator[Problem]:
        messages = example.messages or []
        if example.chosen:
            messages = messages + example.chosen
        if not example.tools:  # most records have no tools at all: a plain loop says so fastest
            for m in messages:
                if m.tool_calls or m.role == "tool":
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
        declared = dict(self._declared(example))
        for name, problem in declared.items():
            if isinstance(problem, Problem):
                yield problem
        for message, call in calls:
            yield from self._call(call, declared)
        if self.rules["require_response"]:
            yield from self._responses(messages)

    def _declared(self, example: Example) -> Iterator[tuple[str, object]]:
        for i, tool in enumerate(example.tools or []):
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                continue
            parameters = function.get("parameters")
            validator = self._validator(parameters) if parameters is not None else None
            if parameters is not None and validator is None:
                yield function["name"], Problem("T008", f"parameters of {function['name']!r} is not a valid JSON Schema", f"tools[{i}].function.parameters")
            else:
                yield function["name"], validator

    def _validator(self, parameters: object) -> jsonschema.protocols.Validator | None:
        key = json.dumps(parameters, sort_keys=True, default=str)
        if key not in self._validators:
            try:
                cls = jsonschema.validators.validator_for(parameters, default=jsonschema.Draft202012Validator)
                cls.check_schema(parameters)
                self._validators[key] = cls(parameters)
            except (jsonschema.SchemaError, TypeError):
                self._validators[key] = None
        return self._validators[key]

    def _call(self, call: ToolCall, declared: dict[str, object]) -> Iterator[Problem]:
        if call.id is None and self.rules["id_required"] and not call.path.endswith("function_call"):
            yield Problem("T003", "tool call has no id", call.path)
        elif call.id is not None and self.id_pattern and not self.id_pattern.fullmatch(call.id):
            yield Problem("T003", f"tool-call id {call.id!r} does not match {self.id_pattern.pattern}", f"{call.path}.id")
        if not isinstance(call.name, str) or (self.name_pattern and not self.name_pattern.fullmatch(call.name)):
            yield Problem("T004", f"function name {call.name!r} does not match {self.rules['name_pattern']}", f"{call.path}.function.name")
        where = call.path if call.path.endswith(".value") else f"{call.path}.function.arguments"
        if not isinstance(call.arguments, str):
            yield Problem("T005", f"arguments must be a JSON string, found {type(call.arguments).__name__}", where)
            return
        try:
            arguments = json.loads(call.arguments)
        except ValueError as e:
            yield Problem("T005", f"arguments are not valid JSON: {e}", where)
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
        if self.rules["validate_arguments"] and isinstance(validator, jsonschema.protocols.Validator):
            for error in sorted(validator.iter_errors(arguments), key=lambda e: list(map(str, e.absolute_path)))[:3]:
                inner = ".".join(map(str, error.absolute_path))
                yield Problem("T006", f"arguments of {call.name!r}{' at ' + inner if inner else ''}: {error.message}", where)

    def _responses(self, messages: list[Message]) -> Iterator[Problem]:
        open_calls: list[ToolCall] = []
        for m in messages:
            if m.role == "tool":
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
