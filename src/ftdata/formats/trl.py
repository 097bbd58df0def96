"""TRL-style records: `prompt`/`completion`, preference `prompt`/`chosen`/`rejected`, and plain `text`.

Each side is either a string (standard) or a list of chat messages (conversational).
"""

from typing import Any

from ..records import Example, Message
from .base import Format, plain_turns, read_openai_messages, write_openai_message


def _side(value: Any, key: str, role: str) -> list[Message]:
    if isinstance(value, list):
        return read_openai_messages(value, key)
    return [Message(role, value if isinstance(value, str) else "", key, key, source_role=role,
                    has_content=isinstance(value, str))]


def _is_plain(prompt: list[Message], answers: list[list[Message]]) -> bool:
    """True when strings can hold the record without losing a role or a field."""
    singles = [prompt, *answers]
    return all(len(side) == 1 and not plain_turns(side) for side in singles) and prompt[0].role == "user" and all(
        a[0].role == "assistant" for a in answers)


def _write_side(messages: list[Message], plain: bool) -> Any:
    return messages[0].content if plain else [write_openai_message(m) for m in messages]


def _read_completion(data: dict, example: Example) -> None:
    example.messages = _side(data.get("prompt"), "prompt", "user") + _side(data.get("completion"), "completion", "assistant")


def _write_completion(example: Example) -> tuple[dict, list[str]]:
    prompt, answer = example.prompt(), example.answer()
    dropped = ["the rejected answer (prompt/completion holds one answer)"] if example.is_preference else []
    plain = _is_plain(prompt, [answer])
    out = {"prompt": _write_side(prompt, plain), "completion": _write_side(answer, plain)}
    if example.tools:
        out["tools"] = example.tools
    return out, dropped


def _read_preference(data: dict, example: Example) -> None:
    example.messages = _side(data.get("prompt"), "prompt", "user")
    example.chosen = _side(data.get("chosen"), "chosen", "assistant")
    example.rejected = _side(data.get("rejected"), "rejected", "assistant")


def _write_preference(example: Example) -> tuple[dict, list[str]]:
    if not example.is_preference:
        return {}, ["everything: the source record is not a preference pair"]
    prompt, chosen, rejected = example.messages or [], example.chosen or [], example.rejected or []
    plain = _is_plain(prompt, [chosen, rejected])
    return {"prompt": _write_side(prompt, plain), "chosen": _write_side(chosen, plain),
            "rejected": _write_side(rejected, plain)}, []


def _read_text(data: dict, example: Example) -> None:
    text = data.get("text")
    example.messages = [Message("assistant", text if isinstance(text, str) else "", "text", "text",
                                has_content=isinstance(text, str))]


def _write_text(example: Example) -> tuple[dict, list[str]]:
    messages = list(example.prompt()) + list(example.answer())
    dropped = [f"{m.path}: the {m.role} role" for m in messages if m.role != "assistant" or len(messages) > 1]
    return {"text": "\n\n".join(m.content for m in messages)}, dropped + plain_turns(messages)


PROMPT_COMPLETION = Format(
    name="prompt-completion",
    keys=("prompt", "completion"),
    fields=("prompt", "completion", "tools"),
    read=_read_completion,
    write=_write_completion,
)
TRL_PREFERENCE = Format(
    name="trl-preference",
    keys=("prompt", "chosen", "rejected"),
    fields=("prompt", "chosen", "rejected"),
    read=_read_preference,
    write=_write_preference,
    preference=True,
)
TEXT = Format(name="text", keys=("text",), fields=("text",), read=_read_text, write=_write_text, conversational=False)
