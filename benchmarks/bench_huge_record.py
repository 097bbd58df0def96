"""One huge record (a chat whose answer is one long text): what each stage of a default `ftdata check`
costs in time and in memory, against parsing the same record, in the same run; and the reader alone,
the record as a JSON Lines line and as a .json array's element.

    python benchmarks/bench_huge_record.py [--mb 20 60]

For each size, each in its own process: orjson parsing the record; the floor (parse + cl100k over its
strings once); the default check in one process, and the check with the validation and tokens stages
only (F,S,P,T,K). Per stage: the seconds of its `check` and `finish` (and the reader's yielding), and how
far it raised the process's peak RSS (the high-water mark before and after each call: a stage that
raises it by N MB needed N MB more than everything before it had). Peak RSS is also shown as a multiple
of the record's size, over the interpreter and imports.
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_check  # benchmarks/ is on sys.path when a script there runs
import bench_default
import bench_tokens

PARSE = r'''
import sys, time
import orjson
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    orjson.loads(f.read())
print(time.perf_counter() - start)
'''

# The check in this process with each stage's calls timed and their rise of the peak RSS (ru_maxrss, KiB
# on Linux) summed per stage; prints JSON {"total", "stages": {name: s}, "raised_kb": {name: KiB},
# "base_kb", "peak_kb"}. Time and base start after `import ftdata`.
STAGED = r'''
import json, resource, sys, time
from collections import Counter
import ftdata
from ftdata.stages import STAGES
from ftdata.stages.read import ReadStage
spent, raised = Counter(), Counter()

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def measured(name, method, consume=True):
    def wrapper(self, *args):
        start, high = time.perf_counter(), peak()
        result = method(self, *args)
        if consume:  # a generator does its work when consumed
            result = list(result)
        spent[name] += time.perf_counter() - start
        raised[name] += peak() - high
        return result
    return wrapper

for cls in STAGES:
    if hasattr(cls, "check_all"):  # records go through the stages in batches: each stage's whole batch
        cls.check_all = measured(cls.name, cls.check_all, consume=False)
    else:
        cls.check = measured(cls.name, cls.check)
    cls.finish = measured(cls.name + " (finish)", cls.finish)
records = ReadStage.records

def measured_records(self, shard):
    it = records(self, shard)
    while True:
        start, high = time.perf_counter(), peak()
        example = next(it, None)
        spent["read"] += time.perf_counter() - start
        raised["read"] += peak() - high
        if example is None:
            return
        yield example

ReadStage.records = measured_records
base_kb = peak()
start = time.perf_counter()
report = ftdata.check([sys.argv[1]], ftdata.Config(select=sys.argv[2].split(",")), jobs=1)
total = time.perf_counter() - start
print(json.dumps({"total": total, "stages": spent, "raised_kb": raised, "base_kb": base_kb, "peak_kb": peak()}))
'''


# The reader alone over the record, as a JSON Lines line and as the one element of a .json array (its
# delimiting scans the strings, where a line needs only its newline); prints seconds and the peak's rise.
READ_ONLY = r'''
import resource, sys, time
import ftdata
from ftdata.config import Config, Policy
from ftdata.stages.base import Context, InputFile
from ftdata.stages.read import ReadStage
from ftdata.targets import load_target
config = Config()
ctx = Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[])
high = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
for example in ReadStage(ctx).whole([InputFile(sys.argv[1])]):
    pass
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - high)
'''


def make_record(path: Path, megabytes: float) -> None:
    """A chat whose answer is `megabytes` of sentences drawn from a small vocabulary, one line; written a
    sentence at a time, so that this process stays small (a child process starts with its parent's peak RSS)."""
    rng = random.Random(0)
    head = json.dumps({"messages": [{"role": "system", "content": bench_tokens.SYSTEM},
                                    {"role": "user", "content": "Write the whole support handbook."},
                                    {"role": "assistant", "content": "ANSWER"}]})
    before, after = head.split("ANSWER")
    size = 0
    with path.open("w") as out:
        out.write(before)
        while size < megabytes * 1e6:
            sentence = " ".join(rng.choices(bench_tokens.WORDS, k=rng.randint(6, 20))).capitalize() + "."
            out.write(("" if size == 0 else " ") + json.dumps(sentence)[1:-1])
            size += len(sentence) + 1
        out.write(after + "\n")


def staged(path: Path, rules: str) -> dict:
    out = subprocess.run([sys.executable, "-c", STAGED, str(path), rules], capture_output=True, text=True,
                         check=True, env=bench_check.ENV)
    return json.loads(out.stdout)


def measure(megabytes: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "huge.jsonl"
        make_record(path, megabytes)
        size = path.stat().st_size
        parse = float(bench_check.run_script(PARSE, str(path))[0])
        floor = float(bench_check.run_script(bench_default.FLOOR, str(path))[0])
        print(f"one record of {size / 1e6:.1f} MB (chat, the answer one long text)")
        print(f"  orjson parse                                   {parse:7.2f} s")
        print(f"  floor (parse + cl100k over its strings once)   {floor:7.2f} s   {floor / parse:6.1f}x the parse")
        array = Path(folder) / "huge.json"
        with path.open("rb") as line, array.open("wb") as out:  # a chunk at a time: this process stays small
            out.write(b"[")
            left = size - 1  # the line without its newline
            while left:
                left -= out.write(line.read(min(left, 1 << 20)))
            out.write(b"]\n")
        for name, source in (("read only, a JSON Lines line", path), ("read only, the element of a .json array", array)):
            seconds, raised_kb = bench_check.run_script(READ_ONLY, str(source))
            print(f"  {name:<46} {float(seconds):7.2f} s   peak RSS raised by {int(raised_kb) * 1024 / 1e6:.0f} MB "
                  f"= {int(raised_kb) * 1024 / size:.1f}x the record")
        array.unlink()
        for rules, name in (("ALL", "default check (every stage)"), ("F,S,P,T,K", "validation + tokens (F,S,P,T,K)")):
            result = staged(path, rules)
            total, peak, grown = result["total"], result["peak_kb"] * 1024, (result["peak_kb"] - result["base_kb"]) * 1024
            print(f"  {name:<46} {total:7.2f} s   {total / parse:6.1f}x the parse, {total / floor:5.2f}x the floor; "
                  f"peak RSS {peak / 1e6:.0f} MB, {grown / 1e6:.0f} MB over the imports = {grown / size:.1f}x the record")
            print(f"      {'stage':<30} {'seconds':>7}  {'share':>5}   peak RSS raised by")
            raised = result["raised_kb"]
            for stage in sorted(set(result["stages"]) | set(raised), key=lambda s: -result["stages"].get(s, 0)):
                spent, up = result["stages"].get(stage, 0), raised.get(stage, 0) * 1024
                if spent >= 0.01 or up >= 1e6:
                    print(f"      {stage:<30} {spent:7.2f}  {100 * spent / total:4.1f}%   {up / 1e6:6.0f} MB"
                          f" = {up / size:4.1f}x the record")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, nargs="+", default=[20])
    args = parser.parse_args()
    for megabytes in args.mb:
        measure(megabytes)


if __name__ == "__main__":
    main()
