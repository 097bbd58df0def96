"""Every layout ftdata meets in real data is read as its format, or named once: fixtures in tests/formats/."""

import json
from collections import Counter
from pathlib import Path

import pytest

import ftdata
from ftdata import formats
from ftdata.config import Config
from ftdata.records import Example
from ftdata.stages.base import Context, InputFile
from ftdata.stages.parse import ParseStage
from ftdata.stages.read import ReadStage
from ftdata.stages.schema import SchemaStage
from ftdata.config import Policy
from ftdata.targets import load_target

FIXTURES = Path(__file__).parent / "formats"

# fixture -> the format every record is detected as
READ = {
    "openai-chat.jsonl": "openai-chat",
    "openai-preference.jsonl": "openai-preference",
    "sharegpt.json": "sharegpt",
    "sharegpt-preference.json": "sharegpt-preference",
    "sharegpt-tools.json": "sharegpt",
    "alpaca.json": "alpaca",
    "prompt-completion.jsonl": "prompt-completion",
    "trl-preference.jsonl": "trl-preference",
    "trl-implicit-preference.jsonl": "trl-implicit-preference",
    "kto.jsonl": "kto",
    "cohere-chat.jsonl": "cohere-chat",
    "functionary.jsonl": "functionary",
    "gemini.jsonl": "gemini",
    "vertex-legacy.jsonl": "vertex-legacy",
    "stack-exchange-paired.json": "stack-exchange-paired",
    "toolbench.jsonl": "toolbench",
    "text.jsonl": "text",
    "content-parts-value.jsonl": "openai-chat",
    "hf-image-parts.jsonl": "openai-chat",
    "llamafactory-images.json": "openai-chat",
    "pretty-printed.jsonl": "openai-chat",
    "single-object.json": "sharegpt",
}


def examples(name: str, input_format: str | None = None) -> list[Example]:
    """The fixture's records as check reads them (read, parse, schema), with their findings."""
    config = Config(format=input_format, select=["F", "S"])
    ctx = Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[InputFile(str(FIXTURES / name))])
    return list(SchemaStage(ctx).run(ParseStage(ctx).run(ReadStage(ctx).whole(ctx.inputs))))


def report(name: str, **config):
    return ftdata.check([FIXTURES / name], Config(jobs=1, **config))


def test_every_fixture_is_listed():
    assert {p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".jsonl")} == (
        set(READ) | {"gorilla-apibench.jsonl", "bare-message-list.jsonl"})


@pytest.mark.parametrize("name,expected", sorted(READ.items()))
def test_format_detected_and_reported_per_file(name, expected):
    result = report(name, select=["F", "S"])
    records = result.records
    assert records >= 1
    assert result.stats["schema"]["formats"] == {str(FIXTURES / name): {expected: records}}
    assert not [f for f in result.findings if f.code in ("S001", "S002", "F001", "F002")]


@pytest.mark.parametrize("name", sorted(READ))
def test_every_record_becomes_a_conversation_with_text(name):
    for example in examples(name):
        turns = (example.messages or []) + (example.chosen or []) + (example.rejected or [])
        assert turns and all(m.content or m.tool_calls or m.images for m in turns if m.role != "tool"), name
        assert example.answer(), name


def test_every_format_has_a_schema_and_a_fixture():
    from ftdata import schemas

    for name in formats.FORMATS:
        assert schemas.schema(name)["type"] == "object"
        assert name in READ.values(), f"no fixture in tests/formats for {name}"


def test_content_parts_with_value_are_read_as_text():
    contents = [[m.content for m in e.messages] for e in examples("content-parts-value.jsonl")]
    assert contents == [["Name a red fruit.", "A strawberry."], ["Name a yellow fruit.", "A banana."],
                        ["Name a green fruit.", "A lime."]]
    result = report("content-parts-value.jsonl")
    assert not [f for f in result.findings if f.code in ("D001", "D002", "P002")]  # distinct, not empty
    # LLaMA-Factory's v1 converter writes them: generic takes them, with no missing `text` or unknown `value`
    assert not [f for f in result.findings if f.code.startswith("S") or f.code == "P020"]


@pytest.mark.parametrize("target", ["openai", "together", "fireworks", "mistral"])
def test_content_parts_with_value_are_refused_once_per_record_by_providers(target):
    result = report("content-parts-value.jsonl", target=target, select=["S", "P020"])
    found = [f for f in result.findings if f.code in ("S003", "S005", "P020")]
    assert [(f.code, f.line, f.field) for f in found] == [("P020", line, "messages[0].content[0].value")
                                                          for line in (1, 2, 3)]
    assert all(f.severity == "error" and "(2 parts of this record hold `value`)" in f.message
               and '{"type": "text", "text": ...}' in f.message and "--to openai-chat" in f.message for f in found)


def test_image_url_parts_with_value_are_images(tmp_path):
    path = tmp_path / "v1.jsonl"
    path.write_text(json.dumps({"messages": [
        {"role": "user", "content": [{"type": "image_url", "value": "https://example.org/cat.png"},
                                     {"type": "text", "value": "What animal is this?"}]},
        {"role": "assistant", "content": [{"type": "text", "value": "A cat."}]}]}) + "\n")
    config = Config(select=["S"])
    ctx = Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[InputFile(str(path))])
    (example,) = SchemaStage(ctx).run(ParseStage(ctx).run(ReadStage(ctx).whole(ctx.inputs)))
    assert (example.messages[0].images, example.messages[0].content) == (["https://example.org/cat.png"], "What animal is this?")
    assert example.findings == []
    (refused,) = [f for f in ftdata.check([path], Config(jobs=1, target="openai")).findings if f.code == "P020"]
    assert refused.field == "messages[0].content[0].value" and '"image_url": {"url": ...}' in refused.message


def test_hugging_face_image_parts_are_images():
    (example,) = examples("hf-image-parts.jsonl")
    assert example.messages[0].images == ["https://example.org/shoe.jpg"]
    assert example.messages[0].content == "Price of this product?"


def test_kto_label_marks_undesirable_completions():
    labels = [(e.messages[-1].content, e.label) for e in examples("kto.jsonl")]
    assert labels == [("Eight.", True), ("Six.", False), ("Blue.", True)]
    assert all(e.prompt()[0].role == "user" and not e.is_preference for e in examples("kto.jsonl"))


def test_prompt_completion_without_label_is_not_kto():
    assert all(e.format == "prompt-completion" and e.label is None for e in examples("prompt-completion.jsonl"))


def test_cohere_roles_are_mapped_with_no_role_errors():
    first = examples("cohere-chat.jsonl")[0]
    assert [(m.role, m.source_role) for m in first.messages] == [
        ("system", "System"), ("user", "User"), ("assistant", "Chatbot")]
    codes = {f.code for f in report("cohere-chat.jsonl").findings}
    assert not codes & {"P001", "P003", "P007", "S006"}


def test_lowercase_roles_stay_openai():
    assert {e.format for e in examples("openai-chat.jsonl")} == {"openai-chat"}


def test_implicit_prompt_pairs_split_the_shared_turns_into_the_prompt():
    for example in examples("trl-implicit-preference.jsonl"):
        assert [m.role for m in example.messages] == ["user"]
        assert [m.role for m in example.chosen] == ["assistant"] == [m.role for m in example.rejected]
    second = examples("trl-implicit-preference.jsonl")[1]
    assert second.chosen[0].path == "chosen.messages[1]" and second.chosen[0].content == "tac"


def test_stack_exchange_paired_is_a_preference_pair():
    first = examples("stack-exchange-paired.json")[0]
    assert first.is_preference
    assert (first.messages[0].content, first.chosen[0].content, first.rejected[0].content) == (
        "How do I reverse a list in Python?", "Use `items[::-1]` or `items.reverse()`.", "You cannot.")


def test_toolbench_reads_the_whole_conversation_and_its_functions():
    (example,) = examples("toolbench.jsonl")
    assert [m.role for m in example.messages] == ["system", "user", "assistant", "function", "assistant"]
    assert example.messages[2].tool_calls[0].name == "quote"
    assert example.tools == [{"type": "function", "function": example.data["functions"][0]}]
    assert example.messages[0].path == "train_messages[1][0]"


def test_vertex_legacy_is_a_prompt_and_an_answer():
    first = examples("vertex-legacy.jsonl")[0]
    assert [(m.role, m.content_path) for m in first.messages] == [("user", "input_text"), ("assistant", "output_text")]


def test_gorilla_is_named_once_per_record():
    result = report("gorilla-apibench.jsonl")
    by_code = Counter(f.code for f in result.findings if f.severity == "error")
    assert by_code == Counter({"S008": 2})
    message = next(f.message for f in result.findings if f.code == "S008")
    assert "gorilla-apibench" in message and "prompt-completion" in message
    assert result.stats["schema"]["formats"] == {str(FIXTURES / "gorilla-apibench.jsonl"): {"gorilla-apibench (not read)": 2}}


def test_bare_list_of_messages_says_how_to_wrap_it():
    (finding,) = [f for f in report("bare-message-list.jsonl").findings if f.severity == "error"]
    assert finding.code == "F002" and "bare list of 2 chat messages" in finding.message
    assert '{"messages": [...]}' in finding.message


@pytest.mark.parametrize("name,objects", [("pretty-printed.jsonl", 3), ("single-object.json", 1)])
def test_pretty_printed_objects_are_records_with_one_file_finding(name, objects):
    result = report(name)
    assert result.records == objects
    assert not [f for f in result.findings if f.code in ("F001", "F002", "F005")]
    (f013,) = [f for f in result.findings if f.code == "F013"]
    assert f013.line == 1 and f"holds {objects:,} JSON value" in f013.message
    lines = [e.line for e in examples(name)]
    assert lines == ([1, 5, 9] if objects == 3 else [1])


def test_pretty_printed_objects_keep_the_line_of_a_broken_one(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{\n  "text": "one"\n}\n{\n  "text": "two",\n}\n{\n  "text": "three"\n}\n')
    result = ftdata.check([path], Config(jobs=1, select=["F", "S"]))
    assert result.records == 3
    assert [(f.code, f.line) for f in result.findings if f.code == "F001"] == [("F001", 4)]


def test_a_large_pretty_printed_file_is_not_cut_between_lines(tmp_path):
    path = tmp_path / "big.jsonl"
    record = '{\n  "messages": [\n    {"role": "user", "content": "%s"},\n    {"role": "assistant", "content": "ok"}\n  ]\n}\n'
    path.write_text("".join(record % f"question {i} {'x' * 200}" for i in range(12000)))
    result = ftdata.check([path], Config(jobs=2, select=["F", "S"], shard_bytes=1 << 20))
    assert result.records == 12000
    assert not [f for f in result.findings if f.code in ("F001", "F002")]


def test_forced_format_missing_its_keys_is_one_error_per_record():
    for example in examples("openai-chat.jsonl", input_format="alpaca"):
        assert example.messages is None
        (finding,) = example.findings
        assert finding.code == "S001" and "read as alpaca" in finding.message and "instruction" in finding.message


def test_text_records_are_not_chats():
    text, chat = examples("text.jsonl")[0], examples("openai-chat.jsonl")[0]
    assert text.is_text and not text.is_chat
    assert chat.is_chat and not chat.is_text


def test_text_records_get_no_chat_template_warning(tmp_path):
    """Mistral's template refuses a conversation without a user turn (K004); plain text has no turns."""
    chat = tmp_path / "chat.jsonl"
    chat.write_text('{"messages": [{"role": "assistant", "content": "The river froze early that winter."}]}\n')
    codes = {name: [f.code for f in ftdata.check([path], Config(jobs=1, target="mistral", select=["K"])).findings]
             for name, path in (("text", FIXTURES / "text.jsonl"), ("chat", chat))}
    assert "K004" in codes["chat"]
    assert codes["text"] == []


@pytest.mark.parametrize("name", ["trl-preference.jsonl", "trl-implicit-preference.jsonl"])
def test_pair_sides_written_as_messages_objects_are_read_with_or_without_a_prompt(name):
    """Fireworks' training cookbook and mlx-lm-lora write {"messages": [...]} sides, beside a prompt or not: both
    are read, with no schema finding, and the turns both answers open with go into the prompt."""
    pairs = [e for e in examples(name) if isinstance(e.data["chosen"], dict)]
    assert pairs and all(e.findings == [] for e in pairs)
    for e in pairs:
        assert [m.role for m in e.messages] == ["user"] and [m.role for m in e.chosen + e.rejected] == ["assistant"] * 2
        assert e.chosen[0].path == f"chosen.messages[{len(e.data['chosen']['messages']) - 1}]"
    assert not [f for f in report(name, select=["S"]).findings if f.severity == "error"]


def test_a_broken_messages_object_side_names_the_field(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"prompt": "Largest planet?", "chosen": {"messages": "Jupiter."},
                                "rejected": {"text": "Mars."}}) + "\n")
    result = ftdata.check([path], Config(jobs=1, select=["S"]))
    assert sorted((f.code, f.field) for f in result.findings) == [("S003", "rejected.messages"), ("S004", "chosen.messages")]


def test_each_missing_field_is_reported_once(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None,
                                "tool_calls": [{"id": "call_1"}]}]}) + "\n")
    result = ftdata.check([path], Config(jobs=1, select=["S"]))
    assert sorted(f.field for f in result.findings) == ["messages[1].tool_calls[0].function",
                                                         "messages[1].tool_calls[0].type"]


def test_one_capitalised_role_among_openai_roles_is_not_cohere():
    record = {"messages": [{"role": "User", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    assert formats.detect(record).name == "openai-chat"
    assert formats.detect({"messages": [{"role": "User", "content": "Hi"}, {"role": "Chatbot", "content": "Hello"}]}).name == "cohere-chat"


REALWORLD = next((p / "shared" / "data" / "realworld" for p in Path(__file__).resolve().parents
                  if (p / "shared" / "data" / "realworld").is_dir()), None)
# file of ../shared/data/realworld -> (records, the format of each, the errors the reading stages may give)
REAL_LAYOUTS = {
    "slim-lm__kto_train.jsonl": (12, {"kto": 12}, {}),
    "karma-app__cohere.jsonl": (3, {"cohere-chat": 3}, {}),
    "torchtune__stack_exchange_paired_tiny.json": (25, {"stack-exchange-paired": 25}, {}),
    "gdg-oran-talk__gemini.jsonl": (14, {"vertex-legacy": 14}, {}),
    "toolbench-fork__training_data.jsonl": (13, {"toolbench": 13}, {}),
    "gorilla__apibench_torchhub_train.json": (837, {}, {"S008": 837}),
    "growigh-fine-tune__t.jsonl": (67, {"openai-chat": 67}, {"F013": 1}),
    "axolotl__conversation.missingturns.json": (1, {"sharegpt": 1}, {"F013": 1}),
    "openpipe__train.jsonl": (1, {}, {"F002": 1}),
    "functionary__test_case_vision.json": (1, {"functionary": 1}, {"F013": 1}),
}


@pytest.mark.skipif(REALWORLD is None, reason="../shared/data/realworld (the real-world corpus) is not present")
@pytest.mark.parametrize("name", sorted(REAL_LAYOUTS))
def test_real_layouts_are_read_or_named_once(name):
    records, formats_found, errors = REAL_LAYOUTS[name]
    result = ftdata.check([REALWORLD / name], Config(jobs=1, select=["F", "S"]))
    assert result.records == records
    found = {k: v for k, v in result.stats["schema"]["formats"].get(str(REALWORLD / name), {}).items() if "not read" not in k}
    assert found == formats_found
    assert dict(Counter(f.code for f in result.findings if f.severity == "error")) == errors


def test_llamafactory_images_column_is_read_where_the_markers_stand(tmp_path):
    first, second = examples("llamafactory-images.json")
    assert [(list(m.images), m.marks) for m in first.messages] == [
        (["fruit/apple.jpg"], 1), ([], 0), (["fruit/pear.jpg", "https://example.org/plum.png"], 2), ([], 0)]
    assert second.messages[0].images == ["animals/dog.jpg"] and first.findings == second.findings == []
    path = tmp_path / "sharegpt.jsonl"
    path.write_text(json.dumps({"conversations": [{"from": "human", "value": "<image>Colour?"}, {"from": "gpt", "value": "Red."}],
                                "images": ["a.jpg"]}) + "\n" + json.dumps(
        {"conversations": [{"from": "human", "value": "Colour?"}, {"from": "gpt", "value": "Red."}], "images": ["b.jpg"]}) + "\n")
    config = Config(select=["S"])
    ctx = Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[InputFile(str(path))])
    marked, unmarked = SchemaStage(ctx).run(ParseStage(ctx).run(ReadStage(ctx).whole(ctx.inputs)))
    assert marked.messages[0].images == ["a.jpg"] and marked.findings == []
    (finding,) = unmarked.findings
    assert (finding.code, finding.field) == ("S007", "images") and "1 image(s) in `images` and 0 `<image>`" in finding.message
