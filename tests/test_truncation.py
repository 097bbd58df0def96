"""Truncation (Q004): cut-off outputs against complete ones that merely end without a full stop, and the
shape detectors' work on huge answers (they read only an answer's end, so must still see what is there)."""

import json
import random
import re

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


_CODE_BEFORE = re.compile(r"[;{}(\[]\s*$|^\s*[\w.]+\s*=\s*[\w.\[({'\"]"
                          r"|^\s*(?:SELECT|CREATE|INSERT|UPDATE|def|class|import|return|function|var|let|const|public|"
                          r"private|func|fn|#include)\b", re.M | re.I)


@given(st.text(alphabet=" \t\n;{(x=.1deflmportSELECT", max_size=40))
def test_code_is_seen_as_the_single_multiline_pattern_saw_it(text):
    assert shape.looks_like_code(text) == bool(_CODE_BEFORE.search(text))


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


# Complete answers that end without a full stop, in shapes the real files showed ---------------------------

def test_a_letter_that_ends_on_its_closing_lacks_only_a_name():
    letter = "My dear friend,\n\nThank you for standing by me this year. It meant the world to me.\n\nWith love and thanks,"
    assert shape.truncated(letter, "Write a thank-you letter.") is None
    assert shape.truncated("Thank you for standing by me this year. It meant the world to me. With love and thanks,")


def test_a_letter_opening_does_not_make_its_prose_a_list():
    letter = ("Dear Ms Novak,\n\nI am writing to ask you to fund a study of sleep in teenagers. I believe it matters. "
              "With exams so close, now is the perfe")
    assert shape.truncated(letter, "Write a persuasive letter.")


def test_an_answer_whose_other_lines_end_bare_ends_bare_too():
    tree = ("Is it raining?\n\nYes: take the bus to work and read on the way\nNo: Do you have time for a walk?\n"
            "    Time: walk along the river and enjoy the morning")
    assert shape.truncated(tree, "Make a text decision tree for getting to work.") is None


def test_an_enumeration_that_closes_ends_its_sentence():
    answer = "New runners face many obstacles, including sore knees, bad weather, and boredom"
    assert shape.truncated(answer, "What obstacles do new runners face?") is None
    assert shape.truncated("New runners face many obstacles. Most of them are sore knees, bad weather, and the")


def test_a_last_sentence_that_repeats_the_end_of_the_prompt_is_finished():
    prompt = "[Outline] Laptops with AI help students.\n[Closer] What would you have done with such a laptop at school?"
    answer = ("Students now run models offline. Help is there at 11 p.m. before a test. "
              "So what would you have done if you had such a laptop at school")
    assert shape.truncated(answer, prompt) is None
    # a few words in common are not an echo: the last sentence here is a fragment
    assert shape.truncated("It depends on the city and the time of day. On average, a 5-mile cab ride",
                           "Estimate the cost of a 5-mile cab ride.")


def test_a_run_of_single_words_is_a_list():
    assert shape.truncated("an, apple, ate, breakfast, for, he", "Sort the words of: He ate an apple for breakfast.") is None


def test_a_conjunction_in_brackets_is_not_a_last_word():
    assert shape.truncated("She was tired but happy.\nCoordinating Conjunction (but)", "Name the conjunction.") is None


# Cut answers the word lists of rules/phrases/quality.toml find ------------------------------------------

def test_a_list_item_that_stops_on_an_auxiliary_is_cut():
    rules = ("1. Each player rolls one die.\n2. A roll of 1 ends the turn.\n3. A player who holds keeps the points.\n"
             "4. If the player reaches 20 points, their score for the round is")
    assert shape.truncated(rules, "Explain the dice game Pig.")
    full = "1. Each player rolls one die.\n2. A roll of 1 ends the turn.\n3. Offer to help someone you are working with"
    assert shape.truncated(full, "List some rules.") is None


def test_a_short_sentence_that_stops_on_a_copula_is_cut():
    assert shape.truncated("The numerical value of the expression is", "Calculate 4(2+3).")


def test_a_speaker_line_that_stops_on_a_possessive_is_cut():
    dialogue = ("Person 1: Social media connects people across the world.\n\n"
                "Person 2: It also spreads rumours faster than ever.\n\nPerson 1: Yes, but it’s")
    assert shape.truncated(dialogue, "Write a dialogue about social media.")
