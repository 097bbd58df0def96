"""`convert` between formats: every format ftdata reads converts to the common targets and back, and what it
writes passes `ftdata check` as the target format; what a target cannot hold is reported, never dropped."""

import json
from pathlib import Path

import pytest

import ftdata
from ftdata.config import Config
from ftdata.convert import convert
from test_formats import FIXTURES, READ

PREFERENCE = {"openai-preference", "sharegpt-preference", "trl-preference", "trl-implicit-preference", "stack-exchange-paired"}
# Sources whose records hold something a target cannot (images, tool calls, a rejected answer): converted with
# allow_lossy where the target is plain text, and the loss is checked in the tests below.
CHAT_TARGETS = ("openai-chat", "sharegpt", "prompt-completion", "gemini", "kto")


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _errors(path: Path, fmt: str) -> list[tuple[str, str]]:
    """Error findings of `ftdata check` on a file whose records must all be `fmt`."""
    report = ftdata.check([path], Config(jobs=1, select=["F", "S", "P", "T"]))
    assert set(report.stats["schema"]["formats"][str(path)]) == {fmt}
    return [(f.code, f.message) for f in report.findings if f.severity == "error"]


def _written_as(source: str, target: str) -> str:
    """The format a conversion writes: ShareGPT keeps a pair as a ShareGPT pair."""
    return "sharegpt-preference" if target == "sharegpt" and source in PREFERENCE else target


def _targets(name: str) -> list[str]:
    source = READ[name]
    targets = {source, *CHAT_TARGETS}
    if source in PREFERENCE:
        targets |= PREFERENCE
    return sorted(targets)


@pytest.mark.parametrize("name,target", [(n, t) for n in sorted(READ) for t in _targets(n)])
def test_converted_output_passes_check_as_the_target(name, target, tmp_path):
    """Written records are the target format and bring no error their source did not have (the fixtures'
    own: a ToolBench `function` role, which the generic target refuses; OpenAI's refusal of `value` parts)."""
    out = tmp_path / f"out-{target}.jsonl"
    result = convert(FIXTURES / name, out, target, allow_lossy=True)
    assert all(s.reason for s in result.skipped)
    if not result.written:
        return
    before = {code for code, _ in _errors(FIXTURES / name, READ[name])}
    assert [(code, message) for code, message in _errors(out, _written_as(READ[name], target)) if code not in before] == []


def test_text_converts_to_text_only(tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / "text.jsonl", out, "openai-chat", allow_lossy=True)
    assert result.written == 0 and all("no prompt" in s.reason for s in result.skipped)


@pytest.mark.parametrize("name", sorted(READ))
def test_round_trip_keeps_the_text(name, tmp_path):
    """Source -> OpenAI (chat, or preference for a pair) -> source format: every turn's text survives."""
    hub = "openai-preference" if READ[name] in PREFERENCE else "openai-chat"
    middle, back = tmp_path / "middle.jsonl", tmp_path / "back.jsonl"
    convert(FIXTURES / name, middle, hub, allow_lossy=True)
    convert(middle, back, READ[name], allow_lossy=True)
    if READ[name] == "text":  # plain text has no prompt to put in a chat: nothing goes through
        assert _records(middle) == []
        return
    written = json.dumps(_records(back), ensure_ascii=False)
    texts = [p["text"] if isinstance(p, dict) else p for m in _messages(_records(middle)) for p in _contents(m)]
    assert texts and all(json.dumps(t, ensure_ascii=False)[1:-1] in written for t in texts), name


def _messages(records: list[dict]) -> list[dict]:
    return [m for r in records for m in r.get("messages", []) + r.get("input", {}).get("messages", [])
            + r.get("preferred_output", []) + r.get("non_preferred_output", [])]


def _contents(message: dict) -> list:
    content = message.get("content")
    if isinstance(content, list):
        return [p for p in content if p.get("type") == "text"]
    return [content] if content else []


@pytest.mark.parametrize("prompt", ["", [{"role": "user", "content": "Capital of Peru?"}], "Capital of Peru?"])
def test_trl_pair_with_the_prompt_inside_each_answer_keeps_it_out_of_preferred_output(tmp_path, prompt):
    """The answers repeat the conversation: an empty prompt is no turn of its own, and one the answers open with
    is not asked twice (the input held an empty user turn, or the question twice)."""
    source = tmp_path / "pairs.jsonl"
    source.write_text(json.dumps({
        "prompt": prompt, "chosen": [{"role": "user", "content": "Capital of Peru?"}, {"role": "assistant", "content": "Lima."}],
        "rejected": [{"role": "user", "content": "Capital of Peru?"}, {"role": "assistant", "content": "Quito."}]}) + "\n")
    out = tmp_path / "out.jsonl"
    convert(source, out, "openai-preference")
    (record,) = _records(out)
    assert [m["role"] for m in record["preferred_output"]] == ["assistant"] == [m["role"] for m in record["non_preferred_output"]]
    assert record["input"]["messages"] == [{"role": "user", "content": "Capital of Peru?"}]
    assert _errors(out, "openai-preference") == []


def test_trl_pair_whose_answers_go_on_from_its_prompt_keeps_both(tmp_path):
    source = tmp_path / "pairs.jsonl"
    source.write_text(json.dumps({
        "prompt": [{"role": "user", "content": "Hi."}],
        "chosen": [{"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Capital of Peru?"},
                   {"role": "assistant", "content": "Lima."}],
        "rejected": [{"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Capital of Peru?"},
                     {"role": "assistant", "content": "Quito."}]}) + "\n")
    out = tmp_path / "out.jsonl"
    convert(source, out, "openai-preference")
    (record,) = _records(out)
    assert [m["content"] for m in record["input"]["messages"]] == ["Hi.", "Hello.", "Capital of Peru?"]
    assert record["preferred_output"] == [{"role": "assistant", "content": "Lima."}]


def test_string_pair_to_openai_preference(tmp_path):
    out = tmp_path / "out.jsonl"
    convert(FIXTURES / "trl-preference.jsonl", out, "openai-preference")
    first = _records(out)[0]
    assert first == {"input": {"messages": [{"role": "user", "content": "Is water wet?"}]},
                     "preferred_output": [{"role": "assistant", "content": "Water makes things wet."}],
                     "non_preferred_output": [{"role": "assistant", "content": "No."}]}


@pytest.mark.parametrize("name,url", [("hf-image-parts.jsonl", "https://example.org/shoe.jpg"),
                                      ("gemini.jsonl", "https://example.org/cat.png")])
def test_images_are_kept_in_openai_chat(name, url, tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / name, out, "openai-chat")
    assert result.lossy == 0 and not result.skipped
    parts = _records(out)[0]["messages"]
    images = [p["image_url"]["url"] for m in parts if isinstance(m["content"], list) for p in m["content"]
              if p["type"] == "image_url"]
    assert images == [url]


def test_images_are_reported_where_the_target_has_no_place_for_them(tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / "hf-image-parts.jsonl", out, "sharegpt")
    assert result.written == 0
    (skipped,) = result.skipped
    assert "images" in skipped.reason


def test_wrong_from_writes_nothing_and_says_why(tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / "openai-chat.jsonl", out, "openai-chat", input_format="alpaca")
    assert result.written == 0 and len(result.skipped) == 2
    assert all("read as alpaca" in s.reason and "instruction" in s.reason for s in result.skipped)
    assert out.read_text() == ""


def test_llamafactory_tool_calls_get_ids_that_tool_results_answer(tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / "sharegpt-tools.json", out, "openai-chat")
    assert result.written == 1 and result.lossy == 0
    messages = _records(out)[0]["messages"]
    call = messages[1]["tool_calls"][0]
    assert call["id"] == "call_1" and json.loads(call["function"]["arguments"]) == {"amount": 100, "from": "USD", "to": "EUR"}
    assert messages[2] == {"role": "tool", "content": '{"result": 92.5}', "tool_call_id": "call_1"}
    assert _errors(out, "openai-chat") == []


def test_kto_undesirable_completions_are_not_written_as_sft(tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / "kto.jsonl", out, "openai-chat")
    assert result.written == 2
    (skipped,) = result.skipped
    assert skipped.line == 2 and "label false" in skipped.reason
    assert [r["messages"][1]["content"] for r in _records(out)] == ["Eight.", "Blue."]


def test_kto_round_trip_keeps_labels(tmp_path):
    out = tmp_path / "out.jsonl"
    convert(FIXTURES / "kto.jsonl", out, "kto")
    assert [r["label"] for r in _records(out)] == [True, False, True]
    assert _records(out)[1] == {"prompt": "How many legs does a spider have?", "completion": "Six.", "label": False}


def test_cohere_to_openai_chat_and_back(tmp_path):
    chat, back = tmp_path / "chat.jsonl", tmp_path / "back.jsonl"
    convert(FIXTURES / "cohere-chat.jsonl", chat, "openai-chat")
    assert [m["role"] for m in _records(chat)[0]["messages"]] == ["system", "user", "assistant"]
    convert(chat, back, "cohere-chat")
    assert _records(back) == [json.loads(line) for line in (FIXTURES / "cohere-chat.jsonl").read_text().splitlines()]


def test_stack_exchange_paired_to_openai_preference(tmp_path):
    out = tmp_path / "out.jsonl"
    convert(FIXTURES / "stack-exchange-paired.json", out, "openai-preference")
    first = _records(out)[0]
    assert first["input"]["messages"] == [{"role": "user", "content": "How do I reverse a list in Python?"}]
    assert first["non_preferred_output"] == [{"role": "assistant", "content": "You cannot."}]


def test_toolbench_to_openai_chat_is_the_whole_conversation(tmp_path):
    out = tmp_path / "out.jsonl"
    convert(FIXTURES / "toolbench.jsonl", out, "openai-chat")
    (record,) = _records(out)
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert record["messages"][2]["tool_calls"][0]["id"] == record["messages"][3]["tool_call_id"] == "call_1"
    assert record["tools"][0]["function"]["name"] == "quote"
    assert _errors(out, "openai-chat") == []


def test_content_parts_with_value_convert_to_text(tmp_path):
    out = tmp_path / "out.jsonl"
    convert(FIXTURES / "content-parts-value.jsonl", out, "openai-chat")
    assert [r["messages"][0]["content"] for r in _records(out)] == [
        "Name a red fruit.", "Name a yellow fruit.", "Name a green fruit."]
    assert _errors(out, "openai-chat") == []


def test_cli_wrong_from_exits_1_and_names_the_missing_keys(tmp_path):
    from click.testing import CliRunner

    from ftdata.cli import main

    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["convert", str(FIXTURES / "openai-chat.jsonl"), str(out), "--to", "openai-chat",
                                       "--from", "alpaca"])
    assert result.exit_code == 1
    assert "0 records written" in result.output and "2 not written" in result.output
    assert "no instruction, output" in result.output


def test_a_json_output_is_a_json_array_as_clean_writes_it(tmp_path):
    """`convert x.json` wrote JSON Lines under a .json name, which a JSON loader cannot read."""
    out = tmp_path / "out.json"
    result = convert(FIXTURES / "sharegpt.json", out, "openai-chat")
    records = json.loads(out.read_text())
    assert isinstance(records, list) and len(records) == result.written >= 2
    assert _errors(out, "openai-chat") == []
    empty = tmp_path / "empty.json"
    assert convert(FIXTURES / "text.jsonl", empty, "openai-chat").written == 0
    assert json.loads(empty.read_text()) == []


def test_llamafactory_images_become_image_url_parts_where_the_markers_stand(tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / "llamafactory-images.json", out, "openai-chat")
    assert result.written == 2 and result.lossy == 0
    first = _records(out)[0]
    assert "images" not in first
    assert first["messages"][2]["content"] == [
        {"type": "text", "text": "And this one,"}, {"type": "image_url", "image_url": {"url": "fruit/pear.jpg"}},
        {"type": "text", "text": "beside"}, {"type": "image_url", "image_url": {"url": "https://example.org/plum.png"}},
        {"type": "text", "text": "?"}]
    assert "<image>" not in out.read_text()
    report = ftdata.check([out], Config(jobs=1, select=["S", "P"]))
    assert not [f for f in report.findings if f.code.startswith("S") or f.severity == "error"]


def test_llamafactory_images_stay_a_column_in_sharegpt(tmp_path):
    out = tmp_path / "out.jsonl"
    convert(FIXTURES / "llamafactory-images.json", out, "sharegpt")
    first = _records(out)[0]
    assert first["images"] == ["fruit/apple.jpg", "fruit/pear.jpg", "https://example.org/plum.png"]
    assert first["conversations"][2]["value"] == "And this one, <image> beside <image>?"


@pytest.mark.parametrize("target", ["alpaca", "text"])
def test_llamafactory_images_are_reported_where_the_target_has_no_place_for_them(target, tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert(FIXTURES / "llamafactory-images.json", out, target)
    assert result.written == 0 and len(result.skipped) == 2 and all("images" in s.reason for s in result.skipped)
    lossy = convert(FIXTURES / "llamafactory-images.json", out, target, allow_lossy=True, force=True)
    assert lossy.written == lossy.lossy == 2 and '"images"' not in out.read_text()
