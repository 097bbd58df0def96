"""ShareGPT conversations (`conversations` of `from`/`value`), as FastChat and LLaMA-Factory use them.

LLaMA-Factory's tool-calling flavour writes a call as a `function_call` turn whose value is a JSON
string `{"name", "arguments"}`, the result as an `observation` turn, and declares `tools` as a JSON
string; all three map onto the canonical tool-call fields.
"""

import dataclasses
import json
from typing import Any

from ..records import Example, Message, ToolCall
from .base import Format, message_paths, place_images, plain_turns

ROLE_OF = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system",
           "function_call": "assistant", "observation": "tool", "tool": "tool", "function": "tool"}
FROM_OF = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}


def _read_turn(turn: Any, path: str, value_path: str) -> Message:
    if not isinstance(turn, dict):
        return Message(role="", content="", path=path, content_path=path, has_content=False)
    source = turn.get("from") if isinstance(turn.get("from"), str) else ""
    value = turn.get("value")
    text = value if isinstance(value, str) else ""
    message = Message(role=ROLE_OF.get(source, source), content=text, path=path, content_path=value_path,
                      source_role=source, has_content=isinstance(value, str))
    if source == "function_call":
        message.content, message.has_content = "", False
        try:
            call = json.loads(text)
        except ValueError:
            call = None
        call = call if isinstance(call, dict) else {}
        arguments = call.get("arguments")
        if not isinstance(arguments, str) and arguments is not None:
            arguments = json.dumps(arguments, ensure_ascii=False)
        message.tool_calls = [ToolCall(None, call.get("name"), arguments if call else text, f"{path}.value")]
    return message


def _read(data: dict, example: Example) -> None:
    turns = data.get("conversations")
    messages = ([_read_turn(t, *where) for t, where in zip(turns, message_paths("conversations", len(turns), "value"))]
                if isinstance(turns, list) else [])
    if isinstance(data.get("system"), str):
        messages.insert(0, Message("system", data["system"], "system", "system", source_role="system"))
    if "images" in data:  # LLaMA-Factory's column, with `<image>` markers in the turns
        place_images(messages, data["images"])
    example.messages = messages
    tools = data.get("tools")
    if isinstance(tools, str) and tools.strip():
        try:
            tools = json.loads(tools)
        except ValueError:
            tools = None
    if isinstance(tools, list):
        example.tools = [t if "function" in t else {"type": "function", "function": t} for t in tools if isinstance(t, dict)]


def _write_turns(messages: list[Message], column: list[str] | None = None) -> tuple[list[dict], str | None, list[str]]:
    """ShareGPT turns; the images of a message whose images all stand at `<image>` markers go to `column`,
    LLaMA-Factory's `images`, when one is given (others are reported as dropped)."""
    turns, system, dropped = [], None, []
    for m in messages:
        if column is not None and m.marks and m.marks == len(m.images):
            column += m.images
            m = dataclasses.replace(m, images=(), marks=0)
        if m.role == "system" and not turns and system is None:
            system = m.content
            continue
        for call in m.tool_calls:
            arguments = call.arguments
            try:
                arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
            except ValueError:
                pass
            turns.append({"from": "function_call", "value": json.dumps({"name": call.name, "arguments": arguments}, ensure_ascii=False)})
        if not m.tool_calls:
            turns.append({"from": FROM_OF.get(m.role, m.role), "value": m.content})
        elif m.content:
            dropped.append(f"{m.path}: the text beside its tool call (a function_call turn holds the call only)")
        dropped += [d for d in plain_turns([m]) if not d.endswith("tool calls")]
    return turns, system, dropped


def _write(example: Example) -> tuple[dict, list[str]]:
    if example.is_preference:
        return _write_preference(example)
    images: list[str] = []
    turns, system, dropped = _write_turns(example.messages or [], images)
    out: dict[str, Any] = {"conversations": turns}
    if system is not None:
        out["system"] = system
    if images:
        out["images"] = images
    if example.tools:
        out["tools"] = json.dumps([t.get("function", t) for t in example.tools], ensure_ascii=False)
    return out, dropped


def _read_preference(data: dict, example: Example) -> None:
    _read(data, example)
    example.chosen = [_read_turn(data.get("chosen"), "chosen", "chosen.value")]
    example.rejected = [_read_turn(data.get("rejected"), "rejected", "rejected.value")]


def _write_preference(example: Example) -> tuple[dict, list[str]]:
    if not example.is_preference:
        return {}, ["everything: the source record is not a preference pair"]
    turns, system, dropped = _write_turns(example.messages or [])
    out: dict[str, Any] = {"conversations": turns}
    if system is not None:
        out["system"] = system
    for key, answer in (("chosen", example.chosen or []), ("rejected", example.rejected or [])):
        answer_turns, _, answer_dropped = _write_turns(answer)
        if len(answer_turns) != 1:
            dropped.append(f"{key}: {len(answer_turns)} turns, ShareGPT pairs hold exactly one")
        out[key] = answer_turns[0] if answer_turns else {"from": "gpt", "value": ""}
        dropped += answer_dropped
    return out, dropped


SHAREGPT = Format(
    name="sharegpt",
    keys=("conversations",),
    fields=("conversations", "system", "tools", "images"),
    read=_read,
    write=_write,
)
SHAREGPT_PREFERENCE = Format(
    name="sharegpt-preference",
    keys=("conversations", "chosen", "rejected"),
    fields=("conversations", "system", "tools", "chosen", "rejected"),
    read=_read_preference,
    write=_write_preference,
    preference=True,
)
