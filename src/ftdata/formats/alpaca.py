"""Alpaca instruction records: `instruction`, optional `input`, `output` (plus `system`, `history`)."""

from typing import Any

from ..records import Example, Message
from .base import Format, plain_turns


def _read(data: dict, example: Example) -> None:
    messages = []
    if isinstance(data.get("system"), str) and data["system"]:
        messages.append(Message("system", data["system"], "system", "system", source_role="system"))
    history = data.get("history")
    for i, pair in enumerate(history if isinstance(history, list) else []):
        if isinstance(pair, list) and len(pair) == 2:
            messages.append(Message("user", str(pair[0]), f"history[{i}]", f"history[{i}][0]", source_role="user"))
            messages.append(Message("assistant", str(pair[1]), f"history[{i}]", f"history[{i}][1]", source_role="assistant"))
    instruction = data.get("instruction") if isinstance(data.get("instruction"), str) else ""
    extra = data.get("input") if isinstance(data.get("input"), str) else ""
    prompt = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    messages.append(Message("user", prompt, "instruction", "instruction", source_role="user",
                            has_content="instruction" in data))
    output = data.get("output")
    messages.append(Message("assistant", output if isinstance(output, str) else "", "output", "output",
                            source_role="assistant", has_content=isinstance(output, str)))
    example.messages = messages


def _write(example: Example) -> tuple[dict, list[str]]:
    messages = list(example.prompt()) + list(example.answer())
    dropped = plain_turns(messages)
    if example.is_preference:
        dropped.append("the rejected answer (Alpaca records hold one answer)")
    out: dict[str, Any] = {}
    if messages and messages[0].role == "system":
        out["system"] = messages.pop(0).content
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if len(turns) != len(messages):
        dropped.append("turns other than user and assistant")
    if len(turns) < 2 or turns[-1].role != "assistant" or turns[-2].role != "user":
        return {}, [*dropped, "everything: Alpaca needs a user turn followed by an assistant turn"]
    history, pairs_ok = [], True
    for user, assistant in zip(turns[:-2:2], turns[1:-2:2]):
        pairs_ok &= user.role == "user" and assistant.role == "assistant"
        history.append([user.content, assistant.content])
    if not pairs_ok or len(turns) % 2:
        dropped.append("the turn order: Alpaca history holds user/assistant pairs")
    out.update(instruction=turns[-2].content, input="", output=turns[-1].content)
    if history:
        out["history"] = history
    return out, dropped


ALPACA = Format(
    name="alpaca",
    keys=("instruction", "output"),
    fields=("instruction", "input", "output", "system", "history"),
    read=_read,
    write=_write,
)
