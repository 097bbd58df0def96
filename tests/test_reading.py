"""The reader and the outputs: every input line accounted for, whatever the bytes."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftdata
from ftdata.config import Config

GOOD = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}'
line_bytes = st.one_of(
    st.just(GOOD), st.just(b""), st.just(b"   "), st.just(b"not json"), st.just(b"[1]"), st.just(b'{"a":1,"a":2}'),
    st.just(b"\xef\xbb\xbf" + GOOD), st.just(b'{"text": NaN}'), st.binary(max_size=40),
    # escapes the fast parser refuses or that decode to odd text (lone surrogates, NUL), in a value and a key
    st.lists(st.sampled_from([b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\\\", b"a", b"\\u0000", b'\\"']),
             min_size=1, max_size=4).map(lambda parts: GOOD.replace(b"Hello", b"".join(parts))
                                                           .replace(b'"role"', b'"role' + parts[0] + b'"', 1)),
)


def _non_blank_lines(data: bytes) -> list[bytes]:
    lines = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return [line for line in lines if line.strip(b" \t\r") and not line.isspace()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line_bytes, max_size=12))
def test_conservation_for_arbitrary_bytes(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("c")
    data = b"\n".join(lines)
    source = folder / "in.jsonl"
    source.write_bytes(data)
    report = ftdata.check([source], Config(), clean=folder / "clean.jsonl", rejected=folder / "rejected.jsonl")
    clean = (folder / "clean.jsonl").read_bytes().splitlines()
    rejected = [json.loads(line) for line in (folder / "rejected.jsonl").read_bytes().splitlines()]
    assert report.records == len(clean) + len(rejected)
    assert report.records == len(_non_blank_lines(data.removeprefix(b"\xef\xbb\xbf")))
    assert all(r["findings"] and any(f["severity"] == "error" for f in r["findings"]) for r in rejected)
    assert sorted(r["line"] for r in rejected) == sorted(set(r["line"] for r in rejected))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.sampled_from(["in.jsonl", "in.json", "in.txt"]))
def test_reader_never_raises_on_arbitrary_bytes(tmp_path_factory, data, name):
    source = tmp_path_factory.mktemp("r") / name
    source.write_bytes(data)
    report = ftdata.check([source], Config())
    assert report.records >= 0
    assert all(f.code and f.severity in ("error", "warning", "info") for f in report.findings)


def test_json_array_elements_keep_their_line_numbers_and_bytes(tmp_path):
    source = tmp_path / "data.json"
    source.write_text('[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c",\n   "output": ""}\n]\n')
    report = ftdata.check([source], Config(ignore=["Q", "C", "G"]), clean=tmp_path / "clean.json",
                          rejected=tmp_path / "rej.jsonl")
    assert report.records == 2
    assert [(f.code, f.line) for f in report.findings] == [("P002", 3)]
    assert json.loads((tmp_path / "clean.json").read_text()) == [{"instruction": "a", "output": "b"}]
    rejected = json.loads((tmp_path / "rej.jsonl").read_text())
    assert rejected["text"] == '{"instruction": "c",\n   "output": ""}'


def test_gzip_parquet_and_oversized_lines(tmp_path):
    import gzip

    import polars as pl

    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(GOOD + b"\n" + GOOD + b"\n"))
    pl.DataFrame({"instruction": ["q", "r"], "output": ["a", ""]}).write_parquet(tmp_path / "b.parquet")
    reading_rules = Config(select=["F", "S", "P"])  # the two gzipped records are identical on purpose
    report = ftdata.check([tmp_path / "a.jsonl.gz", tmp_path / "b.parquet"], reading_rules)
    assert report.records == 4
    assert [(f.code, f.file.endswith("b.parquet"), f.line) for f in report.findings] == [("P002", True, 2)]

    big = tmp_path / "big.jsonl"
    big.write_bytes(GOOD + b"\n" + b'{"text": "' + b"x" * 5000 + b'"}\n' + GOOD + b"\n")
    config = Config(select=["F", "S", "P"], stage_options={"read": {"max-record-bytes": 1000}})
    report = ftdata.check([big], config, rejected=tmp_path / "r.jsonl")
    assert [(f.code, f.line) for f in report.findings] == [("F007", 2)]
    entry = json.loads((tmp_path / "r.jsonl").read_text())  # where it is, not its text
    start = len(GOOD) + 1
    assert entry["line"] == 2 and entry["bytes"] == {"start": start, "end": start + 5012} and "text" not in entry
    assert big.read_bytes()[entry["bytes"]["start"]:entry["bytes"]["end"]] == b'{"text": "' + b"x" * 5000 + b'"}'


def test_an_oversized_record_whose_error_is_ignored_is_copied_whole(tmp_path):
    """With F007 ignored, a record too large to load is a record still: the clean output and split's outputs
    copy its bytes from the input (never an empty line), a .gz too; standard input cannot be read again."""
    import gzip
    import subprocess
    import sys

    big_record = b'{"text": "' + b"x" * 5000 + b'"}'
    records = [GOOD.replace(b"Hello", b"Hello %d" % n) for n in range(30)]
    records[10:10] = [big_record]
    data = b"\n".join(records[:20]) + b"\r\n" + b"\n".join(records[20:])  # no final newline, one CRLF
    (tmp_path / "in.jsonl").write_bytes(data)
    (tmp_path / "in.jsonl.gz").write_bytes(gzip.compress(data))
    limit = {"read": {"max-record-bytes": 1000}}
    for name in ("in.jsonl", "in.jsonl.gz"):
        clean = tmp_path / f"clean-{name}.jsonl"
        report = ftdata.check([tmp_path / name], Config(select=["F"], ignore=["F007"], stage_options=limit), clean=clean)
        assert report.records == 31 and not report.findings
        assert clean.read_bytes() == b"\n".join(records) + b"\n"

    ftdata_cli = [sys.executable, "-m", "ftdata"]
    piped = subprocess.run([*ftdata_cli, "check", "-", "--ignore", "F007", "-o", "read.max-record-bytes=1000",
                            "--clean", str(tmp_path / "piped.jsonl")], input=data, capture_output=True)
    assert piped.returncode == 2 and b"<stdin>:11:" in piped.stderr and b"Traceback" not in piped.stderr
    assert not (tmp_path / "piped.jsonl").exists()

    (tmp_path / "limit.toml").write_text("[read]\nmax-record-bytes = 1000\n")
    split = subprocess.run([*ftdata_cli, "split", str(tmp_path / "in.jsonl"), "--config", str(tmp_path / "limit.toml"),
                            "--out-dir", str(tmp_path / "split")], capture_output=True)
    assert split.returncode == 0, split.stderr
    written = [line for part in ("train", "val", "test")
               for line in (tmp_path / "split" / f"in.{part}.jsonl").read_bytes().split(b"\n")[:-1]]
    assert sorted(written) == sorted(records)


def test_lines_longer_than_a_read_chunk(tmp_path):
    """A record spanning several read chunks (joined once when its line ends) arrives whole, in the clean
    output byte for byte; one over the limit is a finding however many chunks it spans; no final newline."""
    import gzip

    from ftdata.stages.arrays import CHUNK

    long_record = GOOD.replace(b"Hello", b"word " * (3 * CHUNK // 5))  # three chunks
    data = GOOD + b"\n" + long_record + b"\r\n" + GOOD + b"\n" + long_record
    (tmp_path / "long.jsonl").write_bytes(data)
    report = ftdata.check([tmp_path / "long.jsonl"], Config(select=["F", "S", "P"]), clean=tmp_path / "clean.jsonl")
    assert report.records == 4 and list(report.findings) == []
    assert (tmp_path / "clean.jsonl").read_bytes() == b"\n".join([GOOD, long_record, GOOD, long_record]) + b"\n"
    # a plain file's long line is read again in one piece from its offset (a BOM before it); a .gz joins its pieces
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + data)
    (tmp_path / "long.jsonl.gz").write_bytes(gzip.compress(data))
    for name in ("bom.jsonl", "long.jsonl.gz"):
        ftdata.check([tmp_path / name], Config(select=["F001"]), clean=tmp_path / f"{name}.clean.jsonl")
        assert (tmp_path / f"{name}.clean.jsonl").read_bytes() == (tmp_path / "clean.jsonl").read_bytes()

    config = Config(select=["F", "S", "P"], stage_options={"read": {"max-record-bytes": 2 * CHUNK}})
    report = ftdata.check([tmp_path / "long.jsonl"], config)
    assert report.records == 4
    assert [(f.code, f.line) for f in report.findings] == [("F007", 2), ("F007", 4)]


def test_outputs_never_overwrite_an_input(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(GOOD + b"\n")
    try:
        ftdata.check([source], Config(), clean=source)
    except ftdata.UsageError as e:
        assert "never overwrites" in str(e)
    else:
        raise AssertionError("writing over the input was allowed")
    assert source.read_bytes() == GOOD + b"\n"


def test_split_roles_come_from_file_names(tmp_path):
    for name in ("train.jsonl", "val.jsonl", "my_test.jsonl"):
        (tmp_path / name).write_bytes(GOOD + b"\n")
    report = ftdata.check([tmp_path / n for n in ("train.jsonl", "val.jsonl", "my_test.jsonl")], Config())
    assert [i["split"] for i in report.summary["inputs"]] == ["train", "val", "test"]


def test_field_paths_of_long_conversations_and_repeated_role_orders(tmp_path):
    """Message paths are shared between records up to a length, and made per record past it; a role
    order that passed once is remembered, one that fails is reported on every record that has it."""
    turns = [{"role": role, "content": role[0]} for _ in range(800) for role in ("user", "assistant")]
    turns[1501]["content"] = ""
    bad_order = [{"role": "user", "content": "q"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    records = [turns, turns, bad_order, bad_order]
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps({"messages": m}) + "\n" for m in records))
    report = ftdata.check([path], Config(select=["P002", "P005"], target="together"), jobs=1)
    assert [(f.code, f.line, f.field) for f in report.findings] == [
        ("P002", 1, "messages[1501].content"), ("P002", 2, "messages[1501].content"),
        ("P005", 3, "messages[1]"), ("P005", 4, "messages[1]")]


def test_a_large_record_is_checked_for_duplicate_keys_and_depth_without_a_copy(tmp_path):
    """Past LARGE bytes the parse stage counts colons by walking the record instead of dumping it again
    (one copy fewer of a 60 MB record): the same findings, colons inside strings and keys included."""
    from ftdata.stages.arrays import LARGE

    text = "a: b :: c " * (LARGE // 10 + 1)
    duplicate = b'{"messages": [{"role": "user", "content": "k:1", "role": "user"}], "text": "' + text.encode() + b'"}'
    fine = json.dumps({"messages": [{"role": "user", "content": "q:"}, {"role": "assistant", "content": text}],
                       "meta": {"x:y": [1, {"z": ":"}]}}).encode()
    deep = fine.replace(b'[1, {"z"', b"[" * 260 + b'1, {"z"').replace(b'":"}]}', b'":"}' + b"]" * 260 + b"}")
    (tmp_path / "large.jsonl").write_bytes(b"\n".join([duplicate, fine, deep]) + b"\n")
    report = ftdata.check([tmp_path / "large.jsonl"], Config(select=["F"]))
    assert [(f.code, f.line) for f in report.findings] == [("F010", 1), ("F008", 3)]


def test_array_elements_with_strings_longer_than_a_read_chunk(tmp_path):
    """Strings that run over several read chunks (an escape split at a chunk's end, commas and brackets
    inside) are delimited exactly, in an object and as a bare string element."""
    from ftdata.stages.arrays import CHUNK

    head = json.dumps([{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]}])[:-5]
    for at in range(CHUNK - 3, CHUNK + 3):  # the escapes' backslashes at, before and after the first chunk's end
        text = "x" * (at - len(head)) + '\\"], {' + "y, ]" * CHUNK
        elements = [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": text}]},
                    text, 7]
        (tmp_path / "long.json").write_text(json.dumps(elements))
        assert (tmp_path / "long.json").read_bytes()[at:at + 4] == b'\\\\\\"'
        report = ftdata.check([tmp_path / "long.json"], Config(select=["F"], ignore=["F002"], jobs=1),
                              clean=tmp_path / "c.jsonl", force=True)  # F002: the string and the number are no objects
        assert report.records == 3 and not report.findings, at
        written = (tmp_path / "c.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in written] == elements


def test_an_oversized_array_element_is_not_held_and_named_by_its_bytes(tmp_path):
    """An element of a .json array (or a pretty-printed value) over the limit is scanned to its end without
    being held, however many chunks it spans: F007 with its byte range (after a BOM too), the lines of the
    elements after it unchanged; with F007 ignored the clean output copies it, its line breaks folded."""
    from ftdata.stages.arrays import CHUNK

    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "fine"}]}
    big = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": 'a\\"b\n ' * CHUNK}]}
    elements = [good, big, "x" * (3 * CHUNK), good]
    for name, data in (("a.json", b"\xef\xbb\xbf" + json.dumps(elements, indent=2).encode()),
                       ("p.jsonl", b"".join(json.dumps(e, indent=2).encode() + b"\n" for e in (good, big, good)))):
        (tmp_path / name).write_bytes(data)
        limit = Config(select=["F001", "F007"], stage_options={"read": {"max-record-bytes": CHUNK // 2}}, jobs=1)
        report = ftdata.check([tmp_path / name], limit, rejected=tmp_path / f"{name}.r.jsonl")
        unlimited = ftdata.check([tmp_path / name], Config(select=["F001", "F007"], jobs=1),
                                 rejected=tmp_path / f"{name}.u.jsonl")
        assert not unlimited.findings
        rejected = [json.loads(line) for line in (tmp_path / f"{name}.r.jsonl").read_text().splitlines()]
        assert [(f.code, f.line) for f in report.findings] == [("F007", r["line"]) for r in rejected]
        assert [json.loads(data[r["bytes"]["start"]:r["bytes"]["end"]]) for r in rejected] == elements[1:3][:len(rejected)]
        assert len(rejected) == (2 if name == "a.json" else 1)
        assert _lines(tmp_path / name, limit) == _lines(tmp_path / name, Config())

        ignored = limit.replace(ignore=["F007"])
        ftdata.check([tmp_path / name], ignored, clean=tmp_path / f"{name}.c.jsonl")
        written = (tmp_path / f"{name}.c.jsonl").read_bytes().splitlines()
        assert [json.loads(line) for line in written] == (elements if name == "a.json" else [good, big, good])


def _lines(path, config: Config) -> list[int]:
    """The line each record of `path` starts on, as the reader gives it."""
    from ftdata.config import Policy
    from ftdata.stages.base import Context, InputFile
    from ftdata.stages.read import ReadStage
    from ftdata.targets import load_target

    ctx = Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[])
    return [example.line for example in ReadStage(ctx).whole([InputFile(str(path))])]
