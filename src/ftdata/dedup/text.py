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

import numpy as np
import orjson
import xxhash

from ..records import Example, Message


# Every character str.split() splits on (str.isspace) but the space; ASCII texts (most) need scanning for the
# first nine only. A test holds the list against str.isspace over every code point.
_OTHER_SPACES = ("\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680",
                 *map(chr, range(0x2000, 0x200b)), "\u2028", "\u2029", "\u202f", "\u205f", "\u3000")
_ASCII_OTHER_SPACES = tuple(c for c in _OTHER_SPACES if c.isascii())


def collapse_spaces(text: str) -> str:
    """Every run of whitespace to one space, none at either end: `" ".join(text.split())`, done with the
    string's own scans (each whitespace character to a space, then double spaces halved until none is left),
    which run in C over the text. About twice as fast on short texts, six times on a long single-spaced one,
    and a huge text is held at most twice, never as a list of its every word (~50 bytes each)."""
    for space in _ASCII_OTHER_SPACES if text.isascii() else _OTHER_SPACES:
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(" ")


def normalise(text: str, *, casefold: bool = False) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    text = collapse_spaces(text)
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
    # most answers hold no digit: an ASCII one is ruled out by substring tests, faster than the regex scan
    maybe = not answer.isascii() or any(digit in answer for digit in "0123456789")
    numbers = sorted(set(_NUMBER.findall(answer))) if maybe else []
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


def _turn_text(m: Message) -> str:
    """One turn as the record's text shows it (`role: content`, then its tool calls): the last turn, the answer,
    is compared as it was tuned (ANSWER_THRESHOLD), with its role."""
    return "\n".join(_turns([m]))


def assistant_turns(example: Example) -> list[str]:
    """Every turn the record teaches (its assistant turns, a pair's chosen and rejected ones), in order: a record
    whose turns the kept record does not hold is another example, whatever its overall similarity."""
    return [_turn_text(m) for messages in (example.messages, example.chosen, example.rejected)
            for m in messages or () if m.role == "assistant"]


_TOKEN = r"\d+(?:[.,]\d+)*|[^\W_]+"
# a token that may be a name: any but a word of lowercase ASCII letters, which most of a text is and which the
# regex engine passes over, so that Python sees only the few tokens left (a lowercase non-ASCII word still
# reaches the loop, which passes it over itself)
_CANDIDATE = re.compile(rf"(?![a-z]+(?![^\W_]))(?:{_TOKEN})")
_CONNECTORS = frozenset({"of", "the", "and", "for", "de", "la", "le", "du", "von", "van", "der"})
# what may stand between two capitalised words of one run: anything but a token, and the connectors
_JOINS_RUN = re.compile(rf"(?:[\W_]|(?:{'|'.join(sorted(_CONNECTORS))})(?![^\W_]))*")
NAMES_CHARS = 20_000  # of each side read for names: enough for any question, bounded for a huge record


def _name_hash(token: str) -> int:
    return xxhash.xxh32_intdigest(token.encode("utf-8", "surrogatepass"))


def _names(text: str, named: set[int], known: set[int]) -> None:
    run: list[str] = []  # initials of the current run of capitalised words (United States of America: USA)
    end = 0  # of the last token looked at: plain lowercase words (most of a text) are passed over unread
    for m in _CANDIDATE.finditer(text, 0, NAMES_CHARS):
        token = m.group()
        if token.islower() and token.isalpha():
            continue
        start = m.start()
        if run and not _JOINS_RUN.fullmatch(text, end, start):
            _acronyms(run, known)  # a word other than "of", "the"... ends the run
            run = []
        end = m.end()
        capital = token[0].isupper()
        shaped = token[0].isdigit() or _upper_or_digit(token[1:])  # GPT, InfoX, 2024, B2B
        if capital or shaped:
            name = _name_hash(token)
            known.add(name)
            # a name: shaped like one wherever it stands, or capitalised mid-sentence (after a word or a comma)
            before = text[max(0, start - 16):start]
            mid_sentence = before[-1:] in (" ", ",") and before.rstrip(" ,")[-1:].isalnum()
            if (len(token) > 1 or token.isdigit()) and (shaped or mid_sentence):
                named.add(name)
        if capital and token.isalpha():
            run.append(token[0])
        else:
            _acronyms(run, known)
            run = []
    _acronyms(run, known)


def _upper_or_digit(token: str) -> bool:
    return bool(token) and not (token.isalpha() and token == token.lower())


def _acronyms(run: list[str], known: set[int]) -> None:
    for k in range(2, len(run) + 1):  # an acronym names what its words name: US, USA
        known.add(_name_hash("".join(run[:k])))


def name_texts(example: Example) -> list[str]:
    """The turns whose names and numbers a near-duplicate must hold too (`names_in`): the record's questions
    (user turns; not earlier answers, whose tool figures vary), its answer and a pair's rejected answer, each
    as far as it is read for names."""
    questions = [m for m in example.prompt() if m.role == "user"]
    return [_turn_text(m)[:NAMES_CHARS]
            for m in [*questions, *example.answer(), *(example.rejected if example.is_preference else ())]
            if m.role in ("user", "assistant")]


def names_in(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted uint32 hashes of the names and numbers the texts hold, and of every token that could match one
    (capitalised anywhere, acronyms of capitalised runs). Two records that each name something the other does
    not (InfoX and NoLASA, 9 + 7 and 11 x 11) ask or teach other facts."""
    named: set[int] = set()
    known: set[int] = set()
    for text in texts:
        _names(text, named, known)
    return np.array(sorted(named), dtype=np.uint32), np.array(sorted(known), dtype=np.uint32)
