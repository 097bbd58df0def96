"""Content parts of the types a target's loader reads ([messages] part_types): OpenAI-compatible fine-tuning
takes `text` and `image_url` parts, so an image written as Hugging Face's `{"type": "image"}` part, which the
schema accepts for open-source trainers, is not read there."""

from collections.abc import Iterable, Iterator

from .base import Problem

_HOW = {"image": "write it as {\"type\": \"image_url\", \"image_url\": {\"url\": ...}} (`ftdata convert --to openai-chat` does)"}


def refused_parts(messages: Iterable[tuple[str | tuple[str, int], dict]], allowed: list[str],
                  target: str) -> Iterator[Problem]:
    """A finding for each content part, of the messages as written, whose type `allowed` does not hold."""
    for where, raw in messages:
        content = raw.get("content")
        if not isinstance(content, list):
            continue
        path = where if isinstance(where, str) else f"{where[0]}[{where[1]}]"
        for i, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if isinstance(kind, str) and kind not in allowed:
                how = _HOW.get(kind, "write it as one of those")
                yield Problem("P013", f"content part type {kind!r} is not one target {target} reads "
                                      f"({', '.join(allowed)}): {how}", f"{path}.content[{i}]")
