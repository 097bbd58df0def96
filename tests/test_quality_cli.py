"""`ftdata check --output-schema`: the schema reaches rule C102; an unusable schema stops the run with exit 2."""

import json

from click.testing import CliRunner

from ftdata.cli import main

RECORDS = [
    {"messages": [{"role": "user", "content": "Classify: hi"}, {"role": "assistant", "content": '{"label": "greeting"}'}]},
    {"messages": [{"role": "user", "content": "Classify: bye"}, {"role": "assistant", "content": '{"tag": "farewell"}'}]},
]


def _data(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    return str(path)


def test_output_schema_flag_flags_outputs_that_fail_it(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "required": ["label"]}))
    result = CliRunner().invoke(main, ["check", _data(tmp_path), "--output-schema", str(schema), "--output-format", "json"])
    assert result.exit_code == 1, result.output  # C102 is an error
    findings = [f for f in json.loads(result.output)["findings"] if f["code"] == "C102"]
    assert [f["line"] for f in findings] == [2]
    assert "'label' is a required property" in findings[0]["message"]
    without = CliRunner().invoke(main, ["check", _data(tmp_path), "--output-format", "json"])
    assert not [f for f in json.loads(without.output)["findings"] if f["code"] == "C102"]


def test_missing_or_invalid_schema_is_one_line_exit_two(tmp_path):
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"type": "no-such-type"}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cases = [(tmp_path / "missing.json", "cannot read"), (invalid, "not a valid JSON Schema"), (broken, "not JSON")]
    for schema, expected in cases:
        result = CliRunner().invoke(main, ["check", _data(tmp_path), "--output-schema", str(schema)])
        assert result.exit_code == 2, result.output
        assert result.output.strip().count("\n") == 0 and expected in result.output, result.output
        assert "Traceback" not in result.output
        assert "findings" not in result.output and "C102" not in result.output  # stopped before the run
