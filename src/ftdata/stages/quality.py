"""Low-quality examples: placeholders, boilerplate, cut-off or looping outputs, garbled text, leaks.

Plain-text (pretraining) records have no prompt and no answer: only the rules about text itself (garbled
characters, secrets, personal data, template variables) apply to them.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..quality import leftovers, lowq, phrases, private, shape
from ..quality.native import BatchSearch, Search
from ..quality.text import image_refs
from ..records import Example, Message
from .base import Problem, Stage


@dataclass
class QualityOptions:
    repeat_min_words: int = 30  # outputs shorter than this are never called repetitive by n-grams
    repeat_max_share: float = 0.4  # share of repeated word 5-grams above which an output loops
    repeat_min_compression: float = 0.12  # zlib ratio below which an output of 300+ bytes loops
    repeat_min_loops: int = 4  # a phrase said this many times in a row is a loop


def turns(example: Example) -> Iterator[tuple[str, str, Message]]:
    """Each trained assistant turn with the user turn before it and everything said before it."""
    if example.is_preference:
        user = next((m.content for m in reversed(example.messages or ()) if m.role == "user"), "")
        before = "\n\n".join(m.content for m in example.messages or ())
        for message in example.chosen or ():
            if message.role == "assistant" and not message.tool_calls:
                yield user, before, message
        return
    user, before = "", []
    for message in example.messages or ():
        if message.role == "user":
            user = message.content
        elif message.role == "assistant" and not message.tool_calls and message.weight != 0:
            yield user, "\n\n".join(before), message
        before.append(message.content)


class QualityStage(Stage):
    name = "quality"
    Options = QualityOptions

    def check(self, example: Example) -> Iterable[Problem]:
        return self._problems(example, None)

    def check_batch(self, examples: Sequence[Example]) -> Iterator[tuple[Example, Problem]]:
        """The long searches (phrase lists, secrets, phone numbers...) over the batch's answers, user turns and
        messages at once in native code; then each record's detectors, which find those searches done."""
        chats = [e for e in examples if e.messages is not None]
        answers = [answer.content for e in chats if not e.is_text for _, _, answer in turns(e)]
        messages = [m for e in chats for m in self._all_messages(e)]
        users = [m.content for m in messages if m.role == "user"]
        found = BatchSearch([
            ((*lowq.ANSWER_PATTERNS, *map(phrases.pattern, lowq.ANSWER_LISTS)), answers),
            ((*lowq.USER_PATTERNS, *map(phrases.pattern, lowq.USER_LISTS)), users),
            ((*lowq.MESSAGE_PATTERNS, *private.MESSAGE_PATTERNS), [m.content for m in messages]),
        ])
        search = found.search if found.native else None
        for example in examples:
            for problem in self._problems(example, search):
                yield example, problem

    def _problems(self, example: Example, search: Search | None) -> Iterable[Problem]:
        if example.messages is None:
            return ()
        o = self.options
        found: dict[str, Problem] = {}  # the first problem of each rule: one finding per rule and record

        def report(code: str, message: str | None, field: str | None) -> None:
            if message and code not in found:
                found[code] = Problem(code, message, field)

        for prompt, context, answer in () if example.is_text else turns(example):
            text, field = answer.content, answer.content_path
            report("Q001", lowq.placeholder_output(text), field)
            if not text.strip():
                continue
            report("Q003", lowq.boilerplate(text, bool(example.tools), prompt, search), field)
            report("Q004", shape.truncated(text, prompt), field)
            report("Q005", shape.repetitive(text, o.repeat_min_words, o.repeat_max_share, o.repeat_min_compression,
                                           o.repeat_min_loops), field)
            report("Q007", lowq.echo(prompt, text), field)
            report("Q008", lowq.unprompted_link(context, text), field)
            report("Q012", lowq.template_leak(context, text, search), field)
            report("Q013", lowq.wrong_arithmetic(prompt, text, search), field)
        has_images = bool(image_refs(example))
        messages = self._all_messages(example)
        for message in messages:
            field = message.content_path
            if message.role == "user" and not example.is_text:
                report("Q002", lowq.placeholder_input(message.content), field)
                report("Q009", lowq.unseen_reference(message.content, has_images, search), field)
            report("Q006", lowq.bad_characters(message.content, search), field)
            report("Q010", private.secret(message.content, search), field)
            report("Q011", private.personal_data(message.content, search), field)
            if "{" in message.content and "Q014" not in found:
                report("Q014", leftovers.template_variable(message.content, self._user_text(messages)), field)
        return found.values()

    @staticmethod
    def _user_text(messages: list[Message]) -> str:
        return "\n".join(m.content for m in messages if m.role in ("user", "system", "developer"))

    @staticmethod
    def _all_messages(example: Example) -> list[Message]:
        return [*(example.messages or ()), *(example.chosen or ()), *(example.rejected or ())]
