"""The CLI through click's runner and as a real subprocess: exit codes, formats, one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftdata.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "chat_with_defects.jsonl"
CLEAN_SAMPLE = REPO / "sample_data" / "chat_clean.jsonl"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_clean_sample_exits_zero():
    result = run("check", str(CLEAN_SAMPLE), "--target", "openai")
    assert result.exit_code == 0, result.output
    assert "no errors" in result.output


def test_defective_sample_exits_one_with_every_defect_class(tmp_path):
    result = run("check", str(SAMPLE), "--output-format", "json", "--clean", str(tmp_path / "c.jsonl"),
                 "--rejected", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 1
    report = json.loads(result.output)
    codes = set(report["summary"]["by_code"])
    assert {"F001", "F002", "F005", "F010", "S002", "S003", "S005", "P002", "P003", "P006", "P007",
            "T001", "T005", "T006"} <= codes
    clean = (tmp_path / "c.jsonl").read_text().splitlines()
    rejected = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(clean) + len(rejected) == report["summary"]["records"]
    assert len(clean) == report["summary"]["clean_records"]


def test_existing_outputs_are_kept_unless_forced(tmp_path):
    outputs = {name: tmp_path / f"{name}.jsonl" for name in ("clean", "rejected", "report", "converted")}
    for path in outputs.values():
        path.write_text("mine\n")
    commands = [("check", str(SAMPLE), "--clean", str(outputs["clean"])),
                ("check", str(SAMPLE), "--rejected", str(outputs["rejected"])),
                ("check", str(SAMPLE), "--report", str(outputs["report"])),
                ("dedup", str(SAMPLE), "--out", str(outputs["clean"])),
                ("convert", str(SAMPLE), str(outputs["converted"]), "--to", "sharegpt")]
    for command in commands:
        result = run(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "already exists; pass --force" in result.output
    assert all(path.read_text() == "mine\n" for path in outputs.values())  # not even emptied

    for command in commands:
        assert run(*command, "--force").exit_code in (0, 1)
    assert all(path.read_text() != "mine\n" for path in outputs.values())
    assert run("check", str(SAMPLE), "--clean", str(tmp_path)).exit_code == 2  # a directory is not a file


def test_split_keeps_existing_outputs_unless_forced(tmp_path):
    source = tmp_path / "data.jsonl"
    source.write_bytes(CLEAN_SAMPLE.read_bytes())
    (tmp_path / "data.val.jsonl").write_text("mine\n")
    result = run("split", str(source))
    assert result.exit_code == 2 and "data.val.jsonl: already exists" in result.output
    assert not (tmp_path / "data.train.jsonl").exists()
    assert run("split", str(source), "--force").exit_code == 0
    assert (tmp_path / "data.val.jsonl").read_text() != "mine\n"


def test_strict_fails_on_warnings(tmp_path):
    source = tmp_path / "d.jsonl"
    source.write_text('{"messages": [{"role": "user", "content": "a", "x": 1}, {"role": "assistant", "content": "b"}]}\n')
    assert run("check", str(source)).exit_code == 0
    assert run("check", str(source), "--strict").exit_code == 1
    assert run("check", str(source), "--strict", "--ignore", "S005", "--ignore", "G001").exit_code == 0


def test_usage_and_io_errors_are_one_line_exit_two(tmp_path):
    for args in (["check", str(tmp_path / "missing.jsonl")], ["check", str(tmp_path)],
                 ["check", str(SAMPLE), "--target", "nope"], ["check", str(SAMPLE), "--select", "Z999"],
                 ["rules", "nope"], ["check"]):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert result.output.strip().count("\n") <= 3


def test_github_and_sarif_formats():
    github = run("check", str(SAMPLE), "--output-format", "github").output
    assert "::error file=" in github and "title=F001 invalid-json" in github
    sarif = json.loads(run("check", str(SAMPLE), "--output-format", "sarif").output)
    results = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0" and results
    located = next(r for r in results if "locations" in r)  # dataset-level findings (G...) have no location
    assert located["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


def test_config_file_select_and_severity(tmp_path):
    (tmp_path / "ftdata.toml").write_text('target = "openai"\nignore = ["P014", "G"]\n[severity]\nempty-content = "info"\n')
    source = tmp_path / "d.jsonl"
    source.write_text('{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": ""}]}\n')
    result = run("check", str(source), "--config", str(tmp_path / "ftdata.toml"), "--output-format", "json")
    assert result.exit_code == 0
    findings = json.loads(result.output)["findings"]
    assert [(f["code"], f["severity"]) for f in findings] == [("P002", "info")]


def test_rules_lists_and_explains():
    listing = run("rules").output
    assert "F001  invalid-json" in listing
    assert "Fix:" in run("rules", "empty-content").output
    table = run("rules", "--output-format", "markdown").output.splitlines()
    assert table[0] == "| code | name | severity | summary |"
    assert any(row.startswith("| F001 | invalid-json | error |") for row in table)


def test_convert_round_trip(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text('{"instruction": "Add", "input": "2+2", "output": "4", "id": 7}\n')
    assert run("convert", str(source), str(tmp_path / "chat.jsonl"), "--to", "openai-chat").exit_code == 0
    chat = json.loads((tmp_path / "chat.jsonl").read_text())
    assert chat == {"messages": [{"role": "user", "content": "Add\n\n2+2"}, {"role": "assistant", "content": "4"}], "id": 7}
    tools = tmp_path / "t.jsonl"
    tools.write_text(json.dumps({"messages": [
        {"role": "user", "content": "w?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "sun"}, {"role": "assistant", "content": "Sunny"}]}) + "\n")
    lossy = run("convert", str(tools), str(tmp_path / "alp.jsonl"), "--to", "alpaca")
    assert lossy.exit_code == 1 and "tool calls" in lossy.output


def test_subprocess_and_stdin():
    result = subprocess.run([sys.executable, "-m", "ftdata", "check", "-", "--output-format", "json"],
                            input=SAMPLE.read_bytes(), capture_output=True)
    assert result.returncode == 1
    assert json.loads(result.stdout)["summary"]["records"] > 0
    assert b"Traceback" not in result.stderr


def test_file_names_that_are_not_utf8_are_escaped_alike_in_every_output(tmp_path):
    """Python holds the bytes of such a name as lone surrogates (PEP 383), which JSON encoders and UTF-8
    streams refuse: every output writes them as \\xNN escapes instead of stopping with a traceback."""
    name = os.fsdecode(b"bad\xff.jsonl")
    try:
        (tmp_path / name).write_bytes(b'{"messages": [{"role": "user", "content": "hi"}]}\n' * 2 + b"not json\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this filesystem refuses file names that are not UTF-8")
    shown = str(tmp_path / "bad\\xff.jsonl")
    rejected, report = tmp_path / "rejected.jsonl", tmp_path / "report.json"
    outputs = {}
    for output_format in ("text", "json", "github", "sarif"):
        result = run("check", str(tmp_path / name), "--output-format", output_format, "--rejected", str(rejected),
                     "--report", str(report), "--force")
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        outputs[output_format] = result.output
    assert f"{shown}:3: not valid JSON" in outputs["text"]
    assert f"::error file={shown},line=3,title=F001" in outputs["github"]
    assert {f["file"] for f in json.loads(outputs["json"])["findings"] if f["file"]} == {shown}
    assert json.loads(outputs["json"])["summary"]["inputs"][0]["path"] == shown
    sarif = json.loads(outputs["sarif"])["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif if "locations" in r} == {shown}
    assert [json.loads(line)["file"] for line in rejected.read_text().splitlines()] == [shown] * 3
    assert {f["file"] for f in json.loads(report.read_text())["findings"] if f["file"]} == {shown}
    result = run("dedup", str(tmp_path / name), "--out", str(tmp_path / "kept.jsonl"), "--report", str(report), "--force")
    assert result.exit_code == 0, result.output
    assert {f["file"] for f in json.loads(report.read_text())["findings"]} == {shown}


def test_ruff_style_flags(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\nnot json\n')
    assert run("check", str(data), "--exit-zero").exit_code == 0
    assert run("check", str(data)).exit_code == 1
    quiet = run("check", str(data), "--quiet")
    assert "F001 invalid-json" in quiet.output and "records," not in quiet.output and "┃" not in quiet.output
    statistics = run("check", str(data), "--statistics", "--select", "F")
    assert statistics.output.split() == ["1", "F001", "invalid-json"] and statistics.exit_code == 1
    counts = json.loads(run("check", str(data), "--statistics", "--select", "F", "--output-format", "json").output)
    assert counts == [{"code": "F001", "name": "invalid-json", "count": 1}]
    assert run("check", str(data), "--statistics", "--output-format", "sarif").exit_code == 2
    (tmp_path / "ftdata.toml").write_text('ignore = ["F001"]\n[read]\nmax-record-bytes = 1000\n')
    settings = json.loads(run("check", "--show-settings", "--config", str(tmp_path / "ftdata.toml"),
                              "--target", "openai").output)
    assert settings["config_file"] == str(tmp_path / "ftdata.toml")
    assert settings["settings"]["target"] == "openai" and settings["settings"]["ignore"] == ["F001"]
    assert settings["settings"]["stage_options"] == {"read": {"max-record-bytes": 1000}}
    assert "F001" not in settings["rules"] and settings["rules"]["F002"] == "error"
    coloured = run("check", str(data), "--select", "F", "--color", "always")
    plain = run("check", str(data), "--select", "F", "--color", "never")
    assert "\x1b[" in coloured.output and "\x1b[" not in plain.output


def test_text_output_off_a_terminal_never_wraps_cuts_or_passes_escapes(tmp_path):
    folder = tmp_path / ("d" * 70) / ("e" * 70)
    folder.mkdir(parents=True)
    name = folder / "bad\x1b[31m[b]name.jsonl"
    name.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], '
                    '"k\\u001b[2J[/]": 1}\n')
    result = subprocess.run([sys.executable, "-m", "ftdata", "check", str(name), "--select", "S005"],
                            capture_output=True, timeout=120)
    out = result.stdout.decode()
    assert result.returncode == 0 and "Traceback" not in result.stderr.decode()
    assert "\x1b" not in out and "…" not in out
    printed = str(folder / "bad\\x1b[31m[b]name.jsonl")
    assert f"{printed}:1 k\\x1b[2J[/]: unknown key" in out  # one line, the whole path
    assert any(line.startswith(f"│ {printed} ") for line in out.splitlines())


def test_convert_never_passes_escapes_from_file_names_to_the_terminal(tmp_path):
    source = tmp_path / "in\x1b[2Jput.jsonl"
    source.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
                      '{"text": "plain"}\n')
    out = tmp_path / "out\x1b]0;x\x07.jsonl"
    result = subprocess.run([sys.executable, "-m", "ftdata", "convert", str(source), str(out), "--to", "sharegpt"],
                            capture_output=True, timeout=120)
    err = result.stderr.decode()
    assert "Traceback" not in err and "\x1b" not in err and "\x07" not in err
    assert "in\\x1b[2Jput.jsonl:2: not written" in err and "out\\x1b]0;x\\x07.jsonl" in err


def test_dedup_and_split_never_pass_escapes_from_file_names_to_the_terminal(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"question {i}?"},
                                                       {"role": "assistant", "content": f"answer {i}."}]}) + "\n"
                              for i in range(10)))
    for args in (["dedup", str(source), "--out", str(tmp_path / "kept\x1b[2J.jsonl")],
                 ["split", str(source), "--val", "0.2", "--out-dir", str(tmp_path / "parts\x1b[2J")]):
        result = subprocess.run([sys.executable, "-m", "ftdata", *args], capture_output=True, timeout=120)
        printed = result.stdout.decode() + result.stderr.decode()
        assert "Traceback" not in printed and "\x1b" not in printed and "\\x1b[2J" in printed, (args, printed)


def test_config_is_found_from_the_first_inputs_folder_upwards_then_the_working_directory(tmp_path, monkeypatch):
    """As ruff finds the config closest to the file: the data's project settings apply wherever the command
    runs; an input with none above it takes the working directory's; --show-settings names the file used."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "data").mkdir(parents=True)
    elsewhere.mkdir()
    (project / "pyproject.toml").write_text('[tool.ftdata]\ntarget = "openai"\nignore = ["F001"]\n')
    (elsewhere / "ftdata.toml").write_text('target = "together"\n')
    data = project / "data" / "train.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\nnot json\n')
    monkeypatch.chdir(elsewhere)

    settings = json.loads(run("check", str(data), "--show-settings").output)
    assert settings["config_file"] == str(project / "pyproject.toml") and settings["settings"]["target"] == "openai"
    assert run("check", str(data), "--select", "F").exit_code == 0  # the project's ignore applies
    split = run("split", str(data), "--out-dir", str(tmp_path / "split"))
    assert split.exit_code == 0, split.output

    loose = tmp_path / "loose" / "train.jsonl"  # no config above it: the working directory's
    loose.parent.mkdir()
    loose.write_text(data.read_text())
    settings = json.loads(run("check", str(loose), "--show-settings").output)
    assert settings["config_file"] == str(elsewhere / "ftdata.toml") and settings["settings"]["target"] == "together"
    assert run("check", str(loose), "--select", "F").exit_code == 1
    explicit = json.loads(run("check", str(data), "--show-settings", "--config", str(elsewhere / "ftdata.toml")).output)
    assert explicit["config_file"] == str(elsewhere / "ftdata.toml")


def test_a_command_run_in_process_leaves_sigterm_as_it_found_it():
    """The CLI turns SIGTERM into a clean stop for its own run only: afterwards a test runner or notebook
    that called it is terminated as usual (it raised ftdata's Terminated in pytest itself)."""
    import signal

    before = signal.getsignal(signal.SIGTERM)
    run("check", str(CLEAN_SAMPLE), "--target", "openai")
    assert signal.getsignal(signal.SIGTERM) is before
