"""The names search passes over lowercase words in the regex engine: the same hashes as reading every token."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.dedup import text as dedup_text

_EVERY_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+")


def names_reading_every_token(text: str) -> tuple[set[int], set[int]]:
    """The search as it was before it skipped lowercase words natively: each token looked at in Python."""
    named, known = set(), set()
    run, end = [], 0
    for m in _EVERY_TOKEN.finditer(text, 0, dedup_text.NAMES_CHARS):
        token = m.group()
        if token.islower() and token.isalpha():
            continue
        if run and not all(w in dedup_text._CONNECTORS for w in _EVERY_TOKEN.findall(text, end, m.start())):
            dedup_text._acronyms(run, known)
            run = []
        end = m.end()
        capital = token[0].isupper()
        shaped = token[0].isdigit() or dedup_text._upper_or_digit(token[1:])
        if capital or shaped:
            known.add(dedup_text._name_hash(token))
            before = text[max(0, m.start() - 16):m.start()]
            mid_sentence = before[-1:] in (" ", ",") and before.rstrip(" ,")[-1:].isalnum()
            if (len(token) > 1 or token.isdigit()) and (shaped or mid_sentence):
                named.add(dedup_text._name_hash(token))
        if capital and token.isalpha():
            run.append(token[0])
        else:
            dedup_text._acronyms(run, known)
            run = []
    dedup_text._acronyms(run, known)
    return named, known


def names_now(text: str) -> tuple[set[int], set[int]]:
    named, known = set(), set()
    dedup_text._names(text, named, known)
    return named, known


WORDS = ["of", "the", "and", "de", "der", "dem", "van", "off", "theory", "United", "States", "America", "USA",
         "InfoX", "NoLASA", "GPT", "B2B", "2024", "3.14", "1,000", "12abc", "abc12", "café", "Éclair", "日本",
         "straße", "ǅemal", "x", "I", "a", "_", "snake_case", "²", "Ⅻ"]
SEPARATORS = [" ", ", ", ". ", "-", "\n", "", "'", "(", ") ", "_", "：", " of the "]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30))
def test_the_same_names_as_reading_every_token(pieces):
    text = "".join(word + separator for word, separator in pieces)
    assert names_now(text) == names_reading_every_token(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_the_same_names_on_any_text(text):
    assert names_now(text) == names_reading_every_token(text)


def test_the_same_names_on_real_sentences():
    for text in ("The United States of America and the UK signed it in 2024.",
                 "Ask InfoX, not NoLASA, about the B2B plan for van der Berg.",
                 "what is 9 + 7? and 11 x 11?", "Paris est la capitale de la France.",
                 "x" * 30_000 + " Late Name", "東京 and Kyoto"):
        assert names_now(text) == names_reading_every_token(text)
    named, _ = names_now("Ask InfoX, not NoLASA, about the B2B plan.")
    assert {dedup_text._name_hash(n) for n in ("InfoX", "NoLASA", "B2B")} <= named
