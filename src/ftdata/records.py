"""The canonical record every stage consumes, and the findings stages attach to it.

Whatever the input format (OpenAI chat, ShareGPT, Alpaca, Gemini, preference pairs...), a record
becomes an `Example`: a conversation of `Message`s with canonical roles, plus the place it came
from. Each message keeps the field path it was read from, so a finding about it names the field
as the user wrote it (`conversations[3].value`), not ftdata's internal shape.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Canonical roles. Formats map their own vocabulary onto these (ShareGPT `gpt` -> assistant,
# Gemini `model` -> assistant); a role that maps to none keeps its raw value and is reported.
ROLES = ("system", "developer", "user", "assistant", "tool")

# Formats whose records are plain text to train on as written (pretraining / continuation), not
# conversations: a reader keeps the text as one assistant message so that token counts and text rules
# see it, but there is no user turn, no chat template and no prompt it answers.
TEXT_FORMATS = frozenset({"text"})


@dataclass(frozen=True, slots=True)
class Ref:
    """A place in the input: file, 1-based line (None for the file as a whole), record index."""

    file: str
    line: int | None
    index: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported problem. Its JSON form is the stable report contract."""

    code: str
    name: str
    severity: str
    file: str | None
    line: int | None
    field: str | None
    message: str
    related: tuple[Ref, ...] = ()
    index: int | None = None  # the record it rejects, if any; not part of the JSON contract

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "related": [{"file": r.file, "line": r.line} for r in self.related],
        }


@dataclass(slots=True)
class ToolCall:
    id: str | None
    name: str | None
    arguments: Any  # as written: normally a JSON string, sometimes (wrongly) an object
    path: str  # e.g. messages[2].tool_calls[0]


@dataclass(slots=True)
class Message:
    role: str  # canonical role, or the raw value when it maps to none
    content: str  # the text parts joined; "" when there is none
    path: str  # where the message sits in the source record, e.g. messages[2]
    content_path: str  # where its text sits, e.g. messages[2].content
    source_role: str | None = None  # the role as written (`gpt`, `model`, `human`)
    weight: Any = None
    name: str | None = None
    tool_calls: Sequence[ToolCall] = ()  # read-only: a plain message shares the empty default
    tool_call_id: str | None = None
    images: Sequence[str] = ()  # image URLs or data: URIs
    has_content: bool = True  # False when the content field is absent or null
    parts: bool = False  # the content was written as a list of parts (text, images), not as a string
    # the first `marks` images stand at the first `marks` `<image>` markers of the content (LLaMA-Factory's
    # `images` column); any further image follows the text
    marks: int = 0


@dataclass(slots=True)
class Example:
    """One input record, from its raw bytes to its canonical conversation and findings."""

    index: int  # position across all inputs of the run, from 0
    file: str
    line: int  # 1-based line (JSONL) or the line where the element starts (JSON array)
    raw: bytes  # the record's bytes exactly as read (no line terminator)
    split: str = "train"  # role of its input file: train, val or test
    data: dict | None = None  # the parsed JSON object; None when it could not be parsed
    format: str | None = None
    messages: list[Message] | None = None  # the conversation, or a preference pair's prompt
    chosen: list[Message] | None = None  # preference pairs only
    rejected: list[Message] | None = None
    tools: list | None = None  # declared tools, as written
    # KTO's desirability of the completion: False marks an example to train away from. None: not KTO.
    label: bool | None = None
    findings: list[Finding] = field(default_factory=list)
    # a record over the size limit is not loaded (raw is b""): where its bytes lie in the input, start..end
    # (of the decompressed stream for a .gz), for the outputs to copy or name it
    not_loaded: tuple[int, int] | None = None
    # views of the record that several stages derive (a prompt key, image references), kept by the first to
    # ask: a batch goes through one stage before the next, so a cache of the last record would always miss
    views: dict[str, Any] | None = None

    def view(self, name: str, make: Callable[["Example"], Any]) -> Any:
        """make(self), computed once for this record under `name`."""
        if self.views is None:
            self.views = {}
        elif name in self.views:
            return self.views[name]
        value = self.views[name] = make(self)
        return value

    @property
    def ref(self) -> Ref:
        return Ref(self.file, self.line, self.index)

    @property
    def is_preference(self) -> bool:
        return self.chosen is not None

    @property
    def is_text(self) -> bool:
        """A plain-text record (`{"text": ...}`): no roles, no turns, no prompt. Rules about conversations
        (missing user turn, chat template, an answer's links or repetition relative to a prompt) skip it."""
        return self.format in TEXT_FORMATS

    @property
    def is_chat(self) -> bool:
        """A record read as a conversation (chat, instruction or preference pair), not plain text."""
        return self.messages is not None and not self.is_text

    def prompt(self) -> list[Message]:
        """What the model is given: for a pair its prompt, else every turn before the last assistant turn."""
        msgs = self.messages or []
        if self.is_preference:
            return msgs
        for i in range(len(msgs) - 1, -1, -1):
            if msgs[i].role == "assistant":
                return msgs[:i]
        return msgs

    def answer(self) -> list[Message]:
        """What the model learns to say: a pair's chosen turns, else the last assistant turn and after."""
        if self.is_preference:
            return self.chosen or []
        msgs = self.messages or []
        return msgs[len(self.prompt()):]

    def has_error(self) -> bool:
        return any(f.severity == "error" for f in self.findings)
