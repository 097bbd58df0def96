"""Content parts of the types a target's loader reads ([messages] part_types): OpenAI-compatible fine-tuning
takes `text` and `image_url` parts, so an image written as Hugging Face's `{"type": "image"}` part, which the
schema accepts for open-source trainers, is not read there; nor is a part that holds its text or URL in
`value` ([messages] part_value), as LLaMA-Factory's v1 data converter writes them."""

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


def value_parts(messages: Iterable[tuple[str | tuple[str, int], dict]], target: str) -> Iterator[Problem]:
    """One finding for a record whose content parts hold their text or URL in `value`, naming the first."""
    first, count = None, 0
    for where, raw in messages:
        content = raw.get("content")
        if not isinstance(content, list):
            continue
        for i, part in enumerate(content):
            if isinstance(part, dict) and "value" in part:
                count += 1
                if first is None:
                    path = where if isinstance(where, str) else f"{where[0]}[{where[1]}]"
                    first = (f"{path}.content[{i}].value", part.get("type"))
    if first is None:
        return
    field, kind = first
    expected = ('{"type": "text", "text": ...}' if kind == "text" else
                '{"type": "image_url", "image_url": {"url": ...}}' if kind == "image_url" else "`text` and `image_url` parts")
    more = f" ({count} parts of this record hold `value`)" if count > 1 else ""
    yield Problem("P020", f"content part key 'value' (LLaMA-Factory's v1 layout) is not one target {target} reads: it "
                          f"expects {expected}{more}; `ftdata convert FILE OUT --to openai-chat` writes them so", field)
