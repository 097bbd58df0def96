"""Rubrics as data (rules/rubrics/*.toml), the judge's prompt, and strict parsing of its reply.

A rubric names dimensions, each scored 1-5 against anchors, with an optional weight; `[verdict]` holds the
thresholds (overall >= keep: keep; overall < discard: discard; else review). The reply is either
structured JSON (`response_format` with a JSON Schema, for servers that enforce it) or a tagged format
(`<accuracy>4</accuracy> ... <rationale>...</rationale>`) for those that do not. Both are parsed strictly:
every dimension exactly once, an integer from 1 to 5, and a rationale; anything else is a failed reply,
never a guessed score.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .. import formats
from ..errors import UsageError
from ..records import Example, Message
from ..resources import read_toml, rules_dir

SCALE = range(1, 6)
RATIONALE_CHARS = 400


@dataclass(frozen=True)
class Dimension:
    name: str
    question: str
    anchors: dict[int, str]
    weight: float = 1.0


@dataclass(frozen=True)
class Rubric:
    name: str
    version: int
    description: str
    instructions: str  # with any format text filled in
    dimensions: tuple[Dimension, ...]
    keep: float = 4.0
    discard: float = 2.5
    source: str = ""

    @property
    def recipe_version(self) -> str:
        """Part of each call's cache key: a changed rubric, format or version re-asks."""
        return f"judge:{self.name}@{self.version}:{hash_text(self.instructions)}"

    def verdict(self, overall: float) -> str:
        return "keep" if overall >= self.keep else "discard" if overall < self.discard else "review"

    def overall(self, scores: dict[str, int]) -> float:
        total = sum(d.weight for d in self.dimensions)
        return round(sum(scores[d.name] * d.weight for d in self.dimensions) / total, 3)


class ReplyError(ValueError):
    """The judge's reply does not have the required shape."""


def hash_text(text: str) -> str:
    import xxhash

    return xxhash.xxh3_64_hexdigest(text.encode())


def available() -> list[str]:
    return sorted(p.stem for p in (rules_dir() / "rubrics").glob("*.toml"))


def load_rubric(name_or_path: str, *, schema: str | Path | None = None, profile: str | None = None,
                keep: float | None = None, discard: float | None = None) -> Rubric:
    """A shipped rubric by name, or a .toml path. `schema` (a JSON Schema file) or `profile` (a sentence)
    describe the output format for rubrics whose instructions have a `{format}` slot."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = rules_dir() / "rubrics" / f"{name_or_path}.toml"
        if not path.is_file():
            raise UsageError(f"unknown rubric {name_or_path!r}; known: {', '.join(available())} (or a .toml path)")
    table = read_toml(path, "rubric")
    try:
        dimensions = tuple(_dimension(d, path) for d in table["dimensions"])
        instructions = str(table["instructions"])
        name, version = str(table["name"]), int(table.get("version", 1))
    except KeyError as e:
        raise UsageError(f"{path}: a rubric needs {e.args[0]!r}") from None
    if not dimensions or len({d.name for d in dimensions}) != len(dimensions):
        raise UsageError(f"{path}: a rubric needs dimensions with distinct names")
    instructions = instructions.replace("{format}", _format_text(table, path, schema, profile))
    verdict = table.get("verdict", {})
    rubric = Rubric(name, version, str(table.get("description", "")), instructions, dimensions,
                    float(keep if keep is not None else verdict.get("keep", 4.0)),
                    float(discard if discard is not None else verdict.get("discard", 2.5)), str(path))
    if not (1 <= rubric.discard <= rubric.keep <= 5):
        raise UsageError(f"thresholds must satisfy 1 <= discard ({rubric.discard}) <= keep ({rubric.keep}) <= 5")
    return rubric


def _dimension(table: dict, path: Path) -> Dimension:
    anchors = {int(k): str(v) for k, v in table.get("anchors", {}).items()}
    if set(anchors) != set(SCALE):
        raise UsageError(f"{path}: dimension {table.get('name')!r} needs an anchor for each score 1-5")
    name = str(table["name"])
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise UsageError(f"{path}: dimension name {name!r} must be lower-case letters, digits and underscores")
    return Dimension(name, str(table["question"]), anchors, float(table.get("weight", 1.0)))


def _format_text(table: dict, path: Path, schema: str | Path | None, profile: str | None) -> str:
    if schema:
        try:
            text = json.dumps(json.loads(Path(schema).read_text(encoding="utf-8")), separators=(",", ":"))
        except (OSError, ValueError) as e:
            raise UsageError(f"{schema}: not a readable JSON Schema: {e}") from None
        return str(table.get("format_schema", "")).replace("{schema}", text)
    if profile:
        return str(table.get("format_profile", "")).replace("{profile}", profile)
    return ""


# -- the prompt --------------------------------------------------------------------------------------------

def transcript(record: dict, max_chars: int = 6000) -> str | None:
    """The record as the judge reads it: one `ROLE: text` block per turn (a preference pair's chosen answer
    last), long turns cut in the middle. None when the record has no format ftdata knows."""
    fmt = formats.detect(record)
    if fmt is None:
        return None
    example = Example(0, "", 1, b"", data=record)
    fmt.read(record, example)
    turns = list(example.messages or []) + list(example.chosen or [])
    if not turns:
        return None
    per_turn = max(200, max_chars // len(turns))
    return "\n\n".join(_turn(m, per_turn) for m in turns)


def _turn(m: Message, limit: int) -> str:
    text = m.content
    for call in m.tool_calls:
        arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        text += f"\n[tool call] {call.name}({arguments})"
    if len(text) > limit:
        half = limit // 2
        text = f"{text[:half]} [... {len(text) - 2 * half} characters cut ...] {text[-half:]}"
    return f"{(m.role or m.source_role or '?').upper()}: {text if text.strip() else '(empty)'}"


def messages(rubric: Rubric, record_text: str, structured: bool) -> list[dict[str, str]]:
    lines = [rubric.instructions, ""]
    for d in rubric.dimensions:
        anchors = "; ".join(f"{k} = {v}" for k, v in sorted(d.anchors.items()))
        lines.append(f"- {d.name}: {d.question} ({anchors})")
    lines.append("")
    if structured:
        lines.append("Reply with a JSON object: an integer 1-5 for each dimension, then a short \"rationale\" "
                     f"(one or two sentences, under {RATIONALE_CHARS} characters).")
    else:
        lines.append("Reply with exactly these lines and nothing else, N an integer from 1 to 5:")
        lines.extend(f"<{d.name}>N</{d.name}>" for d in rubric.dimensions)
        lines.append("<rationale>one or two sentences</rationale>")
    return [{"role": "system", "content": "\n".join(lines)},
            {"role": "user", "content": f"The training example:\n\n{record_text}\n\nYour scores:"}]


def response_format(rubric: Rubric) -> dict[str, Any]:
    properties: dict[str, Any] = {d.name: {"type": "integer", "minimum": 1, "maximum": 5} for d in rubric.dimensions}
    properties["rationale"] = {"type": "string", "maxLength": RATIONALE_CHARS}
    schema = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"name": "judgement", "strict": True, "schema": schema}}


# -- the reply ---------------------------------------------------------------------------------------------

@dataclass
class Judgement:
    scores: dict[str, int]
    rationale: str
    overall: float = 0.0
    verdict: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def parse(rubric: Rubric, reply: str | None, structured: bool) -> Judgement:
    if not reply or not reply.strip():
        raise ReplyError("empty reply")
    scores, rationale = (_parse_json if structured else _parse_tagged)(rubric, reply.strip())
    overall = rubric.overall(scores)
    return Judgement(scores, rationale.strip()[:RATIONALE_CHARS], overall, rubric.verdict(overall))


def _score(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise ReplyError(f"{name} must be an integer from 1 to 5, found {value!r}")
    return value


def _parse_json(rubric: Rubric, reply: str) -> tuple[dict[str, int], str]:
    if reply.startswith("```"):  # a fence around the object is the one liberty allowed
        reply = re.sub(r"^```(?:json)?\s*|\s*```$", "", reply)
    try:
        data = orjson.loads(reply)
    except orjson.JSONDecodeError as e:
        raise ReplyError(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ReplyError("not a JSON object")
    missing = [d.name for d in rubric.dimensions if d.name not in data]
    if missing:
        raise ReplyError(f"no score for {', '.join(missing)}")
    rationale = data.get("rationale")
    if not isinstance(rationale, str):
        raise ReplyError("no rationale")
    return {d.name: _score(d.name, data[d.name]) for d in rubric.dimensions}, rationale


def _parse_tagged(rubric: Rubric, reply: str) -> tuple[dict[str, int], str]:
    scores = {}
    for d in rubric.dimensions:
        found = re.findall(rf"<{d.name}>\s*([^<]*?)\s*</{d.name}>", reply)
        if len(found) != 1:
            raise ReplyError(f"expected one <{d.name}> tag, found {len(found)}")
        if not re.fullmatch(r"[1-5]", found[0]):
            raise ReplyError(f"{d.name} must be an integer from 1 to 5, found {found[0]!r}")
        scores[d.name] = int(found[0])
    rationale = re.findall(r"<rationale>(.*?)</rationale>", reply, re.DOTALL)
    if len(rationale) != 1:
        raise ReplyError(f"expected one <rationale> tag, found {len(rationale)}")
    return scores, rationale[0]
