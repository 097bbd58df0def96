"""Open-source trainers' conventions pass the provider-neutral `generic` target and fail only the targets
whose loaders refuse them (issue 11: on real files, TRL tool calling and Qwen-VL image parts were rejected
whole under generic; every one of those errors was false)."""

import json

import ftdata
from ftdata.config import config_from_table

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
