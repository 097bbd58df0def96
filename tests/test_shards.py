"""Shards: where inputs are cut, and that a run on worker processes reports exactly what a serial run does."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftdata
from ftdata.shards import plan
from ftdata.stages.base import InputFile

SAMPLES = Path(__file__).parents[1] / "sample_data"


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.sampled_from([b"", b"{}", b"\r", b"x" * 50, b'{"a": "\\n"}', b"y" * 300]), max_size=60),
       shard_bytes=st.integers(1, 400), tail=st.booleans())
def test_plan_cuts_at_line_starts_and_numbers_lines(tmp_path_factory, lines, shard_bytes, tail):
    data = b"\n".join(lines) + (b"\n" if tail else b"")
    path = tmp_path_factory.mktemp("plan") / "data.jsonl"
    path.write_bytes(data)
    shards = plan([InputFile(str(path))], shard_bytes)
    if len(shards) == 1:
        assert shards[0].start == 0 and (shards[0].end is None or shards[0].end == len(data))
        return
    assert shards[0].start == 0 and shards[-1].end == len(data)
    for before, after in zip(shards, shards[1:]):
        assert before.end == after.start and before.start < before.end
        assert data[after.start - 1:after.start] == b"\n"
        assert before.first_index < after.first_index
    for shard in shards:
        assert shard.first_line == data.count(b"\n", 0, shard.start) + 1


def _defective_file(path: Path) -> None:
    """Records of every kind a reader and the validating stages see, many times over, so that small
    shards cut between the first record of a format and its later ones."""
    clean = (SAMPLES / "chat_clean.jsonl").read_bytes().splitlines()
    defects = (SAMPLES / "chat_with_defects.jsonl").read_bytes().splitlines()
    alpaca = json.dumps({"instruction": "Say hi", "input": "", "output": "Hi."}).encode()
    with path.open("wb") as f:
        f.write(b"\n".join([b"", b"not json", *clean, *defects, alpaca, b"", *defects, *clean, alpaca, b"[1]"]) + b"\n")


def _run(tmp_path: Path, inputs: list[str], jobs: int, name: str, **config) -> tuple[dict, bytes, bytes]:
    clean, rejected = tmp_path / f"{name}-{{stem}}.jsonl", tmp_path / f"{name}-rejected.jsonl"
    report = ftdata.check(inputs, ftdata.Config(shard_bytes=700, **config), jobs=jobs, clean=clean,
                          rejected=rejected).to_json()
    cleaned = b"".join((tmp_path / f"{name}-{Path(i).stem}.jsonl").read_bytes() for i in inputs)
    return report, cleaned, rejected.read_bytes()


@pytest.mark.parametrize("select, expected", [
    (["F", "S", "P", "T"], {"F001", "F002", "F005", "S002"}),
    (["F", "S", "P", "T", "D", "C0"], {"D001", "D002", "D004"}),
    ([], {"F001", "S002", "D001", "G001", "T006"}),  # every rule on by default
])
def test_workers_report_what_a_serial_run_reports(tmp_path, select, expected):
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    _defective_file(train)
    val.write_bytes((SAMPLES / "chat_clean.jsonl").read_bytes() * 3)
    inputs = [str(train), str(val)]
    serial, serial_clean, serial_rejected = _run(tmp_path, inputs, 1, "serial", target="openai", select=select)
    sharded, sharded_clean, sharded_rejected = _run(tmp_path, inputs, 2, "sharded", target="openai", select=select)
    assert serial["stats"].pop("run") == {"workers": 1, "shards": 2}
    run = sharded["stats"].pop("run")
    assert run["workers"] == 2 and run["shards"] > 10
    for report in (serial, sharded):  # each worker has its own string cache: hits differ, tokens do not
        report["stats"].get("tokens", {}).pop("cache", None)
    assert sharded == serial
    assert serial["summary"]["errors"] > 10 and expected <= {f["code"] for f in serial["findings"]}
    assert (sharded_clean, sharded_rejected) == (serial_clean, serial_rejected)


def test_sample_weights_are_counted_across_shards(tmp_path):
    def record(n: int, weight=None) -> str:
        data = {"messages": [{"role": "user", "content": f"What is {n} + {n}?"},
                             {"role": "assistant", "content": f"It is {2 * n}."}]}
        return json.dumps(data if weight is None else {**data, "weight": weight})

    train = tmp_path / "train.jsonl"
    lines = [record(n, 1.5) for n in range(40)] + [record(n) for n in range(40, 60)] + [record(60, "high")]
    train.write_text("\n".join(lines) + "\n")
    serial, *serial_outputs = _run(tmp_path, [str(train)], 1, "serial", target="fireworks", select=["P017"])
    sharded, *sharded_outputs = _run(tmp_path, [str(train)], 2, "sharded", target="fireworks", select=["P017"])
    assert sharded["stats"].pop("run")["shards"] > 3
    serial["stats"].pop("run")
    assert sharded == serial and sharded_outputs == serial_outputs
    assert [(f["line"], f["related"]) for f in serial["findings"]] == [
        (None, [{"file": str(train), "line": 1}, {"file": str(train), "line": 41}]), (61, [])]
    assert "41 records have a sample weight and 20 have none" in serial["findings"][0]["message"]


def test_examples_with_images_are_counted_across_shards(tmp_path):
    def record(n: int, image: bool) -> str:
        question = [{"type": "text", "text": f"What is in picture {n}?"},
                    {"type": "image_url", "image_url": {"url": f"https://x/{n}.png"}}]
        return json.dumps({"messages": [{"role": "user", "content": question if image else f"What is {n} + {n}?"},
                                        {"role": "assistant", "content": f"Answer {n}."}]})

    cap = tmp_path / "cap.toml"
    cap.write_text('name = "cap"\nextends = "generic"\n[images]\nmax_examples_with_images = 30\n')
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    train.write_text("\n".join(record(n, image=n % 3 != 0) for n in range(60)) + "\n")  # 40 with images
    val.write_text("\n".join(record(n, image=True) for n in range(60, 80)) + "\n")  # not training data: not counted
    inputs = [str(train), str(val)]
    serial, *serial_outputs = _run(tmp_path, inputs, 1, "serial", target=str(cap), select=["P015"])
    sharded, *sharded_outputs = _run(tmp_path, inputs, 2, "sharded", target=str(cap), select=["P015"])
    assert sharded["stats"].pop("run")["shards"] > 3
    serial["stats"].pop("run")
    assert sharded == serial and sharded_outputs == serial_outputs
    assert [f["message"] for f in serial["findings"]] == [
        "40 training examples contain images; target cap accepts at most 30 (examples without images do not count)"]


def test_spawned_workers_report_what_forked_ones_do(tmp_path, monkeypatch):
    """macOS and Windows workers start fresh from the pickled context: the same run there, here."""
    train = tmp_path / "train.jsonl"
    _defective_file(train)
    forked = _run(tmp_path, [str(train)], 2, "forked", target="openai", select=[])
    monkeypatch.setattr(ftdata.pipeline, "START_METHOD", "spawn")
    spawned = _run(tmp_path, [str(train)], 2, "spawned", target="openai", select=[])
    for report, *_ in (forked, spawned):
        report["stats"].get("tokens", {}).pop("cache", None)
    assert spawned == forked and forked[0]["stats"]["run"]["workers"] == 2


def test_no_stage_overrides_run():
    """check_shard runs each record through every stage's `check` in one loop, as chained `Stage.run`s
    would (convert, cost and split chain them): a stage with its own `run` would act differently there."""
    from ftdata.stages import STAGES
    from ftdata.stages.base import Stage
    from ftdata.stages.read import ReadStage

    assert [cls.__name__ for cls in (ReadStage, *STAGES) if cls.run is not Stage.run] == []


def test_a_stage_that_cannot_merge_keeps_the_run_serial(tmp_path):
    from ftdata.stages.base import Stage

    class Tally(Stage):
        name = "tally"

        def stats(self):
            return {"records": 1}

    assert not Tally.shardable()
    assert ftdata.stages.schema.SchemaStage.shardable() and ftdata.stages.tools.ToolsStage.shardable()


def test_jobs_flag_and_setting(tmp_path):
    from click.testing import CliRunner

    from ftdata.cli import main

    data = tmp_path / "train.jsonl"
    data.write_bytes((SAMPLES / "chat_clean.jsonl").read_bytes() * 40)
    (tmp_path / "ftdata.toml").write_text("shard-bytes = 4000\n")
    result = CliRunner().invoke(main, ["check", str(data), "--jobs", "2", "--config", str(tmp_path / "ftdata.toml"),
                                       "--output-format", "json", "--select", "F,S,P,T"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stats"]["run"]["workers"] == 2
    (tmp_path / "ftdata.toml").write_text("jobs = -1\n")
    result = CliRunner().invoke(main, ["check", str(data), "--config", str(tmp_path / "ftdata.toml")])
    assert result.exit_code == 2 and "jobs must be a whole number of at least 0" in result.output


def test_auto_settings_are_settled_from_the_run_head(tmp_path):
    """Workers that check later shards would choose shingles from their own first texts; the run settles
    "auto" from its first records (short texts here: character shingles) before any shard is checked."""
    from ftdata.config import Policy
    from ftdata.shards import active_stages, settle
    from ftdata.stages.base import Context
    from ftdata.targets import load_target

    def chat(i: int, answer: str) -> bytes:
        return json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                        {"role": "assistant", "content": answer}]}).encode()

    data = tmp_path / "train.jsonl"
    data.write_bytes(b"\n".join([b"not json"] + [chat(i, f"ok {i}") for i in range(4096)]
                                + [chat(i, " ".join(["word"] * 80)) for i in range(9000)]) + b"\n")

    def settled(**options) -> dict:
        config = ftdata.Config(select=["D"], stage_options={"duplicates": options})
        ctx = Context(config, load_target("generic"), Policy(config), [InputFile(str(data))])
        return settle(ctx, active_stages(ctx)).config.stage_options["duplicates"]

    assert settled()["shingle"] == "char5" and settled()["boilerplate"]  # "ok", "q" recur in every head record
    assert settled(shingle="word3")["shingle"] == "word3"
    assert settled(shingle="word3", boilerplate="off") == {"shingle": "word3", "boilerplate": "off"}
    data.write_bytes(b"\n".join(chat(i, " ".join(["word"] * 80)) for i in range(100)) + b"\n")
    assert settled()["shingle"] == "word2"


def test_a_json_array_is_cut_at_element_starts(tmp_path):
    """Pretty-printed elements over several lines, non-objects, missing commas and trailing text:
    the sharded walk reports what one walk does, at the same lines."""
    records = [json.loads(line) for line in (SAMPLES / "chat_with_defects.jsonl").read_text().splitlines()
               if line.strip().startswith("{") and _parses(line)] * 6
    # every fourth separator is missing its comma, so that some cut would fall right after one
    body = "".join(json.dumps(r, indent=2) + ("\n" if i % 4 == 3 else ",\n") for i, r in enumerate(records))
    data = tmp_path / "train.json"
    data.write_text("[\n" + body + "  [1, 2],\n  \"text\"\n] trailing\n")
    serial, serial_clean, serial_rejected = _run(tmp_path, [str(data)], 1, "serial")
    sharded, sharded_clean, sharded_rejected = _run(tmp_path, [str(data)], 2, "sharded")
    assert sharded["stats"].pop("run")["shards"] > 10
    serial["stats"].pop("run")
    for report in (serial, sharded):
        report["stats"].get("tokens", {}).pop("cache", None)
    assert sharded == serial
    assert {"F002", "F011"} <= {f["code"] for f in serial["findings"]}
    assert (sharded_clean, sharded_rejected) == (serial_clean, serial_rejected)


def _parses(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_a_flood_of_blank_lines_is_reported_whole_from_findings_workers_keep_on_disk(tmp_path, monkeypatch):
    """Blank lines are findings of no record, sent on as they are found (never held until the next
    record); a worker's findings past the memory limit wait on disk in the run's folder."""
    import ftdata.findings
    import ftdata.shards

    monkeypatch.setattr(ftdata.findings, "MEMORY_LIMIT", 500)  # workers are forked: they see it too
    monkeypatch.setattr(ftdata.shards, "_SMALLEST_SHARD", 1000)
    record = json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
    data = tmp_path / "train.jsonl"
    data.write_text(record + "\n" + "\n" * 20_000 + record + "\n" + "\n" * 3_000 + record + "\n")
    reports = [ftdata.check([data], ftdata.Config(select=["F"], jobs=jobs, shard_bytes=4000)) for jobs in (1, 2)]
    assert reports[1].stats["run"]["workers"] == 2 and reports[1].stats["run"]["shards"] > 2
    for report in reports:
        assert report.summary["by_code"] == {"F005": 23_000}
    assert [f.line for f in reports[1].findings] == [f.line for f in reports[0].findings] == [
        *range(2, 20_002), *range(20_003, 23_003)]


def test_workers_start_after_a_run_that_searched_in_native_code(tmp_path):
    """A process whose earlier run used polars (its thread pool running) starts workers that finish: forked
    ones would wait forever on the pool's locks. In a child process, so that a hang is a timeout here."""
    import os
    import signal
    import subprocess
    import sys

    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"Describe the image below, {i}."},
                                                      {"role": "assistant", "content": "As an AI language model, I cannot. " * 20}]}) + "\n"
                             for i in range(3000)))
    script = (
        "import sys, ftdata\n"
        "from ftdata.quality import native\n"
        "if __name__ == '__main__':\n"
        "    native.MIN_CHARS = 0\n"
        "    one = ftdata.check([sys.argv[1]], ftdata.Config(jobs=1, select=['Q']))\n"
        "    assert 'polars' in sys.modules\n"
        "    two = ftdata.check([sys.argv[1]], ftdata.Config(jobs=2, select=['Q'], shard_bytes=1 << 20))\n"
        "    assert two.stats['run']['workers'] == 2, two.stats['run']\n"
        "    print(len(one.findings), len(two.findings))\n")
    (tmp_path / "run.py").write_text(script)
    run = subprocess.Popen([sys.executable, str(tmp_path / "run.py"), str(train)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = run.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # its workers too
        raise
    assert run.returncode == 0, stderr[-2000:]
    one, two = stdout.split()
    assert one == two and int(one) >= 3000
