"""Cohere chat fine-tuning records: `messages` of `role` + `content`, with Cohere's roles `System`,
`User` and `Chatbot`. The key is OpenAI's, so the roles tell the two apart."""

from typing import Any

from ..records import Example, Message
from .base import Format, message_paths, plain_turns

ROLE_OF = {"System": "system", "User": "user", "Chatbot": "assistant"}
COHERE_ROLE = {canonical: cohere for cohere, canonical in ROLE_OF.items()}


def _is_cohere(data: dict) -> bool:
    """Every role is Cohere's: one capitalised `User` among OpenAI roles is a typo for P001 to name, not a
    Cohere record (which would make the rest of its file mixed-format)."""
    messages = data.get("messages")
    roles = [m.get("role") for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    return bool(roles) and all(role in ROLE_OF for role in roles)


def _read(data: dict, example: Example) -> None:
    value = data.get("messages") if isinstance(data.get("messages"), list) else []
    messages = []
    for m, (path, content_path) in zip(value, message_paths("messages", len(value))):
        m = m if isinstance(m, dict) else {}
        role, content = m.get("role"), m.get("content")
        role = role if isinstance(role, str) else ""
        messages.append(Message(ROLE_OF.get(role, role), content if isinstance(content, str) else "", path,
                                content_path, source_role=role, has_content=isinstance(content, str)))
    example.messages = messages


def _write(example: Example) -> tuple[dict, list[str]]:
    messages = list(example.prompt()) + list(example.answer())
    dropped = ["the rejected answer (a Cohere chat record holds one answer)"] if example.is_preference else []
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role not in COHERE_ROLE:
            dropped.append(f"{m.path}: the {m.role} role (Cohere chat has System, User and Chatbot)")
            continue
        out.append({"role": COHERE_ROLE[m.role], "content": m.content})
    return {"messages": out}, dropped + plain_turns(messages)


COHERE_CHAT = Format(
    name="cohere-chat",
    keys=("messages",),
    fields=("messages",),
    read=_read,
    write=_write,
    match=_is_cohere,
)
