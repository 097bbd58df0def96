"""Counting what training sees: content tokens, the chat layout's overhead, trainable tokens.

Tokenisation is the costliest step of a check, and system prompts and few-shot blocks repeat across
records, so each distinct string is tokenised once: a cache keyed by the string's (64-bit) hash,
bounded in entries (a full cache of 1M entries held 120 MB). It has two generations, each of half the
entries: when the newer is full it becomes the older and the oldest is dropped; a string found in the
older one moves to the newer, so strings that keep coming back (a system prompt) are never re-counted.

The chat layout's overhead:
- OpenAI encodings: the documented accounting (3 tokens a message plus its role's, 1 more for a name,
  3 to prime the reply), as OpenAI's cookbook counts it.
- A tokenizer with a chat template (Hugging Face or Mistral): each record's conversation is rendered
  and tokenised whole, so its total is exactly the template's (tool calls are added as content tokens).
  Positions inside it (where the prompt ends, which turns a limit cuts) come from rendering the template
  once per sequence of roles with one-token placeholder contents, prefix by prefix; contents are
  tokenised apart there, so a merge across a template boundary can shift a position by a token.
- A tokenizer without a chat template: contents only (the stage reports that counts exclude a template).
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from ..records import Example, Message
from .tokenizers import OPENAI_REPLY_PRIMING, OPENAI_TOKENS_PER_MESSAGE, OPENAI_TOKENS_PER_NAME, Tokenizer

PLACEHOLDER = "x"
PLACEHOLDER_CALL = "f"
TEMPLATE_ROLES = ("system", "user", "assistant", "tool")


@dataclass(slots=True)
class RecordTokens:
    total: int = 0  # tokens of every sequence the record trains on (a pair: chosen + rejected)
    prompt: int = 0  # tokens before the answer, layout included
    trainable: int = 0  # content tokens of assistant turns whose weight is not 0
    longest: int = 0  # the longest single sequence: what a training limit truncates
    messages: int = 0
    by_role: dict[str, int] = field(default_factory=dict)  # content tokens by role; "layout" = overhead
    cut_turns: list[str] = field(default_factory=list)  # trainable assistant turns ending past the limit
    template_error: str | None = None


class TokenCounter:
    def __init__(self, tokenizer: Tokenizer, cache_entries: int = 1 << 18):
        self.tokenizer = tokenizer
        self._generation = max(1, cache_entries // 2)
        self._counts: dict[int, int] = {}  # the newer generation
        self._older: dict[int, int] = {}
        self._layouts: dict[tuple[str, ...], list[int] | str] = {}
        self._role_overhead: dict[str, int] = {}  # a few roles: kept apart from the bounded cache
        self.strings_tokenised = 0
        self.cache_hits = 0

    def text(self, text: str) -> int:
        """Tokens of one string, tokenised once however often it repeats."""
        if not text:
            return 0
        key = hash(text)
        count = self._counts.get(key)
        if count is not None:
            self.cache_hits += 1
            return count
        count = self._older.get(key)
        if count is None:
            count = self.tokenizer.count(text)
            self.strings_tokenised += 1
        else:
            self.cache_hits += 1
        if len(self._counts) >= self._generation:
            self._older, self._counts = self._counts, {}
        self._counts[key] = count
        return count

    def message(self, message: Message) -> int:
        """Content tokens of a message: its text, its name and its tool calls' names and arguments."""
        tokens = self.text(message.content)
        if message.name:
            tokens += self.text(message.name)
        for call in message.tool_calls:
            tokens += self.text(call.name or "")
            args = call.arguments
            tokens += self.text(args if isinstance(args, str) else orjson.dumps(args).decode())
        return tokens

    def example(self, example: Example, limit: int | None = None) -> RecordTokens:
        messages = example.messages or []
        if self.tokenizer.kind == "openai" and example.chosen is None and not example.tools:
            for m in messages:  # a plain loop: any() with a generator costs more per record
                if m.name or m.tool_calls:
                    break
            else:
                return self._openai_chat(messages, limit)
        result = RecordTokens()
        prompt = example.messages or []
        tools = self.text(orjson.dumps(example.tools).decode()) if example.tools else 0
        sequences = [prompt + (example.chosen or []), prompt + (example.rejected or [])] if example.is_preference else [prompt]
        prompt_len = len(prompt) if example.is_preference else len(example.prompt())
        for number, messages in enumerate(sequences):
            self._sequence(messages, prompt_len, tools, limit, result, pair=example.is_preference, first=number == 0)
        return result

    def _openai_chat(self, messages: list[Message], limit: int | None) -> RecordTokens:
        """What `_sequence` gives a chat without names or tool calls under OpenAI's accounting, in one
        loop with the cache inlined (the per-record cost beside tokenising)."""
        counts, per_role, hits = self._counts, self._role_overhead, 0
        by_role: dict[str, int] = {}
        cut_turns: list[str] = []
        end = trainable = content = prompt = 0
        answered = False
        for m in messages:
            role, text = m.role, m.content
            tokens = counts.get(hash(text)) if text else 0
            if tokens is None:
                tokens, counts = self.text(text), self._counts  # text() may have started a new generation
            elif text:
                hits += 1
            overhead = per_role.get(role)  # the role's tokens and the 3 around every message
            if overhead is None:
                overhead = per_role[role] = OPENAI_TOKENS_PER_MESSAGE + self.text(role)
            elif role:
                hits += 1
            content += tokens
            by_role[role] = by_role.get(role, 0) + tokens
            if role == "assistant":
                prompt, answered = end, True  # the prompt ends before the last assistant turn
                end += overhead + tokens
                if m.weight not in (0, False):
                    trainable += tokens
                    if limit is not None and end > limit:
                        cut_turns.append(m.path)
            else:
                end += overhead + tokens
        self.cache_hits += hits
        if not answered:
            prompt = end
        total = end + OPENAI_REPLY_PRIMING if messages else 0
        by_role["layout"] = total - content
        return RecordTokens(total=total, prompt=prompt, trainable=trainable, longest=total, messages=len(messages),
                            by_role=by_role, cut_turns=cut_turns)

    def _sequence(self, messages: list[Message], prompt_len: int, tools: int, limit: int | None,
                  result: RecordTokens, pair: bool, first: bool) -> None:
        """Add one sequence to result; a pair's rejected sequence adds only its own answer's shares."""
        contents = [self.message(m) for m in messages]
        ends, error = self._layout(messages)
        if error and first:
            result.template_error = error
        content_end = tools
        for i, (m, tokens) in enumerate(zip(messages, contents)):
            content_end += tokens
            end = content_end + ends[i]
            counted = first or i >= prompt_len  # a pair's shared prompt counts once
            if counted:
                result.by_role[m.role] = result.by_role.get(m.role, 0) + tokens
                result.messages += 1
            # OpenAI and chat SFT trainers learn every assistant turn unless its weight is 0; a pair, its answers
            trainable = m.role == "assistant" and m.weight not in (0, False) and (not pair or i >= prompt_len)
            if trainable and counted:
                result.trainable += tokens
                if limit is not None and end > limit:
                    result.cut_turns.append(m.path)
            if first and i == prompt_len - 1:
                result.prompt = end
        length = content_end + ends[-1]
        if self.tokenizer.kind == "template" and not error:
            length, refused = self._rendered(messages, tools, fallback=length)
            if refused and first:
                result.template_error = refused
        if first and prompt_len == 0:
            result.prompt = tools
        if first and tools:
            result.by_role["tools"] = result.by_role.get("tools", 0) + tools
        result.by_role["layout"] = result.by_role.get("layout", 0) + max(0, length - content_end)
        result.total += length
        result.longest = max(result.longest, length)

    def _rendered(self, messages: list[Message], tools: int, fallback: int) -> tuple[int, str | None]:
        """The exact count of a conversation through the chat template (tool calls too, when it renders
        them), or the fallback and why the template refused this content."""
        layout = self._layouts.get(_signature(messages))
        calls = sum(self.message(m) - self.text(m.content) for m in messages) if isinstance(layout, tuple) and layout[1] else 0
        try:
            partial = messages[-1].role != "assistant"
            return tools + calls + self.tokenizer.render_count(chat_dicts(messages), partial=partial), None
        except Exception as e:  # refused although its roles were accepted: the content itself
            return fallback, f"{self.tokenizer.name}'s chat template refuses this conversation: {_first_line(e)}"

    def _layout(self, messages: Sequence[Message]) -> tuple[list[int], str | None]:
        """Overhead tokens up to the end of each message, then a last entry: the whole sequence's."""
        kind = self.tokenizer.kind
        if kind == "plain" or not messages:
            return [0] * (len(messages) + 1), None
        if kind == "openai":
            ends, overhead = [], 0
            for m in messages:
                overhead += OPENAI_TOKENS_PER_MESSAGE + self.text(m.role) + (OPENAI_TOKENS_PER_NAME if m.name else 0)
                ends.append(overhead)
            return [*ends, overhead + OPENAI_REPLY_PRIMING], None
        signature = _signature(messages)
        layout = self._layouts.get(signature)
        if layout is None:
            layout = self._probe(messages)
            if len(self._layouts) < 10_000:
                self._layouts[signature] = layout
        if isinstance(layout, str):
            return [0] * (len(messages) + 1), layout
        return layout[0], None

    def _probe(self, messages: Sequence[Message]) -> tuple[list[int], bool] | str:
        """Render the template over placeholder messages: (overhead per prefix, whether the template
        leaves tool calls out), or why it refused them."""
        roles = [m.role for m in messages]
        unknown = [r for r in roles if r not in TEMPLATE_ROLES]
        if unknown:
            return f"the chat template has no role {unknown[0]!r}"
        conversation = chat_dicts(messages, placeholder=True)
        per_call = self.tokenizer.count(PLACEHOLDER_CALL) + self.tokenizer.count("{}")
        placeholders = [per_call * len(m.tool_calls) or self.tokenizer.count(PLACEHOLDER) for m in messages]
        try:
            # a conversation without an answer (a production prompt) is laid out as a prefix
            rendered = self.tokenizer.render_count(conversation, partial=roles[-1] != "assistant")
        except Exception as e:  # templates raise on conversations they refuse (order of roles)
            return f"{self.tokenizer.name}'s chat template refuses roles {'/'.join(roles)}: {_first_line(e)}"
        drops_calls = any(m.tool_calls for m in messages) and rendered == self._render_or_none(
            [{k: v for k, v in d.items() if k != "tool_calls"} for d in conversation])
        if drops_calls:  # the template renders no tool calls: they are not placeholders it counted
            placeholders = [0 if m.tool_calls else self.tokenizer.count(PLACEHOLDER) for m in messages]
        whole = rendered - sum(placeholders)
        ends = []
        for i in range(1, len(roles) + 1):
            try:
                ends.append(self.tokenizer.render_count(conversation[:i], partial=True) - sum(placeholders[:i]))
            except Exception:  # a prefix the template refuses: assume its overhead is already spent
                ends.append(None)
        resolved = [whole] * len(roles)
        later = whole
        for i in range(len(roles) - 1, -1, -1):
            later = ends[i] if ends[i] is not None else later
            resolved[i] = later
        return [*resolved, whole], drops_calls

    def _render_or_none(self, conversation: list[dict]) -> int | None:
        try:
            return self.tokenizer.render_count(conversation, partial=True)
        except Exception:  # e.g. Mistral refuses an assistant turn left empty without its calls
            return None


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:160]


def _signature(messages: Sequence[Message]) -> tuple[tuple[str, int], ...]:
    return tuple((m.role, len(m.tool_calls)) for m in messages)


def chat_dicts(messages: Sequence[Message], placeholder: bool = False) -> list[dict]:
    """Messages as chat templates take them, tool calls in OpenAI's shape; placeholders for probing.
    Calls and results without ids (ShareGPT-style data) get ids in order, as a trainer would pair them."""
    out, calls_made, unanswered = [], 0, deque()
    for m in messages:
        # a placeholder call carries no text: Mistral refuses an assistant turn with both
        entry: dict = {"role": m.role, "content": (PLACEHOLDER if not m.tool_calls else "") if placeholder else m.content}
        if m.tool_calls:
            entry["tool_calls"] = []
            for call in m.tool_calls:
                calls_made += 1
                call_id = f"{calls_made:09d}" if placeholder or not call.id else call.id
                unanswered.append(call_id)
                args = call.arguments if isinstance(call.arguments, str) else orjson.dumps(call.arguments).decode()
                entry["tool_calls"].append({
                    "id": call_id, "type": "function",
                    "function": {"name": PLACEHOLDER_CALL if placeholder else (call.name or ""),
                                 "arguments": "{}" if placeholder else args}})
        if m.role == "tool":
            answered = unanswered.popleft() if unanswered else f"{calls_made:09d}"
            entry["tool_call_id"] = answered if placeholder or not m.tool_call_id else m.tool_call_id
        out.append(entry)
    return out
