"""The format interface and the OpenAI-style message mapping several formats share."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..records import Example, Message, ToolCall


@dataclass(frozen=True)
class Format:
    name: str
    keys: tuple[str, ...]  # the keys that identify it; all must be present
    fields: tuple[str, ...]  # every top-level key it defines; others are the user's metadata
    read: Callable[[dict, Example], None]  # fills the example's conversation from a record
    write: Callable[[Example], tuple[dict, list[str]]]  # a record from an example, and what it dropped
    conversational: bool = True  # text-only formats have no roles to check
    preference: bool = False
    # A test on the values, for a format whose keys another format shares (Cohere's `messages`)
    match: Callable[[dict], bool] | None = None
    # The format whose records this one's trainer also reads (functionary reads plain OpenAI chat records):
    # records of the two may share a file
    dialect_of: str | None = None


def text_of(content: Any) -> tuple[str, list[str]]:
    """The text of an OpenAI-style content (string, list of parts or null) and its images.

    Parts written by other tools are read too, so that their text is not lost (targets whose loaders do
    not take them say so): a text part's `value` instead of `text` and an `image_url` part's `value`
    (LLaMA-Factory's v1 data converter), an `image_url` given as a bare string, and Hugging Face's
    `{"type": "image", "image": path or URL}`."""
    if isinstance(content, str):
        return content, []
    texts, images = [], []
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            text = part.get("text", part.get("value") if kind == "text" else None)
            if isinstance(text, str):
                texts.append(text)
            image = part.get("image_url", part.get("image") if kind == "image" else
                             part.get("value") if kind == "image_url" else None)
            if isinstance(image, dict):
                image = image.get("url")
            if isinstance(image, str):
                images.append(image)
    return "\n".join(texts), images


_ROLE_AND_CONTENT = frozenset(("role", "content"))

# LLaMA-Factory's image placeholder (src/llamafactory/extras/constants.py IMAGE_PLACEHOLDER): a record's `images`
# column holds one image per marker, the nth image at the nth marker in the order of the turns, and mm_plugin.py
# (_validate_messages) refuses a record whose counts differ
IMAGE_MARKER = "<image>"


def place_images(messages: list[Message], images: Any) -> None:
    """The `images` column's entries put on the messages whose text holds their `<image>` markers."""
    if not isinstance(images, list) or not images:
        return
    queue = [i for i in images if isinstance(i, str)]
    for m in messages:
        if not queue:
            return
        marks = min(m.content.count(IMAGE_MARKER), len(queue)) if m.content else 0
        if marks:
            m.images, m.marks = [*queue[:marks], *m.images], marks
            del queue[:marks]


def image_markers(messages: list[Message]) -> int:
    return sum(m.content.count(IMAGE_MARKER) for m in messages if m.content)


def unmarked(m: Message) -> str:
    """The message's text without the markers its images stand at."""
    return m.content.replace(IMAGE_MARKER, "", m.marks).strip() if m.marks else m.content


def read_openai_message(m: Any, path: str, content_path: str) -> Message:
    if not isinstance(m, dict):
        return Message(role="", content="", path=path, content_path=path, has_content=False)
    get = m.get
    content, role = get("content"), get("role")
    text, images = (content, []) if type(content) is str else text_of(content)
    if type(role) is not str:
        role = ""
    tool_calls, legacy = get("tool_calls"), get("function_call")
    calls = _tool_calls(tool_calls, legacy, path) if tool_calls or legacy else []
    name, call_id = get("name"), get("tool_call_id")
    return Message(role, text, path, content_path, role, get("weight"), name if type(name) is str else None,
                   calls, call_id if type(call_id) is str else None, images, content is not None, type(content) is list)


def _tool_calls(tool_calls: Any, legacy: Any, path: str) -> list[ToolCall]:
    calls = []
    for i, call in enumerate(tool_calls if isinstance(tool_calls, list) else []):
        call = call if isinstance(call, dict) else {}
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        calls.append(ToolCall(call.get("id"), function.get("name"), function.get("arguments"), f"{path}.tool_calls[{i}]"))
    if isinstance(legacy, dict):
        calls.append(ToolCall(None, legacy.get("name"), legacy.get("arguments"), f"{path}.function_call"))
    return calls


def read_openai_messages(value: Any, path: str) -> list[Message]:
    if not isinstance(value, list):
        return []
    messages = []
    for m, (where, text_where) in zip(value, message_paths(path, len(value))):
        if type(m) is dict and m.keys() <= _ROLE_AND_CONTENT:  # the common case inline: no call per message
            content, role = m.get("content"), m.get("role")
            if type(content) is str and type(role) is str:
                messages.append(Message(role, content, where, text_where, role))
                continue
        messages.append(read_openai_message(m, where, text_where))
    return messages


_PATHS: dict[tuple[str, str], list[tuple[str, str]]] = {}
_SHARED_PATHS = 1024  # per prefix; a longer conversation's further paths are made for it alone


def message_paths(prefix: str, count: int, text: str = "content") -> list[tuple[str, str]]:
    """(path, path of its text) of the first `count` messages under `prefix`, made once and shared by every
    record: formatting them per message cost as much as reading the message."""
    paths = _PATHS.get((prefix, text))
    if paths is not None and count <= len(paths):
        return paths
    paths = _PATHS.setdefault((prefix, text), [])
    for i in range(len(paths), min(count, _SHARED_PATHS)):
        paths.append((f"{prefix}[{i}]", f"{prefix}[{i}].{text}"))
    if count <= len(paths):
        return paths
    return paths + [(f"{prefix}[{i}]", f"{prefix}[{i}].{text}") for i in range(len(paths), count)]


def write_openai_messages(messages: list[Message]) -> list[dict]:
    """OpenAI messages, with the call ids OpenAI requires: a source without them (ShareGPT, Gemini,
    Hugging Face, a legacy `function_call`) gets `call_N` ids, and each tool result (or legacy `function`
    result, written as a tool message) answers the oldest call not yet answered."""
    out, unanswered, made = [], [], 0
    for m in messages:
        ids = []
        for call in m.tool_calls:
            if call.id is None:
                made += 1
                ids.append(f"call_{made}")
            else:
                ids.append(call.id)
        unanswered += ids
        answers = m.tool_call_id
        if m.role in ("tool", "function") and answers is None and unanswered:
            answers = unanswered[0]
        if answers in unanswered:
            unanswered.remove(answers)
        written = write_openai_message(m, ids, answers)
        if m.role == "function" and answers is not None:  # OpenAI's legacy result, to the call it answers
            written["role"] = "tool"
        out.append(written)
    return out


def write_openai_message(msg: Message, call_ids: list[str] | None = None, tool_call_id: str | None = None) -> dict:
    out: dict[str, Any] = {"role": msg.role}
    if msg.images:
        pieces = msg.content.split(IMAGE_MARKER, msg.marks) if msg.marks else [msg.content]
        parts: list[dict] = []
        for i, piece in enumerate(pieces):  # each marker's image in its place, between the texts around it
            if i:
                parts.append({"type": "image_url", "image_url": {"url": msg.images[i - 1]}})
            if piece.strip():
                parts.append({"type": "text", "text": piece.strip() if msg.marks else piece})
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in msg.images[msg.marks:]]
        out["content"] = parts
    else:
        out["content"] = msg.content if (msg.has_content or not msg.tool_calls) else None
    if msg.name is not None:
        out["name"] = msg.name
    if msg.weight is not None:
        out["weight"] = msg.weight
    if msg.tool_calls:
        ids = call_ids or [c.id for c in msg.tool_calls]
        out["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": c.name, "arguments": json_text(c.arguments)}}
            for i, c in zip(ids, msg.tool_calls)
        ]
    tool_call_id = tool_call_id if tool_call_id is not None else msg.tool_call_id
    if tool_call_id is not None:
        out["tool_call_id"] = tool_call_id
    return out


def json_text(arguments: Any) -> Any:
    """Call arguments as OpenAI holds them, a JSON string (some sources write the object itself)."""
    return arguments if isinstance(arguments, str) or arguments is None else json.dumps(arguments, ensure_ascii=False)


def plain_turns(messages: list[Message]) -> list[str]:
    """What a text-only target cannot hold of these messages, named for the user."""
    dropped = []
    for m in messages:
        if m.tool_calls or m.tool_call_id or m.role == "tool":
            dropped.append(f"{m.path}: tool calls")
        if m.images:
            dropped.append(f"{m.path}: images")
        if m.weight is not None:
            dropped.append(f"{m.path}.weight")
        if m.name is not None:
            dropped.append(f"{m.path}.name")
    return dropped
