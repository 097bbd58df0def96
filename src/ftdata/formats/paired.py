"""Preference layouts from public datasets that name their fields after the data rather than a trainer.

`stack-exchange-paired` (torchtune's StackExchangePairedDataset, TRL's examples): a `question` with a
preferred `response_j` and a dispreferred `response_k`.
"""

from ..records import Example, Message
from .base import Format, plain_turns


def _text(data: dict, key: str, role: str) -> Message:
    value = data.get(key)
    return Message(role, value if isinstance(value, str) else "", key, key, source_role=role,
                   has_content=isinstance(value, str))


def _read(data: dict, example: Example) -> None:
    example.messages = [_text(data, "question", "user")]
    example.chosen = [_text(data, "response_j", "assistant")]
    example.rejected = [_text(data, "response_k", "assistant")]


def _write(example: Example) -> tuple[dict, list[str]]:
    if not example.is_preference:
        return {}, ["everything: the source record is not a preference pair"]
    prompt, chosen, rejected = example.messages or [], example.chosen or [], example.rejected or []
    dropped = [f"{m.path}: the {m.role} turn (question holds one user turn)" for m in prompt if m.role != "user"]
    dropped += [f"{side}: {len(turns)} turns (a response holds one)" for side, turns in
                (("chosen", chosen), ("rejected", rejected)) if len(turns) != 1]
    dropped += plain_turns(prompt + chosen + rejected)
    return {"question": "\n\n".join(m.content for m in prompt if m.role == "user"),
            "response_j": chosen[0].content if chosen else "",
            "response_k": rejected[0].content if rejected else ""}, dropped


STACK_EXCHANGE_PAIRED = Format(
    name="stack-exchange-paired",
    keys=("question", "response_j", "response_k"),
    fields=("question", "response_j", "response_k"),
    read=_read,
    write=_write,
    preference=True,
)
