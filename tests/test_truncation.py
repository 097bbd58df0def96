"""Truncation (Q004): cut-off outputs against complete ones that merely end without a full stop, and the
shape detectors' work on huge answers (they read only an answer's end, so must still see what is there)."""

import json
import random

from hypothesis import given, strategies as st

from ftdata.quality import shape


def _prose(megabytes: float) -> str:
    """Sentences of words drawn from a few hundred made-up ones: varied text that neither ends nor loops oddly."""
    rng = random.Random(0)
    words = ["".join(rng.choices("bcdfglmnprstvz", k=2)) + rng.choice("aeiou") + rng.choice("nrst") for _ in range(400)]
    sentences, size = [], 0
    while size < megabytes * 1e6:
        sentence = " ".join(rng.choices(words, k=rng.randint(6, 20))).capitalize() + "."
        sentences.append(sentence)
        size += len(sentence) + 1
    return " ".join(sentences)


SENTENCES = _prose(12)


def _open_brackets_reference(text: str) -> int:
    """The character loop the regex version replaced: brackets outside JSON strings, opened minus closed."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth


@given(st.text(alphabet='{}[]"\\ a:,\n', max_size=60))
def test_open_brackets_counts_as_the_character_loop_did(text):
    assert shape._open_brackets(text) == _open_brackets_reference(text)


@given(st.text(max_size=80))
def test_letters_share_counts_as_the_character_loop_did(text):
    chars = [c for c in text if not c.isspace()]
    expected = sum(c.isalpha() for c in chars) / max(1, len(chars))
    assert abs(shape._letters_share(text) - expected) < 1e-9 or any(c.isnumeric() and not c.isdecimal() for c in text)


def test_a_huge_answer_is_judged_by_its_end():
    assert len(SENTENCES) > 10**7
    assert shape.truncated(SENTENCES) is None
    assert shape.truncated(SENTENCES[:-1] + " and the")
    assert shape.truncated(SENTENCES.replace(". ", ".\n")[:-1] + ", and the")
    closed = json.dumps({"text": SENTENCES, "brackets in a string": "[[{{"})
    assert shape.truncated(closed) is None
    assert shape.truncated(closed[:-1]) == "output starts as JSON but its brackets are never closed"
    assert shape.truncated("```\n" + SENTENCES) == "output has an unclosed code fence (```)"


def test_a_huge_answer_that_ends_in_a_loop_loops():
    assert shape.repetitive(SENTENCES + " I am happy." * 5000)
    assert shape.repetitive(SENTENCES) is None


def test_a_code_fence_opened_before_the_end_that_is_read_stays_code():
    """The repeated lines of a long log inside one fence are output, not a loop (a fence that the read
    window cut off at its start would leave them as prose)."""
    log = "Here is the log:\n```\n" + "INFO request served in 12 ms\n" * 20_000 + "```\nAll requests were served."
    assert shape.repetitive(log) is None
