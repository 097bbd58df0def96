"""Library-level tests of the content-quality detectors, profiles and dataset-level state."""

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ftdata
from ftdata.config import config_from_table
from ftdata.errors import UsageError
from ftdata.quality import lowq, private, shape
from ftdata.quality.consistency import FormatGroups
from ftdata.quality.contradictions import AnswerGroups
from ftdata.quality.profile import profile
from ftdata.quality.text import snippet
from ftdata.records import Ref


@pytest.mark.parametrize("text", ["<nooutput>", "N/A", "...", "<No Output>", "TODO"])
def test_placeholder_outputs(text):
    assert lowq.placeholder_output(text)


@pytest.mark.parametrize("text", ["", "  ", "None of them.", "No", "0", "n/a is short for not applicable."])
def test_real_short_outputs_are_not_placeholders(text):
    assert lowq.placeholder_output(text) is None


@pytest.mark.parametrize("user,answer,expected", [
    ("What is 17 * 3?", "52", True),
    ("Calculate:\n9 - 5 * 4", "-1", True),
    ("Find the sum: 3/4 + 7/8", "11/8", True),
    ("Find the sum: 3/4 + 7/8", "13/8", False),
    ("What is 10 / 3?", "About 3.33.", False),
    ("What is 10 / 3 + 1?", "4.3", False),  # 4.33 rounded
    ("What is 10 / 3 + 1?", "4.5", True),
    ("Evaluate the expression 4+2*3.", "It is 10.", False),
    ("Find the zeroes of f(x) = 3x2 – 10x + 4", "x = 2", False),
    ("Calculate the time between April 5, 2020 - 10:00 AM and noon", "2 hours", False),
])
def test_wrong_arithmetic(user, answer, expected):
    assert bool(lowq.wrong_arithmetic(user, answer)) is expected


def test_truncation_signals():
    assert shape.truncated("Here:\n```python\nprint(1)\n")
    assert shape.truncated('{"label": "spam", "reason": "too many links"')
    assert shape.truncated("Steps:\n1. Preheat the oven.\n2. Mix the flour and")
    assert shape.truncated("Shopping list:\n1. Eggs\n2. Milk\n3.")
    assert shape.truncated("The capital of France is Paris") is None
    assert shape.truncated("Product\tCanon\tNikon\nSensor\t15MP\t24MP\nISO\t100-6400\t100-25600\nAutofocus\t9pts")
    assert shape.truncated("class MyDog:\n    def __init__(self):\n        self.breed = ''\n    def")
    assert shape.truncated("def count(s, c):\n    n = 0\n    for x in s:\n        if x") 
    assert shape.truncated("def add(a, b):\n    return a + b") is None
    assert shape.truncated("Tom Ford is a designer. He led Gucci. He has won several awards, including the Council") 
    assert shape.truncated("Pale moonlight falls / On a midnight lake serene / Cascading stars reflect") is None
    assert shape.truncated("Planet Burning: How Rising Temperatures Are Threatening the World as We Know it") is None
    assert shape.truncated("SELECT name FROM users WHERE age > 30 AND city = 'Paris' AND active = TRUE AND the") is None


@pytest.mark.parametrize("text", ["AS AN AI LANGUAGE MODEL, I cannot.", "Per my training data cut-off, no.",
                                  "I'm sorry, but I cannot do that.", "I am AFRAID I am unable to help.",
                                  "As an AI, I have no body.", "I do not have personal opinions on that."])
def test_boilerplate_in_any_case(text):
    assert lowq.boilerplate(text)


def test_tool_records_keep_refusals_but_not_model_boilerplate():
    assert lowq.boilerplate("I'm sorry, but as an AI, I can't order pizza.", has_tools=True) is None
    assert lowq.boilerplate("As an AI language model I can't order pizza.", has_tools=True)


def test_repetition_ignores_code_and_tables_but_not_loops():
    assert shape.repetitive("I am happy. " * 30)
    table = "| a | b |\n|---|---|\n" + "| | |\n" * 30
    assert shape.repetitive(table) is None
    code = "model = Sequential([\n" + "    Dense(128, activation='relu'),\n" * 6 + "])"
    assert shape.repetitive(code) is None


def test_links_asked_for_or_given_are_fine():
    assert lowq.unprompted_link("Why is the sky blue?", "Rayleigh scattering. See https://www.skyfacts.org/blue")
    assert lowq.unprompted_link("Give me a website about birds.", "Try https://www.audubon.org") is None
    assert lowq.unprompted_link("Summarize https://www.bbc.com/news/1", "See https://www.bbc.com/news/1") is None
    assert lowq.unprompted_link("Set up a Google account.", "Go to www.google.com and sign up.") is None


def test_secrets_need_random_looking_values():
    assert private.secret("key = AKIAIOSFODNN7EXAMPLE") is not None
    assert private.secret("key = sk-" + "x" * 40) is None  # a placeholder, not a key


def test_personal_data_skips_example_contacts():
    assert private.personal_data("mail maria.gonzalez@gmail.com") is not None
    assert private.personal_data("mail jane@example.com or call 555-123-4567") is None
    assert private.personal_data("call +44 20 7946 0321") is not None


def test_profile_dimensions():
    assert profile('{"label": "a", "reason": "b"}').keys == ("label", "reason")
    assert profile('```json\n{"label": "a"}\n```').kind == "JSON object"
    assert profile("Steps:\n1. one\n2. two").lists == "numbered list"
    assert profile("- one\n- two").lists == "bullet list"
    assert profile("Привет, как у тебя дела сегодня?").script == "Cyrillic"


def test_format_drift_quotes_the_dominant_format():
    groups = FormatGroups(min_group=5, dominance=0.8)
    for i in range(9):
        groups.add("t", "task", Ref("f", i + 1, i), profile('{"label": "x", "reason": "y"}'), 30)
    groups.add("t", "task", Ref("f", 10, 9), profile("It is spam."), 11)
    drifts = list(groups.drifts())
    assert [d.ref.line for d in drifts] == [10]
    assert drifts[0].dominant == "JSON object" and drifts[0].share == 0.9


def test_prose_majority_does_not_make_json_drift():
    groups = FormatGroups(min_group=5, dominance=0.8)
    for i in range(9):
        groups.add("t", "task", Ref("f", i + 1, i), profile("A sentence of prose."), 20)
    groups.add("t", "task", Ref("f", 10, 9), profile("[3, 6, 9]"), 9)
    assert list(groups.drifts()) == []


def test_near_duplicate_groups_count_only_for_labels():
    groups = AnswerGroups()
    groups.add(1, Ref("f", 1, 0), 10, "A poem about cats…", False)
    groups.add(2, Ref("f", 2, 1), 11, "A poem about dogs…", False)
    assert list(groups.conflicts([[1, 2]])) == []
    groups.add(3, Ref("f", 3, 2), 20, "spam", True)
    groups.add(4, Ref("f", 4, 3), 21, "ham", True)
    (conflict,) = groups.conflicts([[3, 4]])
    assert conflict.near and conflict.labels and len(conflict.refs) == 2


def _write(tmp_path, name, records):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return str(path)


def test_output_schema_file_and_bad_schema(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "required": ["label"]}))
    data = _write(tmp_path, "train.jsonl", [
        {"messages": [{"role": "user", "content": "Classify: hi"}, {"role": "assistant", "content": '{"tag": "greeting"}'}]}])
    report = ftdata.check([data], config_from_table({"consistency": {"output-schema": str(schema)}}))
    (finding,) = [f for f in report.findings if f.code == "C102"]
    assert "'label' is a required property" in finding.message and finding.field == "messages[1].content"
    schema.write_text("{not json")
    with pytest.raises(UsageError, match="not JSON"):
        ftdata.check([data], config_from_table({"consistency": {"output-schema": str(schema)}}))


def test_real_alpaca_defects_found(shared_data, tmp_path):
    """The Alpaca release's documented defects: placeholders, unseen pictures and links, wrong arithmetic."""
    records = json.loads((shared_data / "stanford_alpaca__alpaca_data.json").read_text())[:8000]
    report = ftdata.check([_write(tmp_path, "alpaca.jsonl", records)], config_from_table({}))
    assert {"Q001", "Q002", "Q009", "Q013"} <= {f.code for f in report.findings}


@given(st.text(alphabet=st.sampled_from("ab \t\n\u00a0\u2003x."), max_size=400), st.integers(1, 80))
def test_snippet_is_the_collapsed_start_of_the_whole_text(text, limit):
    collapsed = re.sub(r"\s+", " ", text).strip()
    assert snippet(text, limit) == (collapsed if len(collapsed) <= limit else collapsed[: limit - 1] + "…")


def _tandem_over_words(words, loops, longest=12):
    """The tandem-repeat scan as a regex over the words joined by spaces: the reference the one-character-a-word
    scan in shape._tandem_repeat must agree with."""
    pattern = re.compile(rf"(?:^| )((?:\S+ ){{2,{longest}}}?)\1{{{loops - 1}}}")
    for match in pattern.finditer(" " + " ".join(words) + " "):
        if shape._two_words(span := match.group(1).split()):
            return " ".join(span)
    return None


@given(st.lists(st.sampled_from(["a", "b", "c", "to", "7", "x1"]), max_size=60), st.integers(2, 5), st.integers(2, 6))
def test_tandem_repeat_finds_what_a_scan_over_words_finds(words, loops, longest):
    assert shape._tandem_repeat(words, loops, longest) == _tandem_over_words(words, loops, longest)


@given(st.text(alphabet=st.sampled_from("-*•+1.) a\n\t"), max_size=80))
def test_profile_counts_list_items_as_line_start_patterns_do(text):
    bullets = len(re.findall(r"^\s*[-*•+]\s+\S", text, re.M))
    numbered = len(re.findall(r"^\s*\d+[.)]\s*\S", text, re.M))
    expected = None if max(bullets, numbered) < 2 else "bullet list" if bullets >= numbered else "numbered list"
    assert profile(text).lists == expected
