"""Signals during a run (issue 12): SIGTERM (timeout, CI cancellation, docker stop) cleans up like Ctrl-C,
Ctrl-C to the whole process group prints no worker tracebacks, and what a SIGKILLed run leaves is
removed, and named, by the next run. Each run is a subprocess with its own TMPDIR; waits are bounded."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TIMEOUT = 180


@pytest.fixture(scope="module")
def big_input(tmp_path_factory) -> Path:
    """About 8 MB of chat records: eight shards for two workers, seconds of work."""
    path = tmp_path_factory.mktemp("big") / "train.jsonl"
    with open(path, "w") as f:
        for i in range(40_000):
            f.write(json.dumps({"messages": [{"role": "user", "content": f"question {i} " + "word " * 20},
                                             {"role": "assistant", "content": f"answer {i} " + "text " * 10}]}) + "\n")
    return path


def start(big_input: Path, out: Path, tmp: Path, *extra: str) -> subprocess.Popen:
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "ftdata", "check", str(big_input), "--jobs", "2", "--clean",
                             str(out / "clean.jsonl"), "--rejected", str(out / "rejected.jsonl"), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "TMPDIR": str(tmp)})


def wait_until_spooling(proc: subprocess.Popen, tmp: Path) -> None:
    """Until the run has records on disk in its temporary folder (it is mid-run)."""
    deadline = time.monotonic() + TIMEOUT
    while not any(p.suffix == ".spool" and p.stat().st_size for p in tmp.glob("ftdata-run-*/*")):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the run never started spooling"
        time.sleep(0.05)


def leftovers(out: Path, tmp: Path) -> list[str]:
    return sorted(p.name for p in [*out.iterdir(), *tmp.iterdir()])


def test_sigterm_cleans_up_like_ctrl_c(big_input, tmp_path):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    proc = start(big_input, out, tmp)
    wait_until_spooling(proc, tmp)
    proc.send_signal(signal.SIGTERM)  # to the command alone, as `timeout` does
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err == b"ftdata: terminated\n"
    assert leftovers(out, tmp) == []


def test_ctrl_c_to_the_process_group_prints_no_worker_traceback(big_input, tmp_path):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    proc = start(big_input, out, tmp)
    wait_until_spooling(proc, tmp)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends: every process of the group
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert err == b"ftdata: interrupted\n"
    assert leftovers(out, tmp) == []


def test_what_a_killed_run_leaves_is_removed_by_the_next(big_input, tmp_path):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    proc = start(big_input, out, tmp)
    wait_until_spooling(proc, tmp)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=TIMEOUT)
    left = leftovers(out, tmp)
    assert ".clean.jsonl.ftdata-part" in left and any(name.startswith("ftdata-run-") for name in left)

    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}) + "\n")
    again = subprocess.run([sys.executable, "-m", "ftdata", "check", str(small), "--jobs", "1", "--clean",
                            str(out / "clean.jsonl"), "--rejected", str(out / "rejected.jsonl")],
                           capture_output=True, timeout=TIMEOUT, env={**os.environ, "TMPDIR": str(tmp)})
    assert again.returncode == 0, again.stderr
    assert b"Traceback" not in again.stderr
    assert again.stderr.count(b"left by an interrupted run") == 3  # the run folder and both part files
    assert leftovers(out, tmp) == ["clean.jsonl", "rejected.jsonl"]


def test_workers_of_a_killed_run_end_quietly(big_input, tmp_path):
    """SIGKILL to the run alone (the OOM killer, `kill -9 PID`): its workers end with it instead of checking
    on and printing BrokenPipe tracebacks at results nobody collects."""
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    proc = start(big_input, out, tmp)
    wait_until_spooling(proc, tmp)
    proc.kill()
    proc.wait(timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True).returncode == 0:  # its group lives
        assert time.monotonic() < deadline, "the workers outlived the run"
        time.sleep(0.1)
    err = proc.stderr.read()  # the workers' stderr too: closed once the last of them is gone
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode(errors="replace")
