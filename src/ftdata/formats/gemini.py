"""Vertex AI / Gemini tuning records: `contents` of `role` + `parts`, optional `systemInstruction`; and
Vertex's legacy text-model tuning records, `input_text` + `output_text` (PaLM `text-bison`)."""

import json
from typing import Any

from ..records import Example, Message, ToolCall
from .base import Format, plain_turns, unmarked

ROLE_OF = {"user": "user", "model": "assistant", "function": "tool"}


def _read_content(content: Any, path: str) -> Message:
    if not isinstance(content, dict):
        return Message("", "", path, path, has_content=False)
    source = content.get("role") if isinstance(content.get("role"), str) else ""
    parts = content.get("parts") if isinstance(content.get("parts"), list) else []
    texts, images, calls, responses = [], [], [], []
    for j, part in enumerate(parts):
        part = part if isinstance(part, dict) else {}
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        for key, uri in (("inlineData", "data"), ("fileData", "fileUri")):
            blob = part.get(key)
            if isinstance(blob, dict):
                value = blob.get(uri, "")
                images.append(f"data:{blob.get('mimeType', '')};base64,{value}" if key == "inlineData" else value)
        call = part.get("functionCall")
        if isinstance(call, dict):
            calls.append(ToolCall(None, call.get("name"), json.dumps(call.get("args", {}), ensure_ascii=False),
                                  f"{path}.parts[{j}].functionCall"))
        response = part.get("functionResponse")
        if isinstance(response, dict):
            responses.append(json.dumps(response.get("response", {}), ensure_ascii=False))
    role = "tool" if responses and not texts else ROLE_OF.get(source, source)
    text_path = f"{path}.parts[0].text" if texts else f"{path}.parts"
    return Message(role, "\n".join(texts + responses), path, text_path, source_role=source, tool_calls=calls,
                   images=images, has_content=bool(texts or responses))


def _read(data: dict, example: Example) -> None:
    contents = data.get("contents")
    messages = [_read_content(c, f"contents[{i}]") for i, c in enumerate(contents)] if isinstance(contents, list) else []
    system = data.get("systemInstruction")
    if isinstance(system, dict):
        texts = [p.get("text", "") for p in system.get("parts", []) if isinstance(p, dict)]
        messages.insert(0, Message("system", "\n".join(texts), "systemInstruction", "systemInstruction.parts",
                                   source_role="system"))
    example.messages = messages
    tools = data.get("tools")
    if isinstance(tools, list):
        declared = [f for t in tools if isinstance(t, dict) for f in t.get("functionDeclarations", [])]
        example.tools = [{"type": "function", "function": f} for f in declared if isinstance(f, dict)]


def _write(example: Example) -> tuple[dict, list[str]]:
    messages = list(example.prompt()) + list(example.answer())
    dropped = ["the rejected answer (Gemini tuning records hold one answer)"] if example.is_preference else []
    out: dict[str, Any] = {"contents": []}
    if messages and messages[0].role == "system":
        out["systemInstruction"] = {"parts": [{"text": messages.pop(0).content}]}
    for m in messages:
        parts: list[dict] = []
        if m.role == "tool":
            parts.append({"functionResponse": {"name": m.name or "", "response": _as_object(m.content)}})
        elif text := unmarked(m):
            parts.append({"text": text})
        parts += [{"functionCall": {"name": c.name, "args": _as_object(c.arguments)}} for c in m.tool_calls]
        parts += [{"fileData": {"mimeType": "image/*", "fileUri": url}} for url in m.images]
        if m.weight is not None:
            dropped.append(f"{m.path}.weight")
        out["contents"].append({"role": {"assistant": "model", "tool": "user"}.get(m.role, m.role), "parts": parts})
    if example.tools:
        out["tools"] = [{"functionDeclarations": [t.get("function", t) for t in example.tools]}]
    return out, dropped


def _as_object(value: Any) -> Any:
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return {"content": value}
    return parsed if isinstance(parsed, dict) else {"content": parsed}


GEMINI = Format(
    name="gemini",
    keys=("contents",),
    fields=("contents", "systemInstruction", "tools"),
    read=_read,
    write=_write,
)


def _read_legacy(data: dict, example: Example) -> None:
    example.messages = [
        Message(role, value if isinstance(value, str) else "", key, key, source_role=role, has_content=isinstance(value, str))
        for key, role in (("input_text", "user"), ("output_text", "assistant")) for value in [data.get(key)]]


def _write_legacy(example: Example) -> tuple[dict, list[str]]:
    prompt, answer = example.prompt(), example.answer()
    dropped = ["the rejected answer (a Vertex legacy record holds one answer)"] if example.is_preference else []
    dropped += [f"{m.path}: the {m.role} role (input_text is plain text)" for m in prompt if m.role != "user"]
    dropped += [f"{m.path}: the {m.role} role (output_text is plain text)" for m in answer if m.role != "assistant"]
    return {"input_text": "\n\n".join(m.content for m in prompt), "output_text": "\n\n".join(m.content for m in answer)}, (
        dropped + plain_turns(prompt + answer))


VERTEX_LEGACY = Format(
    name="vertex-legacy",
    keys=("input_text", "output_text"),
    fields=("input_text", "output_text"),
    read=_read_legacy,
    write=_write_legacy,
)
