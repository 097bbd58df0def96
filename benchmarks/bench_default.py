"""A default `ftdata check` (every stage): against an earlier commit, or stage by stage against the floor.

    python benchmarks/bench_default.py --against REV [--rounds 3]
    python benchmarks/bench_default.py --stages [--rounds 2] [--records 50000]

--against times the whole command (interpreter start, imports, check, report) on the shipped sample,
where start-up dominates as in a pre-commit hook, and on Alpaca from ../shared/data when present, in one
process and with a worker per core. The two checkouts alternate; the best of the rounds counts, and
the ratio this/earlier is printed.

--stages measures, on Alpaca as OpenAI chat, a long multi-turn file built from Alpaca (eight exchanges
per record) and a synthetic chat file of word soup from a small vocabulary: the floor (orjson parse of
every line and the cl100k count of each distinct string once, one process), the default command with
`--jobs 1` and with a worker per core, and, in one process, the seconds each stage spends in `check`
(the reader in yielding records), in `check_batch` (which runs `check` for stages without one), in `finish`, and what is left (routing, the report). Ratios are to the
floor measured in the same run; the best of the rounds counts.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_check  # benchmarks/ is on sys.path when a script there runs

REPO = Path(__file__).resolve().parents[1]
ALPACA = REPO.parent / "shared" / "data" / "stanford_alpaca__alpaca_data.json"
EXCHANGES_PER_LONG_RECORD = 8


def seconds(src: Path, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ftdata", "check", "--no-progress", *args], capture_output=True,
                   env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, check=False)
    return time.perf_counter() - start


def against(rev: str, rounds: int) -> None:
    cases = {"sample (26 records)": [str(REPO / "sample_data" / "chat_with_defects.jsonl")]}
    if ALPACA.exists():
        cases["alpaca (52k records), 1 process"] = [str(ALPACA), "-j", "1"]
        cases["alpaca (52k records), a worker per core"] = [str(ALPACA)]
    with tempfile.TemporaryDirectory() as folder:
        earlier = Path(folder) / "earlier"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(earlier), rev], check=True)
        try:
            print(f"default check, best of {rounds} alternating rounds: {rev} vs this checkout")
            for name, case in cases.items():
                times: dict[str, list[float]] = {"earlier": [], "this": []}
                for _ in range(rounds):
                    times["earlier"].append(seconds(earlier / "src", case))
                    times["this"].append(seconds(REPO / "src", case))
                before, after = min(times["earlier"]), min(times["this"])
                print(f"  {name:<42} {before:6.2f} s -> {after:6.2f} s   ratio {after / before:.2f}")
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(earlier)], check=True)


FLOOR = r'''
import sys, time
import orjson
from bpe_openai import _bindings
count = _bindings.tokenizer_for_encoding("cl100k_base").count
start = time.perf_counter()
strings = set()
with open(sys.argv[1], "rb") as f:
    for line in f:
        for m in orjson.loads(line)["messages"]:
            strings.add(m["role"]); strings.add(m["content"])
total = sum(count(s) for s in strings)
print(time.perf_counter() - start, total)
'''

# The default check in this process, each stage's `check` and `finish` (and the reader's yielding of
# records) timed; prints JSON: {"total": s, "stages": {name: s}}. The time starts after `import ftdata`.
STAGE_TIMES = r'''
import json, sys, time
from collections import Counter
import ftdata
from ftdata.stages import STAGES
from ftdata.stages.read import ReadStage
spent = Counter()

def timed(name, method):
    def wrapper(self, *args):
        start = time.perf_counter()
        result = list(method(self, *args))  # a generator does its work when consumed
        spent[name] += time.perf_counter() - start
        return result
    return wrapper

for cls in STAGES:  # check_batch: a stage's own, or the base's, which asks check record by record
    cls.check_batch = timed(cls.name, cls.check_batch)
    cls.finish = timed(cls.name + " (finish)", cls.finish)
records = ReadStage.records

def timed_records(self, shard):
    it = records(self, shard)
    while True:
        start = time.perf_counter()
        example = next(it, None)
        spent["read"] += time.perf_counter() - start
        if example is None:
            return
        yield example

ReadStage.records = timed_records
start = time.perf_counter()
report = ftdata.check([sys.argv[1]], jobs=1)
total = time.perf_counter() - start
print(json.dumps({"total": total, "stages": spent}))
'''


def long_multiturn(alpaca_chat: Path, path: Path) -> None:
    """Alpaca's exchanges, eight consecutive ones to a record: real text in long conversations."""
    with alpaca_chat.open() as f, path.open("w") as out:
        exchanges = [json.loads(line)["messages"] for line in f]
        for start in range(0, len(exchanges), EXCHANGES_PER_LONG_RECORD):
            messages = [m for exchange in exchanges[start:start + EXCHANGES_PER_LONG_RECORD] for m in exchange]
            out.write(json.dumps({"messages": messages}) + "\n")


def stage_table(path: Path, name: str, rounds: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    floor, j1, j0, staged = [], [], [], []
    for _ in range(rounds):  # interleaved, so that a noisy minute hits every measurement
        floor.append(float(bench_check.run_script(FLOOR, str(path))[0]))
        j1.append(seconds(REPO / "src", [str(path), "-j", "1"]))
        j0.append(seconds(REPO / "src", [str(path)]))
        out = subprocess.run([sys.executable, "-c", STAGE_TIMES, str(path)], capture_output=True, text=True,
                             check=True, env=env)
        staged.append(json.loads(out.stdout))
    best_floor, best = min(floor), min(staged, key=lambda s: s["total"])
    size_mb = path.stat().st_size / 1e6
    records = sum(1 for _ in path.open("rb"))
    print(f"{name}: {records:,} records, {size_mb:.1f} MB; best of {rounds} interleaved rounds")
    print(f"  floor (orjson parse + cl100k over each distinct string once, 1 process) {best_floor:7.2f} s")
    cores = len(os.sched_getaffinity(0))
    for how, times in (("ftdata check, --jobs 1 (whole command)", j1),
                       (f"ftdata check, {cores} workers (whole command)", j0)):
        print(f"  {how:<72} {min(times):7.2f} s  {min(times) / best_floor:5.2f}x the floor")
    total = best["total"]
    print(f"  in one process, after import ({total:.2f} s), per stage:")
    for stage, spent in sorted(best["stages"].items(), key=lambda item: -item[1]):
        if spent >= 0.005:
            print(f"    {stage:<30} {spent:7.2f} s  {100 * spent / total:5.1f}%  {spent / best_floor:5.2f}x the floor")
    rest = total - sum(best["stages"].values())
    print(f"    {'the rest (routing, report)':<30} {rest:7.2f} s  {100 * rest / total:5.1f}%")


def stages(rounds: int, records: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = []
        if ALPACA.exists():
            chat = Path(folder) / "alpaca_chat.jsonl"
            subprocess.run([sys.executable, "-m", "ftdata", "convert", str(ALPACA), str(chat), "--to", "openai-chat"],
                           check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
            long = Path(folder) / "alpaca_multiturn.jsonl"
            long_multiturn(chat, long)
            files += [(chat, "alpaca as OpenAI chat"),
                      (long, f"alpaca multi-turn ({EXCHANGES_PER_LONG_RECORD} exchanges a record)")]
        else:
            print(f"(no {ALPACA}: the real-data tables are skipped)")
        soup = Path(folder) / "soup.jsonl"
        bench_check.make_file(soup, records, shape="long")
        files.append((soup, f"synthetic word soup ({len(bench_check.WORDS)}-word vocabulary, 3 exchanges a record)"))
        print(f"default ftdata check per stage, {time.strftime('%Y-%m-%d')}")
        for path, name in files:
            stage_table(path, name, rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", help="the earlier commit to compare with")
    parser.add_argument("--stages", action="store_true", help="time each stage against the floor")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--records", type=int, default=50_000, help="records of the synthetic file (--stages)")
    args = parser.parse_args()
    if args.stages:
        stages(args.rounds, args.records)
    elif args.against:
        against(args.against, args.rounds)
    else:
        parser.error("give --against REV or --stages")


if __name__ == "__main__":
    main()
