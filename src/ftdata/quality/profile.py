"""Output-format profiles: what shape an assistant output has, in a few comparable dimensions.

A profile is a small tuple of facts (JSON and its keys, list style, code-fence languages, script),
so a dataset-level stage can keep one interned id per record and compare each record with the
dominant shape of its task.
"""

import re
import unicodedata
from dataclasses import dataclass

import orjson

# Line starts are found after a newline ("\n" + text): a pattern that opens on a literal is scanned for fast,
# where `^` in multiline mode is tried at every character. Both end on \S, so no match ends at a line start
# and the matches found are those of `^...` with re.M.
_BULLET = re.compile(r"\n\s*[-*•+]\s+\S")
_NUMBERED = re.compile(r"\n\s*\d+[.)]\s*\S")
_FENCE = re.compile(r"^\s*```\s*([\w+#.-]*)", re.M)
_JSON_FENCED = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.S)


@dataclass(frozen=True, slots=True)
class Profile:
    kind: str  # "JSON object", "JSON array", "code block", "prose"
    keys: tuple[str, ...] | None  # a JSON object's top-level keys, sorted
    lists: str | None  # "bullet list", "numbered list", None when the output has no list
    fences: tuple[str, ...] | None  # languages of its code fences; None when it has none
    script: str | None  # dominant writing system of its letters (Latin, Cyrillic, Han...)


# The dimensions compared, in the order a finding names them, with how each value reads.
DIMENSIONS = ("kind", "keys", "lists", "fences", "script")


def describe(dimension: str, value: object) -> str:
    if dimension == "keys":
        return "JSON with keys {" + ", ".join(value) + "}" if value else "JSON with no keys"
    if dimension == "fences":
        return "code fenced as " + ", ".join(v or "(no language)" for v in value)
    if dimension == "script":
        return f"written in {value} script"
    if dimension == "lists":
        return f"a {value}"
    return {"prose": "prose", "code block": "one code block"}.get(value, str(value))


def parse_json_output(text: str) -> tuple[bool, object]:
    """(True, value) when the output is JSON, bare or inside one ```json fence."""
    stripped = text.strip()
    fenced = _JSON_FENCED.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    if not stripped or stripped[0] not in "{[":
        return False, None
    try:
        return True, orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return False, None


def profile(text: str) -> Profile:
    is_json, value = parse_json_output(text)
    if is_json and isinstance(value, dict):
        return Profile("JSON object", tuple(sorted(value)), None, None, None)
    if is_json:
        return Profile("JSON array", None, None, None, None)
    stripped = text.strip()
    # every other fence closes one; most texts have none
    openings = [m.group(1).lower() for m in _FENCE.finditer(text)][::2] if "```" in text else []
    fences = tuple(sorted(set(openings))) or None
    kind = "code block" if stripped.startswith("```") and stripped.endswith("```") and stripped.count("```") == 2 else "prose"
    lines = "\n" + text
    bullets, numbered = len(_BULLET.findall(lines)), len(_NUMBERED.findall(lines))
    lists = None
    if max(bullets, numbered) >= 2:
        lists = "bullet list" if bullets >= numbered else "numbered list"
    return Profile(kind, None, lists, fences, script(text))


def script(text: str, sample: int = 400) -> str | None:
    """The writing system most letters of the text's start belong to."""
    head = text[:sample]
    if head.isascii():  # every ASCII letter is Latin; most outputs take this path
        return "Latin" if sum(map(str.isalpha, head)) >= 10 else None
    counts: dict[str, int] = {}
    for char in head:
        if char.isalpha():
            name = unicodedata.name(char, "")
            system = name.split(" ", 1)[0] if name else "?"
            if system == "CJK":
                system = "Han"
            counts[system] = counts.get(system, 0) + 1
    if sum(counts.values()) < 10:
        return None
    return max(counts, key=counts.get).title()
