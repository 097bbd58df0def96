"""Text views of an Example that the quality detectors share: prompt, answer, normal forms, hashes."""

import re
import unicodedata

import xxhash

from ..dedup.text import collapse_spaces
from ..formats.base import IMAGE_MARKER, image_markers
from ..records import Example, Message

_PUNCT_RUN = re.compile(r"[\W_]+")


def joined(messages: list[Message] | None, roles: tuple[str, ...] | None = None) -> str:
    """The text of the messages (optionally only some roles), one blank line apart."""
    return "\n\n".join(m.content for m in messages or () if roles is None or m.role in roles)


def system_text(example: Example) -> str:
    return joined([m for m in example.messages or () if m.role in ("system", "developer")])


def last_user(example: Example) -> Message | None:
    for message in reversed(example.prompt()):
        if message.role == "user":
            return message
    return None


def answer_message(example: Example) -> Message | None:
    """The last assistant turn the model learns: what output rules look at."""
    for message in reversed(example.answer()):
        if message.role == "assistant" and not message.tool_calls:
            return message
    return None


def normalise(text: str) -> str:
    """Case, width, spacing and edge punctuation folded: 'Hello,  World!' == 'hello, world'."""
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    text = collapse_spaces(text.casefold())
    # Edge punctuation by anchored matches at each end: a `[\W_]+$` search would try every position.
    lead = _PUNCT_RUN.match(text)
    if lead:
        text = text[lead.end():]
    trail = _PUNCT_RUN.match(text[::-1])
    return text[: len(text) - trail.end()] if trail else text


def digest(text: str) -> int:
    return xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))


def prompt_key(example: Example) -> int | None:
    """Hash of the normalised system prompt and user turns: records asking the same thing share it."""
    return example.view("prompt_key", _prompt_key)


def _prompt_key(example: Example) -> int | None:
    parts = [f"{m.role}:{normalise(m.content)}" for m in example.prompt() if m.role in ("system", "developer", "user")]
    if not any(p.startswith("user:") for p in parts):
        return None
    images = image_refs(example)
    if images:  # the same question about another picture is another prompt
        parts.append("images:" + "\x1e".join(images))
    return digest("\x1f".join(parts))


def image_refs(example: Example) -> tuple[str, ...]:
    """The images a record attaches, as written (URL, path, data URI): in message parts (OpenAI `image_url`,
    Gemini `fileData`/`inlineData`, which the formats read; HF `{"type": "image", "image": ...}`, which they
    do not), in a top-level `images`/`image` list (LLaMA-Factory), or as bare `<image>` tokens when the
    files are named nowhere else."""
    return example.view("image_refs", _image_refs)


def _image_refs(example: Example) -> tuple[str, ...]:
    refs: list[str] = [url for m in example.messages or () for url in m.images]
    if not refs and b"image" in example.raw:
        data = example.data if isinstance(example.data, dict) else {}
        for key in ("images", "image"):
            value = data.get(key)
            refs += [_image_name(v) for v in (value if isinstance(value, list) else [value]) if _image_name(v)]
        refs += _part_images(data.get("messages")) + _part_images(data.get("conversations"))
        if not refs:
            refs = [f"{IMAGE_MARKER}#{i}" for i in range(image_markers(example.messages or []))]
    return tuple(refs)


def _image_name(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # {"url": ...}, {"path": ...}, {"bytes": ...} as datasets write them
        for key in ("url", "path", "image_url", "image", "bytes"):
            if isinstance(value.get(key), (str, dict)):
                return _image_name(value[key]) or str(value[key])[:200]
    return ""


def _part_images(messages: object) -> list[str]:
    """Images in content parts typed image/input_image that hold a bare string."""
    refs = []
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and part.get("type") in ("image", "input_image", "image_url"):
                name = _image_name(part.get(part["type"])) or _image_name(part.get("image_url")) or _image_name(part.get("url"))
                if name and name not in refs:
                    refs.append(name)
    return refs


def snippet(text: str, limit: int = 60) -> str:
    """The start of `text`, spacing collapsed, at most `limit` characters ("…" marks a cut)."""
    head = text[: 4 * limit]  # it runs for every record: collapse a head, not a long answer
    short = collapse_spaces(head)
    if len(short) <= limit and len(head) < len(text):  # the head was mostly spacing
        short = collapse_spaces(text)
    return short if len(short) <= limit else short[: limit - 1] + "…"
