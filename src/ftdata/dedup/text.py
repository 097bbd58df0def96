"""What of a record is compared, and how it is normalised first.

Normalisation (documented in docs/dedup.md): Unicode NFC, every run of whitespace to one space,
leading and trailing whitespace dropped, and optionally case folded. Two records are exact
duplicates when their normalised texts are equal; the prompt side is everything before the last
assistant turn (a preference pair's prompt). A record's text lists each turn as `role: content`,
tool calls as `name(arguments)`, and for a pair the chosen and rejected answers.
"""

import unicodedata

import orjson
import xxhash

from ..records import Example, Message


def normalise(text: str, *, casefold: bool = False) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    text = " ".join(text.split())
    return text.casefold() if casefold else text


def hash64(text: str) -> int:
    """A stable 64-bit hash of a normalised text (xxh3, the same in every process and run)."""
    return xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))


def _turns(messages: list[Message] | None) -> list[str]:
    parts = []
    for m in messages or []:
        parts.append(f"{m.role}: {m.content}")
        for call in m.tool_calls:
            arguments = call.arguments if isinstance(call.arguments, str) else orjson.dumps(call.arguments).decode()
            parts.append(f"{m.role} calls {call.name}({arguments})")
    return parts


def record_text(example: Example) -> str:
    parts = _turns(example.messages)
    if example.is_preference:
        parts += ["chosen:", *_turns(example.chosen), "rejected:", *_turns(example.rejected)]
    return "\n".join(parts)


def prompt_text(example: Example) -> str:
    return "\n".join(_turns(example.prompt()))
