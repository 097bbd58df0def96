"""The progress callback hears every phase of a run: cutting the inputs, checking, finishing, writing."""

import json
from collections import defaultdict

import pytest

from ftdata import Config
from ftdata.pipeline import check


def _chat_file(path, records: int, array: bool) -> None:
    lines = [json.dumps({"messages": [{"role": "user", "content": f"question {i} " + "word " * 60},
                                      {"role": "assistant", "content": f"answer {i} " + "word " * 80}]})
             for i in range(records)]
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n" if array else "\n".join(lines) + "\n")


@pytest.mark.parametrize("name", ["train.json", "train.jsonl"])
def test_every_phase_reports_progress(tmp_path, name):
    path = tmp_path / name
    _chat_file(path, 9000, array=name.endswith(".json"))  # about 5 MB: more than two 1 MiB shards
    size = path.stat().st_size
    heard = defaultdict(list)

    def progress(phase, what, done, total):
        heard[phase].append((what, done, total))

    report = check([path], Config(select=["F", "S", "P"], shard_bytes=1 << 20), jobs=2, progress=progress,
                   clean=tmp_path / "clean.jsonl")
    assert report.records == 9000
    assert set(heard) == {"cutting", "checking", "finishing", "writing"}
    for phase in ("cutting", "checking"):  # bytes of the input, growing to its size
        dones = [done for what, done, total in heard[phase]]
        assert {what for what, _, _ in heard[phase]} == {str(path)}
        assert {total for _, _, total in heard[phase]} == {size}
        assert dones == sorted(dones) and 0 < dones[-1] <= size
    assert len(heard["cutting"]) >= 2  # the walk is heard while it goes, not only at its end
    assert heard["cutting"][-1][1] == heard["checking"][-1][1] == size
    assert heard["finishing"][-1][1:] == (heard["finishing"][-1][2], heard["finishing"][-1][2])
    assert heard["writing"][-1] == ("outputs", 9000, 9000)


def test_one_process_reports_checking_and_finishing(tmp_path):
    path = tmp_path / "train.jsonl"
    _chat_file(path, 5000, array=False)
    heard = defaultdict(list)
    check([path], Config(select=["F", "S", "P"]), jobs=1, progress=lambda *args: heard[args[0]].append(args[1:]))
    assert set(heard) == {"checking", "finishing"}  # whole in one process: nothing to cut, no outputs to write
    assert heard["checking"][-1] == (str(path), path.stat().st_size, path.stat().st_size)
