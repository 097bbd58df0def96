"""Conversation rules of the selected provider target: roles and their order, content, weights,
images, preference pairs, sample weights, and the dataset's size limits. Every threshold comes from the
profile."""

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from .. import formats
from ..records import Example, Message, Ref
from .base import Problem, Stage
from .parts import refused_parts, value_parts

_LEADING = ("system", "developer")
_CLEAN_ORDERS = 4096  # role orders remembered as passing, per stage
_PATH_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


class ProfileStage(Stage):
    name = "profile"

    def __init__(self, ctx):
        super().__init__(ctx)
        t = ctx.target
        self.roles, self.weight, self.images, self.limits = t["roles"], t["weight"], t["images"], t["limits"]
        self.preference, self.record_rules, self.message_rules = t["preference"], t["records"], t["messages"]
        # what the per-record checks need, looked up once: check runs for every record
        self.record_key_formats = set(self.record_rules["keys"]) if not self.record_rules["one_format"] else None
        self.message_key_sets = {f: frozenset(keys) for f, keys in self.message_rules["keys"].items()}
        self.system_field = self.roles["system_field"]
        self.allowed_roles = frozenset(self.roles["allowed"])
        self.clean_orders: set[tuple] = set()
        self.formats = set(t["formats"])
        self.records = 0  # training records
        self.image_examples = 0  # training records with an image
        # file -> [records with a sample weight, without one, line of the first with, of the first without]
        self.sample_weights: dict[str, list] = {}

    def check(self, example: Example) -> Iterator[Problem]:
        self.records += example.split == "train"
        if example.format is None or example.messages is None:
            return
        if self.weight["sample"]:
            yield from self._sample_weight(example)
        target = self.ctx.target.name
        if self.formats and example.format not in self.formats:
            yield Problem("P012", f"target {target} does not accept {example.format} records; "
                                  f"it accepts {', '.join(sorted(self.formats))} (see `ftdata convert`)")
        if self.record_key_formats is None or example.format in self.record_key_formats:
            yield from self._record_keys(example)
        if not example.is_chat:  # plain text: no roles, turns or prompt for the conversation rules to judge
            return
        preference = example.is_preference
        everything = example.messages + (example.chosen or []) + (example.rejected or []) if preference else example.messages
        allowed = self.allowed_roles
        weighted = images = parts = False
        for m in everything:  # the per-message rules inline: this loop runs for every message of every record
            if m.role not in allowed:
                shown = m.source_role if m.source_role is not None else m.role
                yield Problem("P001", f"role {shown!r} is not accepted by target {target}; "
                                      f"accepted: {', '.join(self.roles['allowed'])}", m.path)
            content = m.content
            if (not content or content.isspace()) and not m.tool_calls and not m.images:
                found = "missing" if not m.has_content else ("empty" if not content else "only whitespace")
                yield Problem("P002", f"{m.role or 'message'} content is {found}", m.content_path)
            if m.weight is not None:
                weighted = True
            if m.images:
                images = True
            if m.parts:
                parts = True
        # Whether the order rules find anything depends on the roles alone, and a dataset repeats a few
        # orders: one that passed once passes again (only where it finds something do paths matter).
        order = (preference, *[m.role for m in example.messages])
        if order not in self.clean_orders:
            problems = list(self._order(example.messages, preference))
            if problems:
                yield from problems
            elif len(self.clean_orders) < _CLEAN_ORDERS:
                self.clean_orders.add(order)
        if preference:
            yield from self._pair(example)
        elif weighted:
            yield from self._weights(example.messages)
        if images:
            self.image_examples += example.split == "train"
            yield from self._images(everything)
        # one form per conversation; an instruction record's prompt and completion are separate fields
        if parts and not self.images["mixed_content"] and example.format != "prompt-completion":
            yield from self._content_forms(example.messages)
        if self.system_field and example.format in self.formats:  # other formats get P012 and a convert
            yield from self._system_fields(example.messages)
        if example.format in self.message_key_sets or self.message_rules["exclusive"]:
            yield from self._message_keys(example, everything)
        if parts and self.message_rules["part_types"]:
            yield from refused_parts(_raw_messages(example, everything), self.message_rules["part_types"], target)
        if parts and not self.message_rules["part_value"]:
            yield from value_parts(_raw_messages(example, everything), target)
        if example.format == "sharegpt" and not preference and self.roles["sharegpt_turns"]:
            yield from self._sharegpt_turns(example.messages)

    def _order(self, messages: list[Message], preference: bool) -> Iterator[Problem]:
        roles = [m.role for m in messages]
        if self.roles["require_user"] and "user" not in roles:
            yield Problem("P007", "no user message: the model is trained on answers to nothing", _first_path(messages))
        if self.roles["require_assistant"] and not preference and "assistant" not in roles:
            yield Problem("P003", "no assistant message: nothing to train on", _first_path(messages))
        if self.roles["system_first_only"]:
            for i, m in enumerate(messages):
                if m.role in _LEADING and any(r not in _LEADING for r in roles[:i]):
                    yield Problem("P006", f"{m.role} message after the conversation started (turn {i + 1})", m.path)
                elif m.role in _LEADING and i > 0 and roles[i - 1] in _LEADING:
                    yield Problem("P006", f"more than one {m.role} message at the start", m.path)
        elif not self.roles["system_after_assistant"]:
            for i, m in enumerate(messages[1:], 1):
                if m.role in _LEADING and roles[i - 1] in ("assistant", "tool"):
                    after = "an assistant" if roles[i - 1] == "assistant" else "a tool"
                    yield Problem("P006", f"{m.role} message right after {after} turn (turn {i + 1}); target "
                                          f"{self.ctx.target.name} takes one only after a user or system turn", m.path)
        if self.roles["alternate"]:
            before = None
            for m in messages:
                if m.role == "tool":  # tool results answer a call: the assistant speaks again after them
                    before = None
                elif m.role in ("user", "assistant"):
                    if before is not None and before.role == m.role:
                        yield Problem("P005", f"two {m.role} turns in a row ({before.path} and {m.path})", m.path)
                    before = m
        if self.roles["no_repeats"]:  # tool after tool too; the checks above already cover their own roles
            covered = ({"user", "assistant"} if self.roles["alternate"] else set()) | \
                (set(_LEADING) if self.roles["system_first_only"] else set())
            for before, after in zip(messages, messages[1:]):
                if before.role == after.role and after.role not in covered:
                    yield Problem("P005", f"two {after.role or 'unknown'} turns in a row ({before.path} and {after.path})",
                                  after.path)
        last = self.roles["last"]
        if last and not preference and messages and messages[-1].role != last:
            yield Problem("P004", f"conversation ends with {messages[-1].role or 'an unknown role'}, "
                                  f"target {self.ctx.target.name} needs it to end with {last}", messages[-1].path)

    def _weights(self, messages: list[Message]) -> Iterator[Problem]:
        weighted = [m for m in messages if m.weight is not None]
        if not self.weight["allowed"]:
            yield Problem("P008", f"target {self.ctx.target.name} does not support per-message weight", weighted[0].path + ".weight")
            return
        for m in weighted:
            if m.role not in self.weight["roles"]:
                yield Problem("P008", f"weight on a {m.role} message; only {', '.join(self.weight['roles'])} messages take one", m.path + ".weight")
            elif m.weight not in self.weight["values"] or isinstance(m.weight, bool):
                yield Problem("P008", f"weight must be one of {', '.join(map(str, self.weight['values']))}, found {m.weight!r}", m.path + ".weight")
            elif self.weight["integer"] and type(m.weight) is not int:
                yield Problem("P008", f"weight must be an integer (0 or 1), found {m.weight!r}; target "
                                      f"{self.ctx.target.name} refuses a number written with a decimal point", m.path + ".weight")
            elif m.images and m.weight != 0 and not self.weight["with_images"]:
                yield Problem("P008", f"weight {m.weight!r} on a message with images; target {self.ctx.target.name} "
                                      "takes only weight 0 or none there", m.path + ".weight")
        assistants = [m for m in messages if m.role == "assistant"]
        if assistants and all(m.weight == 0 for m in assistants):
            yield Problem("P009", "every assistant message has weight 0: the record trains nothing", assistants[-1].path + ".weight")
        if self.weight["all_or_none"] and 0 < sum(m.weight is not None for m in assistants) < len(assistants):
            missing = next(m for m in assistants if m.weight is None)
            yield Problem("P010", f"some assistant messages have a weight and {missing.path} has none; "
                                  f"target {self.ctx.target.name} needs all or none", missing.path)

    def _sample_weight(self, example: Example) -> Iterator[Problem]:
        seen = self.sample_weights.setdefault(example.file, [0, 0, None, None])
        weighted = "weight" in example.data  # type: ignore[operator]
        seen[0 if weighted else 1] += 1
        if seen[2 if weighted else 3] is None:
            seen[2 if weighted else 3] = example.line
        weight = example.data.get("weight") if weighted else 1.0  # type: ignore[union-attr]
        if type(weight) not in (int, float):
            yield Problem("P017", f"sample weight must be a number, found {weight!r}", "weight")

    def _pair(self, example: Example) -> Iterator[Problem]:
        chosen, rejected = example.chosen or [], example.rejected or []
        if self.preference["single_output"]:
            for answer in (chosen, rejected):
                if len(answer) != 1 or answer[0].role != "assistant":
                    where = answer[0].path.split("[")[0] if answer else None
                    found = ", ".join(m.role or "unknown" for m in answer) or "none"
                    yield Problem("P018", f"target {self.ctx.target.name} needs exactly one assistant message as each "
                                          f"answer of a pair; found: {found}", where)
            if example.messages and example.messages[-1].role == "assistant":
                yield Problem("P018", f"the prompt of a pair ends with an assistant message; target "
                                      f"{self.ctx.target.name} needs it to end before the answer", example.messages[-1].path)
        if chosen and [(m.role, m.content.strip()) for m in chosen] == [(m.role, m.content.strip()) for m in rejected]:
            yield Problem("P011", "chosen and rejected answers are identical: the pair teaches no preference",
                          chosen[0].path.split("[")[0])

    def _record_keys(self, example: Example) -> Iterator[Problem]:
        """Top-level keys against the target's list for the record's format, and records that match two formats."""
        data, name = example.data or {}, self.ctx.target.name
        if self.record_rules["one_format"]:
            held = [f for f in sorted(self.formats) if all(k in data for k in formats.get(f).keys)]
            if len(held) > 1:
                yield Problem("P019", f"record holds the keys of both {held[0]} and {held[1]}; target {name} refuses a "
                                      "record that matches two formats (keep one format's keys)")
                return
        allowed = self.record_rules["keys"].get(example.format)
        extra = [k for k in data if k not in allowed] if allowed is not None else []
        if extra:
            keys = ", ".join(map(repr, extra))
            yield Problem("P019", f"target {name} refuses {keys} in {_article(example.format)} {example.format} record; it takes only "
                                  f"{', '.join(allowed)} (move metadata to a separate file)", extra[0])

    def _message_keys(self, example: Example, messages: list[Message]) -> Iterator[Problem]:
        """Each message's keys, as written, against the target's list for the format and its exclusive pairs."""
        allowed = self.message_rules["keys"].get(example.format)
        allowed_set = self.message_key_sets.get(example.format)
        lists = _MESSAGE_LISTS.get(example.format)
        if allowed_set is not None and lists is not None and not self.message_rules["exclusive"]:
            for prefix in lists:  # the common case, with a plain loop and no path made per message
                for raw in _list_at(example.data, prefix):
                    if type(raw) is dict and not raw.keys() <= allowed_set:
                        break
                else:
                    continue
                break
            else:
                return
        name = self.ctx.target.name
        for where, raw in _raw_messages(example, messages):
            path = where if isinstance(where, str) else f"{where[0]}[{where[1]}]"
            if allowed_set is not None and not raw.keys() <= allowed_set:
                extra = [k for k in raw if k not in allowed_set]
                yield Problem("P020", f"message key {', '.join(map(repr, extra))} is not one target {name} takes "
                                      f"({', '.join(allowed)}); its loader refuses the message", f"{path}.{extra[0]}")
            for keys in self.message_rules["exclusive"]:
                if all(k in raw for k in keys):
                    yield Problem("P020", f"message holds both {' and '.join(map(repr, keys))}; target {name} takes one "
                                          "of them", f"{path}.{keys[-1]}")

    def _system_fields(self, messages: list[Message]) -> Iterator[Problem]:
        field = self.roles["system_field"]
        for m in messages:
            if m.role in _LEADING and not m.path.startswith(field):
                yield Problem("P001", f"a {m.source_role or m.role} turn at {m.path}; target {self.ctx.target.name} "
                                      f"takes system instructions only in {field}", m.path)

    def _sharegpt_turns(self, messages: list[Message]) -> Iterator[Problem]:
        """ShareGPT's trainers read turns by position: after an optional system turn, human (or observation) and
        gpt (or function_call) alternate and the last is gpt; LLaMA-Factory's converter skips any other record
        ("Invalid role tag", "Invalid message count")."""
        turns = messages[1:] if messages and messages[0].role in _LEADING else messages
        for i, m in enumerate(turns):
            expected = ("user", "tool") if i % 2 == 0 else ("assistant",)
            if m.role not in expected:
                shown = m.source_role if m.source_role is not None else m.role
                want = "human or observation" if i % 2 == 0 else "gpt or function_call"
                yield Problem("P005", f"turn {i + 1} is {shown!r} where ShareGPT needs {want}: turns alternate, and "
                                      "LLaMA-Factory skips the record", m.path)
                return
        if turns and len(turns) % 2 and self.roles["last"] != "assistant":  # else the target's own P004 says it
            shown = turns[-1].source_role if turns[-1].source_role is not None else turns[-1].role
            yield Problem("P004", f"conversation ends with {shown!r}; ShareGPT needs it to end with gpt (an even number "
                                  "of turns), and LLaMA-Factory skips the record", turns[-1].path)

    def _images(self, messages: list[Message]) -> Iterator[Problem]:
        count = 0
        for m in messages:
            for url in m.images:
                count += 1
                if not self.images["allowed"]:
                    yield Problem("P013", f"target {self.ctx.target.name} does not accept images", m.content_path)
                    return
                if m.role not in self.images["roles"]:
                    yield Problem("P013", f"image in a {m.role} message; images go in {', '.join(self.images['roles'])} messages", m.content_path)
                scheme = _image_scheme(url)
                if scheme not in self.images["url_schemes"]:
                    shown = "a local file path" if scheme == "path" else f"image URL scheme {scheme!r}"
                    yield Problem("P013", f"{shown} is not one of the accepted {', '.join(self.images['url_schemes'])}",
                                  m.content_path)
                elif scheme == "data":
                    yield from self._embedded(url, m.content_path)
        limit = self.images["max_per_example"]
        if limit and count > limit:
            yield Problem("P013", f"{count} images in one example; target {self.ctx.target.name} accepts at most {limit}")

    def _content_forms(self, messages: list[Message]) -> Iterator[Problem]:
        """One form of content in a conversation: all strings, or all lists of parts."""
        first = messages[0] if messages else None
        other = next((m for m in messages if m.parts != first.parts), None) if first else None
        if other is not None:
            forms = {True: "a list of parts", False: "a string"}
            yield Problem("P013", f"content is {forms[other.parts]} here and {forms[first.parts]} in {first.path}; target "
                                  f"{self.ctx.target.name} needs one form for every message of a conversation (write "
                                  "text-only turns as [{\"type\": \"text\", ...}] too)", other.content_path)

    def _embedded(self, url: str, field: str) -> Iterator[Problem]:
        """The type and decoded size of an image held in a data: URL, against the target's limits."""
        header, _, payload = url.partition(",")
        kind = header.removeprefix("data:").split(";")[0].removeprefix("image/")
        types, limit = self.images["types"], self.images["max_bytes"]
        if types and kind not in types:
            yield Problem("P013", f"image type {kind or '(none)'!r} is not one of {', '.join(types)}", field)
        size = len(payload) * 3 // 4 - payload[-2:].count("=") if ";base64" in header else len(payload)
        if limit and size > limit:
            yield Problem("P013", f"image is {size:,} bytes; target {self.ctx.target.name} accepts at most {limit:,}", field)

    def shard_state(self) -> tuple[int, int, dict[str, list]]:
        return self.records, self.image_examples, self.sample_weights

    def merge(self, state: tuple[int, int, dict[str, list]]) -> None:
        records, image_examples, sample_weights = state
        self.records += records
        self.image_examples += image_examples
        for file, (weighted, plain, first_weighted, first_plain) in sample_weights.items():
            seen = self.sample_weights.setdefault(file, [0, 0, None, None])
            seen[0] += weighted
            seen[1] += plain
            seen[2] = seen[2] or first_weighted  # shards merge in input order: the earlier one stays
            seen[3] = seen[3] or first_plain

    def finish(self) -> Iterator[tuple[Ref | None, Problem]]:
        low, high = self.limits["min_examples"], self.limits["max_examples"]
        name = self.ctx.target.name
        if low and self.records < low:
            yield None, Problem("P014", f"{self.records} training examples; target {name} needs at least {low}"
                                        + _split_hint(self.ctx.inputs, self.records))
        if high and self.records > high:
            yield None, Problem("P015", f"{self.records} examples; target {name} accepts at most {high}")
        with_images = self.images["max_examples_with_images"]
        if with_images and self.image_examples > with_images:
            yield None, Problem("P015", f"{self.image_examples:,} training examples contain images; target {name} accepts "
                                        f"at most {with_images:,} (examples without images do not count)")
        for file, (weighted, plain, first_weighted, first_plain) in self.sample_weights.items():
            if weighted and plain:
                yield Ref(file, None), Problem(
                    "P017", f"{weighted} records have a sample weight and {plain} have none (first without: line "
                            f"{first_plain}); target {name} needs it on every record or on none",
                    "weight", (Ref(file, first_weighted), Ref(file, first_plain)))
        max_bytes = {"train": self.limits["max_file_bytes"], "val": self.limits["max_val_file_bytes"]}
        for source in self.ctx.inputs:
            limit = max_bytes.get(source.split)
            if limit and source.path != "-" and (size := Path(source.path).stat().st_size) > limit:
                kind = "validation file" if source.split == "val" else "file"
                yield Ref(source.path, None), Problem("P016", f"{kind} is {size:,} bytes; target {name} accepts at most {limit:,}")


def _article(word: str) -> str:
    """"a" or "an" before a format name, as it is read aloud (an openai-chat, an alpaca, a sharegpt)."""
    return "an" if word[:1].lower() in "aeio" else "a"


def _split_hint(inputs, training: int) -> str:
    """How to name the training split, when the inputs hold none (every file named as validation or test)."""
    if training or any(i.split == "train" for i in inputs):
        return ""
    named = ", ".join(f"{i.path} ({i.split})" for i in inputs)
    return (f"; no input is training data ({named}): pass the training file with --train PATH, or name it without "
            "val, valid, validation, dev, eval or test (a file's name sets its split when several are given)")


def _first_path(messages: list[Message]) -> str | None:
    return messages[0].path.split("[")[0] if messages else None


# where each format keeps its message objects, so that their keys are read without resolving every path
_MESSAGE_LISTS = {"openai-chat": ("messages",), "openai-preference": ("input.messages", "preferred_output",
                                                                      "non_preferred_output")}


def _raw_messages(example: Example, messages: list[Message]) -> Iterator[tuple[str | tuple[str, int], dict]]:
    """(path, or list path and index, message object as written) for each message of a record."""
    lists = _MESSAGE_LISTS.get(example.format)
    if lists is None:
        for m in messages:
            raw = _at(example.data, m.path)
            if isinstance(raw, dict):
                yield m.path, raw
        return
    for prefix in lists:
        for i, raw in enumerate(_list_at(example.data, prefix)):
            if type(raw) is dict:
                yield (prefix, i), raw


def _list_at(data: object, path: str) -> list:
    value = _at(data, path)
    return value if isinstance(value, list) else []


def _at(data: object, path: str) -> object:
    """The value at a field path such as input.messages[2] in a parsed record, or None."""
    node = data
    for part in _steps(path):
        if type(part) is int:
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


@lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[str | int, ...]:
    """A field path's keys and indexes, parsed once: records share their paths (messages[0], messages[1]...)."""
    return tuple(int(p[1:-1]) if p[0] == "[" else p for p in _PATH_PART.findall(path))


def _image_scheme(url: str) -> str:
    """The URL's scheme, or "path" for a local file path (`/data/1.jpg`, `images/1.jpg`, `C:\\x.png`), as
    open-source trainers take them."""
    scheme = urlparse(url).scheme
    return "path" if not scheme or (len(scheme) == 1 and url[1:3] in (":\\", ":/")) else scheme
