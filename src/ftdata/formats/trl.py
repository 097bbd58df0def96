"""TRL-style records: `prompt`/`completion`, preference `prompt`/`chosen`/`rejected` (or `chosen`/`rejected`
alone, the prompt implicit), KTO's `prompt`/`completion`/`label`, and plain `text`.

Each side is either a string (standard) or a list of chat messages (conversational).
"""

from typing import Any

from ..records import Example, Message
from .base import Format, plain_turns, read_openai_message, read_openai_messages, write_openai_messages


def _side(value: Any, key: str, role: str) -> list[Message]:
    if isinstance(value, list) and value and all(type(p) is dict and "type" in p and "role" not in p for p in value):
        # one turn written as content parts (text, images): Together's instruction format takes such a prompt
        return [read_openai_message({"role": role, "content": value}, key, key)]
    if isinstance(value, list):
        return read_openai_messages(value, key)
    if isinstance(value, dict) and isinstance(value.get("messages"), list):  # read, though the schema refuses it
        return read_openai_messages(value["messages"], f"{key}.messages")
    return [Message(role, value if isinstance(value, str) else "", key, key, source_role=role,
                    has_content=isinstance(value, str))]


def split_pair(prompt: list[Message], chosen: list[Message],
               rejected: list[Message]) -> tuple[list[Message], list[Message], list[Message]]:
    """(prompt, chosen, rejected) with the turns both answers open with moved into the prompt.

    Many pairs hold the whole conversation in each answer (Anthropic HH, TRL's implicit prompt):
    left there, the user's turn would become part of what the model is trained to prefer. When they do, a
    `prompt` that is empty ("") or that the answers open with is not a turn of its own: kept, the prompt
    would be an empty user turn, or its question asked twice."""
    shared = 0
    while (shared < min(len(chosen), len(rejected)) - 1 and chosen[shared].role == rejected[shared].role
           and chosen[shared].content == rejected[shared].content):
        shared += 1
    if not shared:
        return prompt, chosen, rejected
    lead = chosen[:shared]
    if all(_blank(m) for m in prompt) or _same_turns(prompt, lead[:len(prompt)]):
        prompt = []
    return prompt + lead, chosen[shared:], rejected[shared:]


def _blank(m: Message) -> bool:
    return not m.content and not m.images and not m.tool_calls


def _same_turns(a: list[Message], b: list[Message]) -> bool:
    return len(a) == len(b) and all(x.role == y.role and x.content == y.content and list(x.images) == list(y.images)
                                    for x, y in zip(a, b))


def _is_plain(prompt: list[Message], answers: list[list[Message]]) -> bool:
    """True when strings can hold the record without losing a role or a field."""
    singles = [prompt, *answers]
    return all(len(side) == 1 and not plain_turns(side) for side in singles) and prompt[0].role == "user" and all(
        a[0].role == "assistant" for a in answers)


def _write_side(messages: list[Message], plain: bool) -> Any:
    return messages[0].content if plain else write_openai_messages(messages)


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
    example.messages, example.chosen, example.rejected = split_pair(
        _side(data.get("prompt"), "prompt", "user"), _side(data.get("chosen"), "chosen", "assistant"),
        _side(data.get("rejected"), "rejected", "assistant"))


def _read_implicit(data: dict, example: Example) -> None:
    """Each side is the whole conversation: a list of messages, or an object holding them as `messages`."""
    example.messages, example.chosen, example.rejected = split_pair(
        [], _side(data.get("chosen"), "chosen", "assistant"), _side(data.get("rejected"), "rejected", "assistant"))


def _write_implicit(example: Example) -> tuple[dict, list[str]]:
    if not example.is_preference:
        return {}, ["everything: the source record is not a preference pair"]
    prompt = example.messages or []
    return {"chosen": write_openai_messages(prompt + (example.chosen or [])),
            "rejected": write_openai_messages(prompt + (example.rejected or []))}, []


def _read_kto(data: dict, example: Example) -> None:
    _read_completion(data, example)
    label = data.get("label")
    example.label = label if isinstance(label, bool) else None


def _write_kto(example: Example) -> tuple[dict, list[str]]:
    if example.is_preference:
        return {}, ["everything: a preference pair is two KTO records (chosen with label true, rejected with "
                    "label false); ftdata writes one record per input record"]
    out, dropped = _write_completion(example)
    out["label"] = example.label if example.label is not None else True
    return out, dropped


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
TRL_IMPLICIT_PREFERENCE = Format(
    name="trl-implicit-preference",
    keys=("chosen", "rejected"),
    fields=("chosen", "rejected"),
    read=_read_implicit,
    write=_write_implicit,
    preference=True,
)
KTO = Format(
    name="kto",
    keys=("prompt", "completion", "label"),
    fields=("prompt", "completion", "label", "tools"),
    read=_read_kto,
    write=_write_kto,
)
TEXT = Format(name="text", keys=("text",), fields=("text",), read=_read_text, write=_write_text, conversational=False)
