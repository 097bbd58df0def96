"""Hostile inputs, flags, signals and full disks (issue 12): every case runs `ftdata` as a real subprocess
with a timeout, and fails on a traceback, a hang, a changed input, a half-written output or a wrong
exit code. Signals are in test_hostile_signals.py."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TIMEOUT = 180  # a hang, not a slow machine: every case takes seconds


def chat(question: str = "What is 2+2?", answer: str = "4", **extra) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], **extra}


def jsonl(*records) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def run(*args, cwd: Path, stdin: bytes | None = None, env: dict | None = None,
        expect: tuple[int, ...] = (0, 1)) -> subprocess.CompletedProcess:
    """`ftdata ARGS` in `cwd`, which must exit with one of `expect` (2 with one line), print no traceback,
    leave every file it was not asked to write unchanged and leave no part file behind."""
    outputs = _outputs([str(a) for a in args])
    before = {p: p.read_bytes() for p in cwd.rglob("*") if p.is_file() and p.name not in outputs
              and ".ftdata-part" not in p.name}
    result = subprocess.run([sys.executable, "-m", "ftdata", *map(str, args)], cwd=cwd, input=stdin,
                            capture_output=True, timeout=TIMEOUT, env={**os.environ, **(env or {})})
    stderr = result.stderr.decode(errors="replace")
    assert "Traceback" not in stderr, stderr
    assert result.returncode in expect, (result.returncode, stderr)
    if result.returncode == 2:
        assert stderr.startswith("ftdata: error: ") and stderr.count("\n") == 1, stderr
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path} changed"
    assert not [p.name for p in cwd.rglob("*") if ".ftdata-part" in p.name]
    return result


def _outputs(args: list[str]) -> set[str]:
    """The names of the files a command line asks to write."""
    named = {args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--clean", "--rejected", "--report", "--out")}
    if args[0] == "convert":
        named.add(args[2])
    if args[0] == "split":
        stem = Path(args[1]).name.split(".")[0]
        named |= {f"{stem}.{name}.jsonl" for name in ("train", "val", "test")}
    return {Path(n).name for n in named}


def nested(depth: int) -> bytes:
    """A chat record whose `meta` makes arrays and objects nest `depth` levels in all."""
    return json.dumps(chat(meta=1)).encode().replace(b"1}", b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}")


# --- crashes -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [254, 255, 300, 1024, 1100])
def test_deep_nesting_is_a_finding_in_every_command(tmp_path, depth):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(), nested(depth)))
    report = run("check", "train.jsonl", "--output-format", "json", "--clean", "c.jsonl", "--rejected", "r.jsonl",
                 cwd=tmp_path)
    codes = {f["code"] for f in json.loads(report.stdout)["findings"]}
    assert ("F008" in codes) == (depth > 254)
    run("convert", "train.jsonl", "out.jsonl", "--to", "sharegpt", cwd=tmp_path)
    run("dedup", "train.jsonl", "--out", "d.jsonl", cwd=tmp_path, expect=(0,))
    run("split", "train.jsonl", "--out-dir", "split", cwd=tmp_path, expect=(0,))
    run("cost", "train.jsonl", "--provider", "openai", cwd=tmp_path, expect=(0,))


def tool_record(parameters: object, arguments: str = '{"a": "x"}', call_id: str = "call_1") -> dict:
    call = {"id": call_id, "type": "function", "function": {"name": "f", "arguments": arguments}}
    return {"tools": [{"type": "function", "function": {"name": "f", "parameters": parameters}}],
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [call]},
                         {"role": "tool", "tool_call_id": call_id, "content": "1"},
                         {"role": "assistant", "content": "done"}]}


def nested_arguments(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


def chain(refs: int, last: dict) -> dict:
    """A schema whose root goes through `refs` references in a row to `last`."""
    defs = {f"D{i}": {"$ref": f"#/$defs/D{i + 1}"} for i in range(refs - 1)}
    return {"$defs": {**defs, f"D{refs - 1}": last}, "$ref": "#/$defs/D0"}


def fan_out(levels: int, width: int) -> dict:
    """Each level an anyOf of `width` references to the next: width**levels subschemas applied to one value."""
    defs = {f"D{i}": {"anyOf": [{"$ref": f"#/$defs/D{i + 1}"}] * width} for i in range(levels)}
    return {"$defs": {**defs, f"D{levels}": {"type": "string"}}, "$ref": "#/$defs/D0"}


RECURSIVE = {"type": "object", "properties": {"a": {"$ref": "#"}}}  # a tree: each $ref descends a level
# schemas jsonschema cannot validate with: a traceback (RecursionError), or hours, before they were refused
UNUSABLE_SCHEMAS = [
    ({"type": "object", "properties": {"a": {"$ref": "https://schemas.invalid/a.json"}}}, "outside the schema"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "points nowhere"),
    ({"$dynamicRef": "#nowhere"}, "points nowhere"),
    ({"$ref": "#"}, "leads back to itself"),
    ({"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"allOf": [{"$ref": "#/$defs/A"}]}}, "$ref": "#/$defs/A"},
     "leads back to itself"),
    ({"$id": "urn:x", "$dynamicAnchor": "n", "$dynamicRef": "#n"}, "leads back to itself"),
    (chain(3_000, {"type": "object"}), "more than the 16"),
    ({"$defs": chain(15, {"type": "object"})["$defs"], "allOf": [{"not": {"not": {"$ref": "#/$defs/D0"}}}]},
     "more than the 16"),  # 18 deep in place
    (fan_out(5, 8), "could take hours"),  # jsonschema: 3.5 minutes for fan_out(20, 2)
]


def test_tool_schemas_that_cannot_be_validated_with_are_findings(tmp_path):
    """Broken, remote, looping, chained and exploding $refs, and nesting about 200 levels deep, in a
    record's tool parameters: a T008 or T011 on that record, not a crash; a recursive schema that descends
    validates arguments 127 levels deep within the recursion it gets."""
    deep = {"type": "string"}
    for _ in range(100):  # about 200 levels of JSON: more than the 128 a schema may nest
        deep = {"type": "object", "properties": {"a": deep}}
    records = [tool_record(schema) for schema, _ in UNUSABLE_SCHEMAS]
    records += [tool_record(deep), tool_record(RECURSIVE, nested_arguments(127)),
                tool_record(chain(15, {"type": "object", "properties": {"a": {"$ref": "#/$defs/D0"}}}),
                            nested_arguments(127))]
    (tmp_path / "train.jsonl").write_bytes(jsonl(*records))
    report = run("check", "train.jsonl", "--select", "T", "-j", "1", "--output-format", "json", cwd=tmp_path)
    findings = {f["line"]: (f["code"], f["message"]) for f in json.loads(report.stdout)["findings"]}
    for line, (_, message) in enumerate(UNUSABLE_SCHEMAS, 1):
        assert findings[line][0] == "T008" and message in findings[line][1], (line, findings.get(line))
    n = len(UNUSABLE_SCHEMAS)
    assert findings[n + 1][0] == "T011"
    # the innermost 1 is not an object: validated all the way down, whatever the references on the way
    for line in (n + 2, n + 3):
        assert findings[line][0] == "T006" and " at " + ".".join(["a"] * 127) + ":" in findings[line][1]
    assert len(findings) == n + 3


@pytest.mark.parametrize("schema, message", UNUSABLE_SCHEMAS)
def test_an_output_schema_that_cannot_be_validated_with_is_a_usage_error(tmp_path, schema, message):
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(answer='{"a": 1}')))
    result = run("check", "train.jsonl", "--output-schema", "schema.json", cwd=tmp_path, expect=(2,))
    assert message in result.stderr.decode() and "schema.json" in result.stderr.decode()


@pytest.mark.parametrize("levels, found", [(127, "at " + "/".join(["a"] * 127) + ":"),
                                           (900, "nests more than 128 levels deep: not validated")])
def test_a_deep_output_against_a_recursive_output_schema(tmp_path, levels, found):
    """The answer is any JSON (orjson reads 1,024 levels): validated with the recursion it needs, or said
    to be too deep; a RecursionError traceback before."""
    (tmp_path / "schema.json").write_text(json.dumps(RECURSIVE))
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(answer=nested_arguments(levels))))
    report = run("check", "train.jsonl", "--output-schema", "schema.json", "--select", "C102", "-j", "1",
                 "--output-format", "json", cwd=tmp_path, expect=(1,))
    (finding,) = json.loads(report.stdout)["findings"]
    assert finding["code"] == "C102" and found in finding["message"], finding


PRETTY_ARRAY = b"""[
  {
    "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
    "id": 123456789012345678901234567890
  },
  {
    "messages": [
      {"role": "user", "content": "c"},
  }
]
"""


@pytest.mark.parametrize("command", [
    ("check", "data.json", "--clean", "out.jsonl", "--ignore", "F001"),
    ("check", "data.json", "--clean", "out.jsonl", "--select", "S"),
    ("check", "data.json", "--clean", "out.jsonl", "-o", "read.max-record-bytes=100000"),
    ("dedup", "data.json", "--out", "out.jsonl"),
])
def test_a_malformed_pretty_printed_element_kept_by_clean_is_one_line(tmp_path, command):
    (tmp_path / "data.json").write_bytes(PRETTY_ARRAY)
    run(*command, cwd=tmp_path)
    lines = (tmp_path / "out.jsonl").read_bytes().splitlines()
    # the first element's values are exactly as written (its big integer is not made a float)
    assert lines[0] == (b'{ "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], '
                        b'"id": 123456789012345678901234567890 }')
    # the malformed element is not an error under these flags but for the last: kept, on one line
    assert len(lines) == (1 if "-o" in command else 2)


def test_clean_from_a_json_array_keeps_big_integers_exactly(tmp_path):
    (tmp_path / "data.json").write_bytes(PRETTY_ARRAY.split(b"  {\n    \"messages\": [\n")[0].rstrip(b", \n") + b"\n]\n")
    run("check", "data.json", "--clean", "out.jsonl", cwd=tmp_path)
    assert json.loads((tmp_path / "out.jsonl").read_text())["id"] == 123456789012345678901234567890


@pytest.mark.parametrize("setting, named", [
    ("target = 5", "target"),
    ('severity = "x"', "severity"),
    ('per-file-ignores = ["F001"]', "per-file-ignores"),
    ('strict = "false"', "strict"),
    ("select = [5]", "select"),
    ("model = 3", "model"),
    ("[duplicate]\nthreshold = 0.5", "duplicates"),
    ("[duplicates]\nthresold = 0.5", "threshold"),
    ('[duplicates]\nthreshold = "high"', "threshold"),
    ("[read]\nmax-record-bytes = true", "max-record-bytes"),
    ("[read]\nmax-record-bytes = 0", "at least 1"),  # every record over the limit: none read, exit 1
    ("[read]\nmax-record-bytes = -1", "at least 1"),
    ("[tool.ftdata.duplicate]\nthreshold = 0.5", "at the top level"),  # pyproject's table names in ftdata.toml
])
def test_wrongly_typed_or_misspelt_config_is_a_usage_error(tmp_path, setting, named):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat()))
    (tmp_path / "ftdata.toml").write_text(setting + "\n")
    result = run("check", "train.jsonl", cwd=tmp_path, expect=(2,))
    assert named in result.stderr.decode()


def test_select_as_a_string_is_one_selector_not_characters(tmp_path):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(), chat(), b"not json"))
    (tmp_path / "ftdata.toml").write_text('select = "F001"\n')
    report = json.loads(run("check", "train.jsonl", "--output-format", "json", cwd=tmp_path).stdout)
    assert report["summary"]["by_code"] == {"F001": 1}


@pytest.mark.parametrize("option", ["-o", "--option"])
def test_misspelt_stage_on_the_command_line_names_the_stages(tmp_path, option):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat()))
    result = run("check", "train.jsonl", option, "duplicate.threshold=0.5", cwd=tmp_path, expect=(2,))
    assert "duplicates" in result.stderr.decode() and "'duplicate'" in result.stderr.decode()


@pytest.mark.parametrize("flags", [("--val", "nan"), ("--test", "nan"), ("--threshold", "7"), ("--threshold", "nan"),
                                   ("--val", "0.6", "--test", "0.5")])
def test_split_rejects_impossible_numbers(tmp_path, flags):
    (tmp_path / "train.jsonl").write_bytes(jsonl(*(chat(str(i)) for i in range(10))))
    run("split", "train.jsonl", *flags, cwd=tmp_path, expect=(2,))
    assert not list(tmp_path.glob("train.*.jsonl"))


# --- silent data loss -----------------------------------------------------------------------------------------

def test_split_of_a_pretty_printed_json_array_writes_json_lines(tmp_path):
    records = [chat(f"question {i}", f"answer {i}", id=10**30 + i) for i in range(30)]
    (tmp_path / "data.json").write_text(json.dumps(records, indent=2))
    run("split", "data.json", "--val", "0.2", "--test", "0.2", cwd=tmp_path, expect=(0,))
    written = [json.loads(line) for name in ("train", "val", "test")
               for line in (tmp_path / f"data.{name}.jsonl").read_text().splitlines()]
    assert sorted(written, key=lambda r: r["id"]) == records


def test_report_on_the_clean_file_is_refused(tmp_path):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat()))
    run("check", "train.jsonl", "--clean", "x.jsonl", "--report", "x.jsonl", cwd=tmp_path, expect=(2,))
    run("check", "train.jsonl", "--rejected", "x.jsonl", "--report", "./x.jsonl", cwd=tmp_path, expect=(2,))
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("record, reason", [
    (b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "k": 1, "k": 2}', "twice"),
    (b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "w": NaN}', "NaN"),
    (b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "w": -Infinity}', "Infinity"),
    (b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "w": 1e400}', "Infinity"),
    (b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "id": 18446744073709551616}',
     "64 bits"),
    (b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "id": -9223372036854775809}',
     "64 bits"),
])
def test_convert_reports_values_it_cannot_write_back(tmp_path, record, reason):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(id=18446744073709551615), record))
    result = run("convert", "train.jsonl", "out.jsonl", "--to", "sharegpt", cwd=tmp_path, expect=(1,))
    assert reason in result.stderr.decode() and "train.jsonl:2" in result.stderr.decode()
    assert json.loads((tmp_path / "out.jsonl").read_text())["id"] == 18446744073709551615


def test_convert_with_a_wrong_from_writes_nothing_and_exits_one(tmp_path):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(), chat("other")))
    result = run("convert", "train.jsonl", "out.jsonl", "--to", "openai-chat", "--from", "alpaca", cwd=tmp_path,
                 expect=(1,))
    assert (tmp_path / "out.jsonl").read_bytes() == b""
    assert b"0 records written" in result.stderr + result.stdout and b"no instruction, output" in result.stderr


def test_llamafactory_tool_calls_convert_to_calls_with_ids_the_check_accepts(tmp_path):
    (tmp_path / "data.json").write_text(json.dumps([{
        "conversations": [{"from": "human", "value": "Convert 100 USD to EUR."},
                          {"from": "function_call", "value": json.dumps({"name": "convert", "arguments": {"amount": 100}})},
                          {"from": "observation", "value": '{"result": 92.5}'},
                          {"from": "gpt", "value": "100 USD is 92.50 EUR."}],
        "tools": json.dumps([{"name": "convert", "description": "Convert currencies",
                              "parameters": {"type": "object", "properties": {"amount": {"type": "number"}}}}])}], indent=2))
    run("convert", "data.json", "out.jsonl", "--to", "openai-chat", cwd=tmp_path, expect=(0,))
    messages = json.loads((tmp_path / "out.jsonl").read_text())["messages"]
    assert messages[1]["tool_calls"][0]["id"] == messages[2]["tool_call_id"] == "call_1"
    report = run("check", "out.jsonl", "--target", "openai", "--select", "T", "--output-format", "json", cwd=tmp_path)
    assert json.loads(report.stdout)["findings"] == []


# --- hangs ------------------------------------------------------------------------------------------------------

def test_a_named_pipe_is_read_once(tmp_path):
    (tmp_path / "pipe.jsonl").unlink(missing_ok=True)
    os.mkfifo(tmp_path / "pipe.jsonl")
    proc = subprocess.Popen([sys.executable, "-m", "ftdata", "check", "pipe.jsonl", "--output-format", "json"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer = None
    while writer is None and proc.poll() is None:  # a writer can open the pipe once ftdata reads it
        try:
            writer = os.open(tmp_path / "pipe.jsonl", os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            time.sleep(0.05)
    if writer is not None:
        os.set_blocking(writer, True)
        os.write(writer, jsonl(chat(), chat("other")))
        os.close(writer)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert b"Traceback" not in err
    assert json.loads(out)["summary"]["records"] == 2


def test_split_refuses_a_named_pipe_it_would_read_twice(tmp_path):
    os.mkfifo(tmp_path / "pipe.jsonl")
    run("split", "pipe.jsonl", cwd=tmp_path, expect=(2,))


EVIL = "^(a+)+$"  # Python's re: about 23 minutes against 34 a's and a '!'
EVIL_KEY = "a" * 34 + "!"


def test_patterns_in_properties_and_targets_run_in_linear_time(tmp_path):
    """patternProperties (and additionalProperties, which reads its patterns) in a tool schema and in
    --output-schema, and a target's id pattern: matched by the linear-time engine, a mismatch reported; a
    schema that would need Python's re (unevaluatedProperties with patternProperties) is refused (T008)."""
    def tool_record(schema: dict, call_id: str = "call_1") -> dict:
        call = {"id": call_id, "type": "function", "function": {"name": "f", "arguments": json.dumps({EVIL_KEY: 1})}}
        return {"tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}],
                "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [call]},
                             {"role": "tool", "tool_call_id": call_id, "content": "1"},
                             {"role": "assistant", "content": "done"}]}

    pattern_only = {"type": "object", "patternProperties": {EVIL: {}}, "additionalProperties": False}
    unevaluated = {"type": "object", "patternProperties": {EVIL: {}}, "unevaluatedProperties": False}
    (tmp_path / "train.jsonl").write_bytes(jsonl(tool_record(pattern_only), tool_record(unevaluated)))
    report = run("check", "train.jsonl", "--select", "T", "-j", "1", "--output-format", "json", cwd=tmp_path)
    findings = [(f["code"], f["line"], f["message"]) for f in json.loads(report.stdout)["findings"]]
    assert [(code, line) for code, line, _ in findings] == [("T006", 1), ("T008", 2)], findings
    assert f"does not match any of the regexes: '{EVIL}'" in findings[0][2] and "unevaluatedProperties" in findings[1][2]

    (tmp_path / "schema.json").write_text(json.dumps(pattern_only))
    (tmp_path / "out.jsonl").write_bytes(jsonl(chat(answer=json.dumps({EVIL_KEY: 1}))))
    report = run("check", "out.jsonl", "--select", "C102", "--output-schema", "schema.json", "--output-format", "json",
                 cwd=tmp_path)
    assert [f["code"] for f in json.loads(report.stdout)["findings"]] == ["C102"]

    (tmp_path / "target.toml").write_text(f'extends = "openai"\nname = "evil"\n[tools]\nid_pattern = "{EVIL}"\n')
    (tmp_path / "ids.jsonl").write_bytes(jsonl(tool_record({"type": "object"}, call_id=EVIL_KEY)))
    report = run("check", "ids.jsonl", "--target", "target.toml", "--select", "T003", "--output-format", "json",
                 cwd=tmp_path)
    assert [f["code"] for f in json.loads(report.stdout)["findings"]] == ["T003"]


# --- full disk ----------------------------------------------------------------------------------------------------

_FULL_DISK = """
import errno, os, sys
real = os.fdopen
class Full:
    def __init__(self, f): self.f = f
    def write(self, data): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    def __getattr__(self, name): return getattr(self.f, name)
os.fdopen = lambda *a, **k: Full(real(*a, **k))
from ftdata.cli import main
sys.argv[0] = "ftdata"
main()
"""


@pytest.mark.parametrize("command", [
    ("check", "train.jsonl", "--clean", "c.jsonl", "--rejected", "r.jsonl"),
    ("check", "train.jsonl", "--report", "r.json"),
    ("convert", "train.jsonl", "c.jsonl", "--to", "sharegpt"),
    ("dedup", "train.jsonl", "--out", "c.jsonl"),
    ("split", "train.jsonl"),
])
def test_a_full_disk_is_one_line_and_exit_two(tmp_path, command):
    """Fault injection at the writer (every output is written through os.fdopen of its part file)."""
    (tmp_path / "train.jsonl").write_bytes(jsonl(*(chat(str(i)) for i in range(20))))
    result = subprocess.run([sys.executable, "-c", _FULL_DISK, *command], cwd=tmp_path, capture_output=True,
                            timeout=TIMEOUT)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().startswith("ftdata: error: ") and result.stderr.count(b"\n") == 1, result.stderr
    assert b"No space left on device" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.jsonl"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (root only)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                                           capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root (the fault-injection test covers the writer without it)")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_output_folder_and_a_full_tmpdir(tmp_path, tiny_disk):
    (tmp_path / "train.jsonl").write_bytes(jsonl(*(chat(f"question {i} " * 20) for i in range(400))))
    for command, env in [(("check", "train.jsonl", "--clean", tiny_disk / "c.jsonl"), {}),
                         (("check", "train.jsonl", "--clean", "c.jsonl"), {"TMPDIR": str(tiny_disk)}),
                         (("convert", "train.jsonl", tiny_disk / "c.jsonl", "--to", "sharegpt"), {}),
                         (("split", "train.jsonl", "--out-dir", tiny_disk), {})]:
        result = run(*command, cwd=tmp_path, env=env, expect=(2,))
        assert b"No space left on device" in result.stderr
        assert list(tiny_disk.iterdir()) == []
        assert not (tmp_path / "c.jsonl").exists()


# --- files -------------------------------------------------------------------------------------------------------

def test_outputs_honour_the_umask_and_force_keeps_the_mode(tmp_path):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat()))
    subprocess.run(f"umask 027 && {sys.executable} -m ftdata check train.jsonl --clean c.jsonl", shell=True,
                   cwd=tmp_path, capture_output=True, timeout=TIMEOUT, check=True)
    assert stat.S_IMODE((tmp_path / "c.jsonl").stat().st_mode) == 0o640
    (tmp_path / "c.jsonl").chmod(0o604)
    run("check", "train.jsonl", "--clean", "c.jsonl", "--force", cwd=tmp_path)
    assert stat.S_IMODE((tmp_path / "c.jsonl").stat().st_mode) == 0o604


def test_an_unwritable_output_stops_the_run_before_reading(tmp_path):
    """The input is a named pipe nobody writes: a run that read a byte would wait forever."""
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "file").write_text("")
    for flag in ("--clean", "--rejected", "--report"):
        run("check", "pipe.jsonl", flag, "file/out.jsonl", cwd=tmp_path, expect=(2,))
    run("convert", "pipe.jsonl", "file/out.jsonl", "--to", "sharegpt", cwd=tmp_path, expect=(2,))
    run("dedup", "pipe.jsonl", "--out", "file/out.jsonl", cwd=tmp_path, expect=(2,))


def test_an_output_another_run_is_writing_is_refused(tmp_path):
    import fcntl

    (tmp_path / "train.jsonl").write_bytes(jsonl(chat()))
    with open(tmp_path / ".c.jsonl.ftdata-part", "wb") as other:  # what a live run holds
        fcntl.flock(other, fcntl.LOCK_EX)
        result = subprocess.run([sys.executable, "-m", "ftdata", "check", "train.jsonl", "--clean", "c.jsonl", "--force"],
                                cwd=tmp_path, capture_output=True, timeout=TIMEOUT)
        assert result.returncode == 2 and result.stderr.startswith(b"ftdata: error: c.jsonl: another ftdata run")
        assert (tmp_path / ".c.jsonl.ftdata-part").exists() and not (tmp_path / "c.jsonl").exists()
    # the same part file with no live owner is a killed run's: removed, and named
    result = run("check", "train.jsonl", "--clean", "c.jsonl", cwd=tmp_path)
    assert b"interrupted run" in result.stderr and (tmp_path / "c.jsonl").exists()


# Windows has no fcntl: ftdata must run on msvcrt's locks. Simulated here: importing fcntl fails, and a
# stand-in msvcrt locks from the current position with POSIX record locks (which, like msvcrt's, another
# process sees and the system drops when the holder dies).
_NO_FCNTL = """
import errno, os, subprocess, sys, types  # subprocess first: it takes an importable msvcrt for Windows
import fcntl as posix
sys.modules["fcntl"] = None  # `import fcntl` raises ImportError, as on Windows
msvcrt = types.ModuleType("msvcrt")
msvcrt.LK_UNLCK, msvcrt.LK_NBLCK = 0, 2
def locking(fd, mode, nbytes):
    read_only = posix.fcntl(fd, posix.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
    how = posix.LOCK_UN if mode == msvcrt.LK_UNLCK else (posix.LOCK_SH if read_only else posix.LOCK_EX) | posix.LOCK_NB
    try:
        posix.lockf(fd, how, nbytes, 0, os.SEEK_CUR)
    except OSError:
        raise PermissionError(errno.EACCES, "Permission denied") from None
msvcrt.locking = locking
sys.modules["msvcrt"] = msvcrt
if sys.argv[1] == "hold":  # a live run writing the output: holds its part file until stdin closes
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT)
    locking(fd, msvcrt.LK_NBLCK, 1)
    print("held", flush=True)
    sys.stdin.read()
    sys.exit()
import ftdata.temporaries
assert ftdata.temporaries.fcntl is None and not ftdata.temporaries.MOVE_WHILE_OPEN
from ftdata.cli import main
sys.argv[0] = "ftdata"
main()
"""


def test_without_fcntl_outputs_are_locked_with_msvcrt(tmp_path):
    def ftdata_without_fcntl(*args, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _NO_FCNTL, *args], cwd=tmp_path, capture_output=True,
                              timeout=TIMEOUT, env={**os.environ, "TMPDIR": str(tmp_path / "tmp")}, **kwargs)

    (tmp_path / "tmp" / "ftdata-run-killed").mkdir(parents=True)  # a killed run's: its lock file held by nobody
    (tmp_path / "tmp" / "ftdata-run-killed" / ".lock").write_bytes(b"")
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(), b"not json"))
    result = ftdata_without_fcntl("check", "train.jsonl", "--clean", "c.jsonl", "--rejected", "r.jsonl", "-j", "1")
    assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr
    assert b"ftdata-run-killed, left by an interrupted run" in result.stderr
    assert (tmp_path / "c.jsonl").read_bytes() == jsonl(chat()) and len((tmp_path / "r.jsonl").read_bytes().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "r.jsonl", "tmp", "train.jsonl"]
    assert list((tmp_path / "tmp").iterdir()) == []

    part = tmp_path / ".d.jsonl.ftdata-part"
    holder = subprocess.Popen([sys.executable, "-c", _NO_FCNTL, "hold", str(part)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        result = ftdata_without_fcntl("check", "train.jsonl", "--clean", "d.jsonl")
        assert result.returncode == 2 and result.stderr.startswith(b"ftdata: error: d.jsonl: another ftdata run")
    finally:
        holder.communicate(b"", timeout=TIMEOUT)
    result = ftdata_without_fcntl("check", "train.jsonl", "--clean", "d.jsonl")  # its holder is gone: stale
    assert result.returncode == 1 and b"interrupted run" in result.stderr and not part.exists(), result.stderr
    assert (tmp_path / "d.jsonl").read_bytes() == jsonl(chat())


def test_non_regular_outputs_are_written_in_place(tmp_path):
    (tmp_path / "train.jsonl").write_bytes(jsonl(chat(), chat("x")))
    os.mkfifo(tmp_path / "fifo")
    reader = subprocess.Popen(["cat", str(tmp_path / "fifo")], stdout=subprocess.PIPE)
    run("check", "train.jsonl", "--clean", "fifo", cwd=tmp_path)
    assert reader.communicate(timeout=TIMEOUT)[0] == jsonl(chat(), chat("x"))
    assert stat.S_ISFIFO((tmp_path / "fifo").stat().st_mode)
    result = run("check", "train.jsonl", "--clean", "-", "--output-format", "json", cwd=tmp_path)
    assert result.stdout == jsonl(chat(), chat("x"))
    assert json.loads(result.stderr)["summary"]["records"] == 2



# --- convert: values exactly, or the record reported ---------------------------------------------------------------


_scalars = st.one_of(
    st.integers(-(2 ** 70), 2 ** 70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0", "-0.0", "1E2", "true", "false", "null"]),
    st.text(max_size=5).map(json.dumps),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(st.tuples(st.sampled_from("abc"), inner), max_size=3).map(
        lambda pairs: "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}")), max_leaves=8)


def _exact(text: str):
    """A JSON text's values as written (integers of any size, floats as floats), or None when no JSON
    writer can hold them: a repeated key, NaN or Infinity, a number that overflows a double."""
    repeated = []

    def pairs(items):
        repeated.append(len({k for k, _ in items}) < len(items))
        return dict(items)

    def constant(name):
        raise ValueError(name)

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except ValueError:
        return None
    return None if any(repeated) or _overflows(value) else ("exact", value)


def _overflows(value) -> bool:
    if isinstance(value, float):
        return value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(_overflows(v) for v in value.values())
    if isinstance(value, list):
        return any(_overflows(v) for v in value)
    return False


def _same(a, b) -> bool:
    """Equal values of equal JSON types (1 and 1.0 differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_values, min_size=1, max_size=4))
def test_convert_writes_values_exactly_or_reports_the_record(tmp_path_factory, metas):
    from ftdata.convert import convert

    folder = tmp_path_factory.mktemp("convert")
    lines = [b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "meta": '
             + meta.encode() + b"}" for meta in metas]
    (folder / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = convert(folder / "in.jsonl", folder / "out.jsonl", "sharegpt")
    skipped = {s.line for s in result.skipped}
    # JSON Lines ends records at b"\n" only: str.splitlines would also cut at U+0085 or U+2028 inside a string
    written = iter((folder / "out.jsonl").read_bytes().splitlines())
    for line, meta in enumerate(metas, 1):
        exact = _exact(meta)
        if line in skipped:
            continue  # reported: fine whether or not it could have been written exactly
        assert exact is not None, f"line {line} written though its values cannot be: {meta}"
        assert _same(json.loads(next(written))["meta"], exact[1]), meta
    assert next(written, None) is None
