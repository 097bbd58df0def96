"""MeetKai functionary's training records: OpenAI-style `messages` and `tools` with functionary's own conventions.

Its trainer (functionary/train, prompt templates in functionary/prompt_template) reads a record's `messages` and
`tools` (or `functions`) and differs from OpenAI's format in four ways, all read here:

- tool calls carry neither an id nor a type (`{"function": {"name", "arguments"}}`), and tool results name the
  function instead of a tool_call_id: "in training we have no tool_call_id" (base_template.py);
- `{"type": "code_interpreter"}` in `tools` offers the built-in `python` tool, whose call arguments are the code
  itself, not JSON (the v3 templates write them after `<|python_tag|>`). The canonical record declares it as a
  `python` function taking `{"code": ...}`, which is how an OpenAI-format file can hold it;
- an assistant message with `metadata: {"masked": true}` is left out of the loss: weight 0;
- vision records give `image_url` as a bare string, and the image file in `metainfo.img_path` (of the record, as
  its vision dataset reads it: the first user message's; or of a message, as its test case writes it): read as an
  image where no content part names one.

A record is read as functionary when it uses one of these (a call with neither id nor type, a code_interpreter
tool, a masked message, `metainfo`); one that uses none is a plain openai-chat record, which functionary's
trainer reads as well, so both may share a file.
"""

import json
from typing import Any

from ..records import Example, ToolCall
from .base import Format, read_openai_messages, write_openai_messages

CODE_TOOL = "python"
CODE_INTERPRETER = {"type": "function", "function": {
    "name": CODE_TOOL, "description": "Run Python code in functionary's code interpreter (a stateful notebook)",
    "parameters": {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}}}


def is_functionary(data: dict) -> bool:
    if "metainfo" in data:
        return True
    tools = data.get("tools")
    if isinstance(tools, list) and any(isinstance(t, dict) and t.get("type") == "code_interpreter" for t in tools):
        return True
    messages = data.get("messages")
    for m in messages if isinstance(messages, list) else ():
        if not isinstance(m, dict):
            continue
        if "metainfo" in m or (isinstance(m.get("metadata"), dict) and "masked" in m["metadata"]):
            return True
        calls = m.get("tool_calls")
        if isinstance(calls, list) and any(isinstance(c, dict) and "id" not in c and "type" not in c for c in calls):
            return True
    return False


def _read(data: dict, example: Example) -> None:
    raw = data.get("messages")
    example.messages = read_openai_messages(raw, "messages")
    for m, written in zip(example.messages, raw if isinstance(raw, list) else []):
        if not isinstance(written, dict):
            continue
        metadata, metainfo = written.get("metadata"), written.get("metainfo")
        if m.role == "assistant" and isinstance(metadata, dict) and metadata.get("masked") is True:
            m.weight = 0
        if not m.images and isinstance(metainfo, dict) and isinstance(metainfo.get("img_path"), str):
            m.images = [metainfo["img_path"]]
    record_image = data["metainfo"].get("img_path") if isinstance(data.get("metainfo"), dict) else None
    first_user = next((m for m in example.messages if m.role == "user"), None)
    if isinstance(record_image, str) and first_user and not any(m.images for m in example.messages):
        first_user.images = [record_image]
    tools = data.get("tools")
    if isinstance(tools, list):
        example.tools = [CODE_INTERPRETER if isinstance(t, dict) and t.get("type") == "code_interpreter" else t
                         for t in tools]
    elif isinstance(data.get("functions"), list):
        example.tools = [{"type": "function", "function": f} for f in data["functions"]]
    if example.tools and CODE_INTERPRETER in example.tools:
        for m in example.messages:
            m.tool_calls = [_code_call(c) if c.name == CODE_TOOL else c for c in m.tool_calls]


def _code_call(call: ToolCall) -> ToolCall:
    """The interpreter's call as a function call: its code (the whole arguments string) under `code`."""
    if not isinstance(call.arguments, str):
        return call  # not code: left for the tool rules to report
    return ToolCall(call.id, call.name, json.dumps({"code": call.arguments}, ensure_ascii=False), call.path)


def _write(example: Example) -> tuple[dict, list[str]]:
    messages = example.messages or []
    dropped = []
    if example.is_preference:
        messages = messages + (example.chosen or [])
        dropped.append("the rejected answer (a functionary record holds one answer)")
    code = bool(example.tools) and CODE_INTERPRETER in example.tools
    written = write_openai_messages(messages)
    names = {c["id"]: c["function"]["name"] for m in written for c in m.get("tool_calls", [])}
    for m, source in zip(written, messages):
        for call in m.get("tool_calls", []):
            del call["id"], call["type"]
            if code and call["function"]["name"] == CODE_TOOL:
                call["function"]["arguments"] = _code_of(call["function"]["arguments"])
        answered = m.pop("tool_call_id", None)
        if m["role"] == "tool" and "name" not in m and answered in names:
            m["name"] = names[answered]
        if m.pop("weight", None) == 0 and source.role == "assistant":
            m["metadata"] = {"masked": True}
        elif source.weight not in (None, 1):
            dropped.append(f"{source.path}.weight (functionary masks a turn or trains on it: weight 0 or 1)")
    out: dict[str, Any] = {"messages": written}
    if example.tools:
        out["tools"] = [{"type": "code_interpreter"} if t == CODE_INTERPRETER else t for t in example.tools]
    return out, dropped


def _code_of(arguments: Any) -> Any:
    try:
        value = json.loads(arguments)
    except (TypeError, ValueError):
        return arguments
    return value["code"] if isinstance(value, dict) and isinstance(value.get("code"), str) else arguments


FUNCTIONARY = Format(
    name="functionary",
    keys=("messages",),
    fields=("messages", "tools", "functions"),
    read=_read,
    write=_write,
    match=is_functionary,
    dialect_of="openai-chat",
)

__all__ = ["FUNCTIONARY", "is_functionary"]
