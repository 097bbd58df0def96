"""Users' JSON Schemas (tool parameters, --output-schema) never crash, hang or reach the network (issue 12),
and target profiles apply the providers' documented rules (issue 11, items 9 and 10)."""

import json
import subprocess
import sys
import urllib.request

import pytest
from click.testing import CliRunner

import ftdata
from ftdata.cli import main
from ftdata.config import config_from_table

HANG_GUARD = 120  # seconds: a hang guard for a subprocess, not a timing assertion


def _tool_record(parameters, arguments='{"a": "x"}'):
    return {"messages": [
        {"role": "user", "content": "Go"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "assistant", "content": "Done."}],
        "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": parameters}}]}


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_remote_and_broken_refs_are_findings_and_nothing_is_fetched(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError(f"ftdata tried to fetch {args[:1]}")
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    data = _write(tmp_path / "train.jsonl", [
        _tool_record({"type": "object", "properties": {"a": {"$ref": "https://schemas.invalid/a.json"}}}),
        _tool_record({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}),
        _tool_record({"$ref": "other.json#/a"}),
        _tool_record({"type": "object", "$defs": {"A": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/A"}}}),
    ])
    report = ftdata.check([data], config_from_table({"select": ["T"], "jobs": 1}))
    found = {(f.line, f.code, f.field) for f in report.findings}
    assert found == {(n, "T008", "tools[0].function.parameters") for n in (1, 2, 3)}
    messages = [f.message for f in report.findings]
    assert "outside the schema" in messages[0] and "points nowhere" in messages[1]


def test_deeply_nested_arguments_are_reported_not_crashed_on(tmp_path):
    arguments = "1"
    for _ in range(5_000):  # deeper than json.loads can recurse
        arguments = '{"a": ' + arguments + "}"
    data = _write(tmp_path / "train.jsonl", [_tool_record({"type": "object"}, arguments)])
    report = ftdata.check([data], config_from_table({"select": ["T"], "jobs": 1}))
    assert [(f.code, f.line) for f in report.findings] == [("T011", 1)]


def test_backtracking_pattern_does_not_hang(tmp_path):
    """^(a+)+$ against 34 a's and a '!' took about 23 minutes with Python's re (issue 12)."""
    data = _write(tmp_path / "train.jsonl", [
        _tool_record({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}},
                     json.dumps({"a": "a" * 34 + "!"})),
        _tool_record({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(?=a)(a+)+$"}}},
                     json.dumps({"a": "a" * 34})),  # lookahead: the backtracking engine within a step budget
    ])
    run = subprocess.run([sys.executable, "-m", "ftdata", "check", str(data), "--select", "T", "-j", "1",
                          "--output-format", "json"], capture_output=True, text=True, timeout=HANG_GUARD)
    assert run.returncode == 1, run.stderr
    findings = json.loads(run.stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("T006", 1)]
    assert "does not match '^(a+)+$'" in findings[0]["message"]


@pytest.mark.parametrize("schema, message", [
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "points nowhere"),
    ({"$ref": "https://schemas.invalid/out.json"}, "outside the schema"),
])
def test_output_schema_with_a_broken_ref_is_a_usage_error(tmp_path, schema, message):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    data = _write(tmp_path / "train.jsonl", [{"messages": [{"role": "user", "content": "Q"},
                                                           {"role": "assistant", "content": '{"a": 1}'}]}])
    result = CliRunner().invoke(main, ["check", str(data), "--output-schema", str(path)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


BOM_AND_BLANK = (b'\xef\xbb\xbf{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}\n'
                 b'\n{"messages": [{"role": "user", "content": "Hi again"}, {"role": "assistant", "content": "Hello again"}]}\n')


@pytest.mark.parametrize("target, level", [("generic", "warning"), ("openai", "warning"), ("together", "error"),
                                           ("mistral", "error")])
def test_bom_and_blank_line_are_errors_where_the_loader_fails_on_them(tmp_path, target, level):
    data = tmp_path / "train.jsonl"
    data.write_bytes(BOM_AND_BLANK)
    report = ftdata.check([data], config_from_table({"target": target, "select": ["F004", "F005"], "jobs": 1}))
    assert sorted((f.code, f.severity) for f in report.findings) == [("F004", level), ("F005", level)]
    assert report.summary["rejected_records"] == 0  # the file is refused, not a record: both are kept by --clean


def test_user_severity_wins_over_the_target_profile(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_bytes(BOM_AND_BLANK)
    config = config_from_table({"target": "together", "select": ["F004"], "severity": {"byte-order-mark": "info"}})
    assert [f.severity for f in ftdata.check([data], config).findings] == ["info"]


def test_target_severity_table_is_checked(tmp_path):
    from ftdata.errors import UsageError
    from ftdata.targets import load_target

    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "generic"\n[severity]\nF999 = "error"\n')
    with pytest.raises(UsageError, match="F999.*not a rule code"):
        load_target(str(mine))
    mine.write_text('extends = "generic"\n[severity]\nF004 = "fatal"\n')
    with pytest.raises(UsageError, match="error, warning or info"):
        load_target(str(mine))


def test_a_lone_input_is_the_training_set_whatever_its_name(tmp_path):
    data = _write(tmp_path / "my_valid.jsonl", [{"messages": [{"role": "user", "content": f"Q{i}"},
                                                              {"role": "assistant", "content": f"A{i}"}]}
                                                for i in range(10)])
    report = ftdata.check([data], config_from_table({"target": "openai", "jobs": 1}))
    assert [i["split"] for i in report.summary["inputs"]] == ["train"]
    assert not [f for f in report.findings if f.code == "P014"]
    # said explicitly, it is validation data, and the message says how to name the training split
    result = CliRunner().invoke(main, ["check", "--val", str(data), "--target", "openai", "-j", "1"])
    assert "0 training examples" in result.output and "--train PATH" in result.output


def test_together_instruction_format_takes_a_multimodal_prompt(tmp_path):
    """files.py (a7cab74) checks an instruction record's prompt as message content: a string or text and
    base64 image parts; the completion is a string."""
    image = "data:image/png;base64,iVBORw0KGgo="
    data = _write(tmp_path / "train.jsonl", [
        {"prompt": [{"type": "text", "text": "What is in this image?"}, {"type": "image_url", "image_url": {"url": image}}],
         "completion": "A cat."}])
    report = ftdata.check([data], config_from_table({"target": "together", "jobs": 1}))
    assert [f for f in report.findings if f.severity == "error"] == []
    assert list(report.stats["schema"]["formats"].values()) == [{"prompt-completion": 1}]


PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _image_record(part):
    return {"messages": [
        {"role": "user", "content": [part, {"type": "text", "text": "What is in this picture?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A single pixel."}]}]}


def _record_errors(tmp_path, record, target):
    data = _write(tmp_path / "train.jsonl", [record])
    report = ftdata.check([data], config_from_table({"target": target, "jobs": 1, "select": ["S", "P"]}))
    return [(f.code, f.field, f.message) for f in report.findings if f.severity == "error" and f.line is not None]


@pytest.mark.parametrize("target", ["openai", "together", "fireworks", "mistral"])
@pytest.mark.parametrize("url", ["https://example.org/pixel.png", PNG])
def test_hugging_face_image_parts_are_refused_where_only_image_url_parts_are_read(tmp_path, target, url):
    """openai: vision-fine-tuning guide; together: fine-tuning/vision; fireworks: fine-tuning-vlm; mistral:
    mistral-common's chunk types (each cited in its rules/targets file)."""
    errors = _record_errors(tmp_path, _image_record({"type": "image", "image": url}), target)
    assert ("P013", "messages[0].content[0]") in {(code, field) for code, field, _ in errors}, errors
    message = next(m for code, field, m in errors if field == "messages[0].content[0]")
    assert "'image'" in message and "image_url" in message
    written_right = _image_record({"type": "image_url", "image_url": {"url": url}})
    assert not [e for e in _record_errors(tmp_path, written_right, target) if e[1] == "messages[0].content[0]"]


def test_hugging_face_image_parts_pass_generic_and_vertex_refuses_the_format(tmp_path):
    record = _image_record({"type": "image", "image": "https://example.org/pixel.png"})
    assert _record_errors(tmp_path, record, "generic") == []
    errors = _record_errors(tmp_path, record, "vertex")
    assert "P012" in {code for code, _, _ in errors}
    assert not [e for e in errors if e[1] == "messages[0].content[0]"]  # no part rule for gemini's parts


@pytest.mark.parametrize("record, article", [
    ({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], "id": "a1"}, "an openai-chat"),
    ({"prompt": "Hi", "completion": "Hello", "id": "a1"}, "a prompt-completion")])
def test_refused_record_keys_name_the_format_with_its_article(tmp_path, record, article):
    path = _write(tmp_path / "data.jsonl", [record])
    (finding,) = [f for f in ftdata.check([path], config_from_table({"target": "together", "jobs": 1})).findings
                  if f.code == "P019"]
    assert f"refuses 'id' in {article} record" in finding.message and finding.field == "id"
