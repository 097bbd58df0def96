"""The hand verdicts of the real-data precision benchmark, and the scoring it does with them."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

import ftdata
from ftdata.config import config_from_table

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import bench_precision as bench  # noqa: E402

VERDICT_KEYS = {"code", "file", "line", "message", "verdict", "note"}


def test_every_verdict_is_complete_and_names_a_real_rule():
    verdicts = json.loads(bench.VERDICTS.read_text())
    assert verdicts, "the verdicts file is empty"
    codes = set(ftdata.all_rules()) | {bench.DEDUP}
    for key, entry in verdicts.items():
        assert set(entry) == VERDICT_KEYS, key
        assert isinstance(entry["verdict"], bool), key
        assert entry["note"].strip(), key
        assert entry["code"] in codes, f"{key}: {entry['code']} is not in the catalogue"
        file, record, code, *related = key.split("|")
        assert (file, code) == (entry["file"], entry["code"]), key
        assert record == "file" or len(record) == 16, key
        assert bool(related) == (code.startswith(bench.PAIR_PREFIXES) or code == bench.DEDUP), key


def test_wilson_interval_matches_hand_computed_values():
    low, high = bench.wilson(8, 10)  # p 0.8, n 10: centre 0.7167, half-width 0.2266
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    low, high = bench.wilson(10, 10)  # all true: the upper bound is 1, the lower n / (n + z^2)
    assert (low, high) == (pytest.approx(10 / (10 + 1.959964 ** 2)), pytest.approx(1.0))
    assert bench.wilson(0, 0) == (0.0, 1.0)


def test_score_counts_true_false_and_unlabelled():
    verdicts = {"a": {"verdict": True}, "b": {"verdict": True}, "c": {"verdict": False}, "x": {"verdict": True}}
    s = bench.score(["a", "b", "c", "d"], verdicts)  # "x" is not sampled, "d" has no verdict
    assert (s.true, s.false, s.unlabelled) == (2, 1, 1)
    assert s.precision == pytest.approx(2 / 3)
    assert bench.status(s, 0.8) == "INCOMPLETE"
    assert bench.status(bench.Score(19, 1, 0), 0.95) == "PASS"
    assert bench.status(bench.Score(18, 2, 0), 0.95) == "FAIL"
    assert bench.status(bench.Score(0, 0, 0), None) == "info"


def _flagged(file: str, n: int) -> bench.Flagged:
    return bench.Flagged(f"{file}|{n:016x}|Q004", "Q004", "warning", file, n, None, "", "")


def test_precision_by_volume_weights_each_file_by_its_findings():
    items = [_flagged("big", n) for n in range(90)] + [_flagged("small", n) for n in range(10)]
    sample = [items[0], items[1], items[90], items[91]]  # two of each file
    verdicts = {items[0].key: {"verdict": True}, items[1].key: {"verdict": True},
                items[90].key: {"verdict": False}, items[91].key: {"verdict": False}}
    assert bench.score([i.key for i in sample], verdicts).precision == 0.5  # the plain sample
    assert bench.by_volume(items, sample, verdicts) == pytest.approx(0.9)  # 90 of 100 flagged are in "big"
    assert bench.by_volume(items, sample, {}) is None


def test_sample_takes_every_file_in_turn_and_is_deterministic():
    items = [_flagged("big", n) for n in range(10)] + [_flagged("one", 1), _flagged("two", 2)]
    sample = bench.stratified_sample(items, 5)
    assert len(sample) == 5
    assert {"one", "two"} <= {i.file for i in sample}  # a file with one finding is not crowded out
    assert [i.key for i in bench.stratified_sample(list(reversed(items)), 5)] == [i.key for i in sample]


def test_a_line_holding_several_records_names_none_of_them(tmp_path):
    path = tmp_path / "one_line.json"
    path.write_text('[{"text": "a"}, {"text": "b"}]\n')
    records = bench.Records(path)
    assert records.by_index == [b'{"text": "a"}', b'{"text": "b"}']
    assert records.raw(1, 1) == b'{"text": "b"}'
    assert records.raw(None, 1) is None  # by line alone, the record is ambiguous


def test_fingerprints_name_the_bytes_of_the_flagged_record():
    path = bench.DATA / "realworld" / "karma-app__cohere.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is absent: the real public files are not part of the repository")
    records = bench.Records(path)
    raw_lines = path.read_bytes().splitlines()
    assert records.by_index == raw_lines
    assert records.by_line == {n: raw for n, raw in enumerate(raw_lines, 1)}
    report = ftdata.check([str(path)], config_from_table({}), jobs=1)
    flagged: dict = {}
    bench.collect(path, report.findings, records, "generic", flagged)
    assert flagged
    for item in flagged.values():
        file, record, code, *_ = item.key.split("|")
        assert file == path.name
        if item.line is None:
            assert record == "file"
        else:
            assert record == hashlib.sha256(raw_lines[item.line - 1]).hexdigest()[:16]
