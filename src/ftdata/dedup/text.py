"""What of a record is compared, and how it is normalised first.

Normalisation (documented in docs/dedup.md): Unicode NFC, every run of whitespace to one space,
leading and trailing whitespace dropped, and optionally case folded. Two records are exact
duplicates when their normalised texts are equal; the prompt side is everything before the last
assistant turn (a preference pair's prompt). A record's text lists each turn as `role: content`,
tool calls as `name(arguments)`, for a pair the chosen and rejected answers, then the declared tools and
the identity of each image it shows (so the same question about other images is another record).
"""

import re
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


_IMAGE_KEYS = ("image", "images", "image_url", "fileUri", "inlineData")


def _image_refs(value, found: list[str]) -> None:
    """Image references under a record's image keys: URLs, paths, data: URIs, Gemini fileData/inlineData."""
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, list):
        for item in value:
            _image_refs(item, found)
    elif isinstance(value, dict):
        for key in ("url", "path", "data", "fileUri", "bytes"):
            if isinstance(value.get(key), str):
                found.append(value[key])
                return


def _walk(value, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _IMAGE_KEYS:
                _image_refs(item, found)
            else:
                _walk(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, found)


def image_ids(example: Example) -> list[str]:
    """A short stable id (hash) of every image the record refers to, in order: parsed messages' images, and
    image fields the format leaves in the record (TRL `{"type": "image", "image": path}`, LLaVA-style
    `images` beside `<image>` tokens, Gemini `fileData`)."""
    found: list[str] = []
    if b"image" in example.raw or b"fileUri" in example.raw or b"inlineData" in example.raw:
        _walk(example.data, found)  # only records that mention images pay for the walk
    for messages in (example.messages, example.chosen, example.rejected):
        for m in messages or ():
            found += m.images
    return [f"{xxhash.xxh3_64_intdigest(ref.encode('utf-8', 'surrogatepass')):016x}" for ref in dict.fromkeys(found)]


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def near_group(images: list[str], answer: str) -> int:
    """Records of different groups are never near-duplicates: those about other images, and those whose answers
    hold other numbers (one template worked with other figures is another example). 0: no image, no number."""
    numbers = sorted(set(_NUMBER.findall(answer)))
    return hash64(" ".join(images) + "\n" + " ".join(numbers)) if images or numbers else 0


def record_text(example: Example, images: list[str] | None = None) -> str:
    parts = _turns(example.messages)
    if example.is_preference:
        parts += ["chosen:", *_turns(example.chosen), "rejected:", *_turns(example.rejected)]
    if example.tools:
        parts.append("tools: " + orjson.dumps(example.tools, default=str).decode())
    images = image_ids(example) if images is None else images
    if images:
        parts.append("images: " + " ".join(images))
    return "\n".join(parts)


def answer_text(example: Example) -> str:
    """What the record teaches to say: the last assistant turn and after, or a pair's chosen and rejected answers."""
    parts = _turns(example.answer())
    if example.is_preference:
        parts += ["rejected:", *_turns(example.rejected)]
    return "\n".join(parts)


def prompt_text(example: Example, images: list[str] | None = None) -> str:
    """What the model is given: the turns before the answer, with the images and the declared tools (the same
    request offered other tools is another prompt). Empty for preference pairs and KTO records, which repeat
    a prompt by design, one record per answer judged."""
    if example.is_preference or example.label is not None:
        return ""
    parts = _turns(example.prompt())
    images = image_ids(example) if images is None else images
    if parts and images:
        parts.append("images: " + " ".join(images))
    if parts and example.tools:
        parts.append("tools: " + orjson.dumps(example.tools, default=str).decode())
    return "\n".join(parts)
