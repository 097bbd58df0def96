"""Open-source trainers' conventions pass the provider-neutral `generic` target and fail only the targets
whose loaders refuse them (issue 11: on real files, TRL tool calling and Qwen-VL image parts were rejected
whole under generic; every one of those errors was false)."""

import json

import ftdata
from ftdata.config import config_from_table
from test_formats import examples

# TRL / Hugging Face tool calling: calls without ids, arguments as an object (functiongemma-music's shape).
TRL_TOOLS = {"messages": [
    {"role": "developer", "content": "You control a music app."},
    {"role": "user", "content": "Play Bohemian Rhapsody"},
    {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "play_song", "arguments": {"song_name": "Bohemian Rhapsody"}}}]},
    {"role": "tool", "name": "play_song", "content": "playing"},
    {"role": "assistant", "content": "Playing it now."}],
    "tools": [{"type": "function", "function": {"name": "play_song", "description": "Play a song",
               "parameters": {"type": "object", "properties": {"song_name": {"type": "string"}},
                              "required": ["song_name"]}}}]}

# Qwen-VL / TRL multimodal: {"type": "image", "image": local path} parts (qwen-vlm-price's shape).
HF_IMAGE = {"messages": [
    {"role": "user", "content": [{"type": "image", "image": "/data/images/0.jpg"},
                                 {"type": "text", "text": "Predict the price of this product."}]},
    {"role": "assistant", "content": [{"type": "text", "text": "10999.0"}]}]}

# OpenAI's legacy function-calling turns.
LEGACY_FUNCTION = {"messages": [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}},
    {"role": "function", "name": "weather", "content": "18 C, cloudy"},
    {"role": "assistant", "content": "It is 18 C and cloudy in Paris."}]}


def _codes(tmp_path, record, target):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(record) + "\n")
    report = ftdata.check([path], config_from_table({"target": target, "jobs": 1}, source="test"))
    return {(f.code, f.severity) for f in report.findings if f.severity == "error"}


def test_trl_tool_calls_pass_generic_and_their_arguments_are_still_validated(tmp_path):
    assert _codes(tmp_path, TRL_TOOLS, "generic") == set()
    wrong = json.loads(json.dumps(TRL_TOOLS))
    wrong["messages"][2]["tool_calls"][0]["function"]["arguments"] = {"song": 5}
    assert ("T006", "error") in _codes(tmp_path, wrong, "generic")


def test_trl_tool_calls_fail_targets_that_need_ids_and_string_arguments(tmp_path):
    for target in ("openai", "mistral"):
        codes = {code for code, _ in _codes(tmp_path, TRL_TOOLS, target)}
        assert {"T003", "T005"} <= codes, (target, codes)


def test_local_image_paths_pass_generic_and_fail_hosted_apis(tmp_path):
    assert _codes(tmp_path, HF_IMAGE, "generic") == set()
    path = tmp_path / "train.jsonl"
    report = ftdata.check([path], config_from_table({"target": "openai", "jobs": 1}, source="test"))
    messages = [f.message for f in report.findings if f.code == "P013"]
    assert messages and "a local file path" in messages[0]


def test_legacy_function_turns_pass_generic(tmp_path):
    assert _codes(tmp_path, LEGACY_FUNCTION, "generic") == set()


def test_generated_provenance_under_metadata_is_no_finding_but_together_refuses_it(tmp_path):
    record = {"messages": [{"role": "user", "content": "q?"}, {"role": "assistant", "content": "a."}],
              "metadata": {"provenance": {"recipe": "answers@1"}}}
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(record) + "\n")
    generic = ftdata.check([path], config_from_table({"jobs": 1, "select": ["S", "P"]}, source="test"))
    assert not [f for f in generic.findings if f.line is not None]
    assert ("P019", "error") in _codes(tmp_path, record, "together")


# MeetKai functionary's training record (its tests/test_case.json shape): calls without id or type, tool results
# named, the code_interpreter tool whose `python` calls hold raw code, a masked turn, a bare-string image_url.
FUNCTIONARY = {"tools": [
    {"type": "function", "function": {"name": "get_stock", "description": "Units in stock", "parameters": {
        "type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}}},
    {"type": "code_interpreter"}],
    "messages": [
    {"role": "user", "content": [{"type": "text", "text": "Stock of KB-12, times 3?"},
                                 {"type": "image_url", "image_url": "kb12.png"}], "metainfo": {"img_path": "kb12.png"}},
    {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "get_stock", "arguments": "{\"sku\": \"KB-12\"}"}}]},
    {"role": "tool", "name": "get_stock", "content": "{\"units\": 14}"},
    {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "python", "arguments": "print(14 * 3"}}],
     "metadata": {"masked": True}},
    {"role": "tool", "name": "python", "content": "SyntaxError"},
    {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "python", "arguments": "print(14 * 3)"}}]},
    {"role": "tool", "name": "python", "content": "42"},
    {"role": "assistant", "content": "14 left; times 3 is 42."}]}


def test_functionary_records_pass_generic_and_their_function_calls_are_still_validated(tmp_path):
    assert _codes(tmp_path, FUNCTIONARY, "generic") == set()
    wrong = json.loads(json.dumps(FUNCTIONARY))
    wrong["messages"][1]["tool_calls"][0]["function"]["arguments"] = "sku=KB-12"  # not code: not the interpreter
    assert ("T005", "error") in _codes(tmp_path, wrong, "generic")
    wrong["tools"][1] = {"type": "code_interpreter", "files": []}
    assert ("S005", "warning") in {(f.code, f.severity) for f in _findings(tmp_path, wrong, "generic")}


def test_functionary_records_fail_provider_targets_that_refuse_them(tmp_path):
    for target in ("openai", "together", "fireworks", "mistral", "vertex"):
        codes = {code for code, _ in _codes(tmp_path, FUNCTIONARY, target)}
        assert "P012" in codes, (target, codes)
    assert "T003" in {code for code, _ in _codes(tmp_path, FUNCTIONARY, "openai")}  # no ids


def test_functionary_masked_turn_is_not_trained_and_its_code_is_one_argument(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(FUNCTIONARY) + "\n")
    (example,) = examples(str(path))
    assert example.format == "functionary"
    assert [m.weight for m in example.messages if m.role == "assistant"] == [None, 0, None, None]
    assert json.loads(example.messages[5].tool_calls[0].arguments) == {"code": "print(14 * 3)"}
    assert example.messages[0].images == ["kb12.png"]  # the part's image; metainfo names the same file


def test_functionary_image_named_only_in_metainfo_is_the_message_image(tmp_path):
    record = {"metainfo": {"img_path": "shelf.png"}, "messages": [
        {"role": "user", "content": "How many boxes are on the shelf?", "metainfo": {"img_path": "shelf.png"}},
        {"role": "assistant", "content": "Four."}]}
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (example,) = examples(str(path))
    assert example.format == "functionary" and example.messages[0].images == ["shelf.png"]
    assert _codes(tmp_path, record, "generic") == set()
    assert "P013" in {code for code, _ in _codes(tmp_path, record, "openai")}  # a local file: not for a hosted API
    del record["messages"][0]["metainfo"]  # the record's alone, as functionary's LazyVisionDataset reads it
    path.write_text(json.dumps(record) + "\n")
    assert examples(str(path))[0].messages[0].images == ["shelf.png"]


def test_functionary_and_plain_openai_records_share_a_file(tmp_path):
    plain = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(plain) + "\n" + json.dumps(FUNCTIONARY) + "\n")
    report = ftdata.check([path], config_from_table({"jobs": 1, "select": ["S"]}, source="test"))
    assert report.stats["schema"]["formats"][str(path)] == {"openai-chat": 1, "functionary": 1}
    assert not [f for f in report.findings if f.code == "S002"]


def test_an_openai_call_missing_its_type_is_not_taken_for_functionary(tmp_path):
    record = {"messages": [{"role": "user", "content": "Stock?"}, {"role": "assistant", "tool_calls": [
        {"id": "call_1", "function": {"name": "get_stock", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "14"}, {"role": "assistant", "content": "14."}]}
    fields = {(f.code, f.field) for f in _findings(tmp_path, record, "openai")}
    assert ("S003", "messages[1].tool_calls[0].type") in fields
    assert not [code for code, _ in fields if code == "P012"]


def test_functionary_converts_to_a_record_openai_takes(tmp_path):
    from ftdata.convert import convert

    source, out = tmp_path / "functionary.jsonl", tmp_path / "openai.jsonl"
    record = json.loads(json.dumps(FUNCTIONARY))
    record["messages"][0]["content"][1]["image_url"] = "https://example.org/kb12.png"
    del record["messages"][0]["metainfo"]
    source.write_text(json.dumps(record) + "\n")
    assert convert(source, out, "openai-chat").written == 1
    report = ftdata.check([out], config_from_table({"target": "openai", "jobs": 1, "select": ["S", "T", "P"]},
                                                   source="test"))
    assert not [f for f in report.findings if f.line is not None], [f.message for f in report.findings]
    written = json.loads(out.read_text())
    assert written["messages"][3]["weight"] == 0
    assert json.loads(written["messages"][5]["tool_calls"][0]["function"]["arguments"]) == {"code": "print(14 * 3)"}


def _findings(tmp_path, record, target):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return ftdata.check([path], config_from_table({"target": target, "jobs": 1}, source="test")).findings
