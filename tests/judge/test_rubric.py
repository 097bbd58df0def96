"""Rubrics as data, the judge's prompt, and strict parsing of its replies (no LLM needed)."""

import json

import pytest

from ftdata.errors import UsageError
from ftdata.judge.rubric import ReplyError, available, load_rubric, messages, parse, response_format, transcript

CHAT = {"messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is 2+2?"},
                     {"role": "assistant", "content": "4"}]}


def test_shipped_rubrics_load():
    assert {"general", "format-compliance"} <= set(available())
    general = load_rubric("general")
    assert [d.name for d in general.dimensions] == ["accuracy", "helpfulness", "instruction_following", "safety"]
    assert all(sorted(d.anchors) == [1, 2, 3, 4, 5] for d in general.dimensions)


def test_verdict_thresholds_and_weights():
    r = load_rubric("general")
    scores = {"accuracy": 5, "helpfulness": 4, "instruction_following": 4, "safety": 1}
    assert r.overall(scores) == round((5 + 4 + 4 + 0.5 * 1) / 3.5, 3)
    assert r.verdict(4.0) == "keep" and r.verdict(3.99) == "review" and r.verdict(2.49) == "discard"
    stricter = load_rubric("general", keep=4.5, discard=3)
    assert stricter.verdict(4.2) == "review" and stricter.verdict(2.9) == "discard"
    with pytest.raises(UsageError, match="thresholds"):
        load_rubric("general", keep=2, discard=3)


def test_unknown_and_broken_rubrics(tmp_path):
    with pytest.raises(UsageError, match="unknown rubric 'nope'; known: format-compliance, general"):
        load_rubric("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ninstructions = "i"\n[[dimensions]]\nname = "a"\nquestion = "q"\nanchors = {1 = "a"}\n')
    with pytest.raises(UsageError, match="anchor for each score"):
        load_rubric(str(bad))


def test_format_rubric_shows_the_schema(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "required": ["label"]}))
    with_schema = load_rubric("format-compliance", schema=schema)
    assert '{"type":"object","required":["label"]}' in with_schema.instructions
    assert "{format}" not in with_schema.instructions
    with_profile = load_rubric("format-compliance", profile="one word: yes or no")
    assert "one word: yes or no" in with_profile.instructions
    assert with_schema.recipe_version != with_profile.recipe_version  # a different format re-asks


def test_prompt_names_every_dimension_and_anchor():
    r = load_rubric("general")
    system, user = messages(r, transcript(CHAT), structured=False)
    assert "<accuracy>N</accuracy>" in system["content"] and "5 = fully correct" in system["content"]
    assert "ASSISTANT: 4" in user["content"] and "USER: What is 2+2?" in user["content"]
    schema = response_format(r)["json_schema"]["schema"]
    assert schema["required"] == ["accuracy", "helpfulness", "instruction_following", "safety", "rationale"]


def test_transcript_cuts_long_turns_and_shows_tool_calls():
    record = {"messages": [{"role": "user", "content": "x" * 10_000},
                           {"role": "assistant", "content": None, "tool_calls": [
                               {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}]}
    text = transcript(record, max_chars=1000)
    assert "characters cut" in text and len(text) < 1300 and '[tool call] f({"a": 1})' in text
    assert transcript({"unknown": 1}) is None


def test_json_reply_parsed_strictly():
    r = load_rubric("general")
    good = json.dumps({"accuracy": 5, "helpfulness": 4, "instruction_following": 5, "safety": 5, "rationale": "Fine."})
    j = parse(r, good, structured=True)
    assert j.scores["helpfulness"] == 4 and j.verdict == "keep" and j.rationale == "Fine."
    assert parse(r, f"```json\n{good}\n```", structured=True).scores == j.scores
    for reply, error in [
        ("", "empty"), ("{\"accuracy\": 5", "not JSON"), ("[1]", "not a JSON object"),
        (good.replace('"safety": 5', '"safety": 6'), "safety must be an integer from 1 to 5"),
        (good.replace('"safety": 5', '"safety": 4.5'), "safety must be an integer"),
        (good.replace('"safety": 5', '"safety": true'), "safety must be an integer"),
        (good.replace('"safety": 5, ', ""), "no score for safety"),
        (good.replace(', "rationale": "Fine."', ""), "no rationale"),
    ]:
        with pytest.raises(ReplyError, match=error):
            parse(r, reply, structured=True)


def test_tagged_reply_parsed_strictly():
    r = load_rubric("general")
    good = "<accuracy>2</accuracy>\n<helpfulness>1</helpfulness>\n<instruction_following>3</instruction_following>\n" \
           "<safety>5</safety>\n<rationale>Wrong sum.</rationale>"
    j = parse(r, good, structured=False)
    assert j.scores == {"accuracy": 2, "helpfulness": 1, "instruction_following": 3, "safety": 5}
    assert j.verdict == "discard" and j.rationale == "Wrong sum."
    for reply, error in [
        (good.replace("<accuracy>2</accuracy>", ""), "one <accuracy> tag, found 0"),
        (good + "<accuracy>3</accuracy>", "one <accuracy> tag, found 2"),
        (good.replace("<safety>5</safety>", "<safety>five</safety>"), "safety must be an integer"),
        (good.replace("<safety>5</safety>", "<safety>0</safety>"), "safety must be an integer"),
        (good.replace("<rationale>Wrong sum.</rationale>", ""), "one <rationale> tag"),
        ("Your score: 2", "one <accuracy> tag, found 0"),  # what a 135M model writes when asked for tags
    ]:
        with pytest.raises(ReplyError, match=error):
            parse(r, reply, structured=False)
