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
