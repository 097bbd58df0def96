"""One huge record (about 20 MB, one chat whose answer is a long text): a default `ftdata check` against
parsing the same record, in the same run.

    python benchmarks/bench_huge_record.py [--mb 20]

Prints, each in its own process: orjson parsing the record; the floor (parse + cl100k over its strings
once); the default check in one process with the seconds of each stage (bench_default's timing), and the
check with the validation and tokens stages only (F,S,P,T,K); each check's ratio to the parse and its
peak RSS as a multiple of the record's size.
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

# bench_default's per-stage timing, with the rules to select, and the peak RSS before the check (the
# interpreter and imports) and after it added to its JSON
STAGED = bench_default.STAGE_TIMES.replace(
    "ReadStage.records = timed_records",
    "ReadStage.records = timed_records\nimport resource\nbase_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss").replace(
    "report = ftdata.check([sys.argv[1]], jobs=1)",
    "report = ftdata.check([sys.argv[1]], ftdata.Config(select=sys.argv[2].split(',')), jobs=1)").replace(
    'print(json.dumps({"total": total, "stages": spent}))',
    'import resource\nprint(json.dumps({"total": total, "stages": spent, '
    '"base_kb": base_kb, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))')


def make_record(path: Path, megabytes: float) -> None:
    """A chat whose answer is `megabytes` of sentences drawn from a small vocabulary, one line."""
    rng = random.Random(0)
    words, size, sentences = bench_tokens.WORDS, 0, []
    while size < megabytes * 1e6:
        sentence = " ".join(rng.choices(words, k=rng.randint(6, 20))).capitalize() + "."
        sentences.append(sentence)
        size += len(sentence) + 1
    record = {"messages": [{"role": "system", "content": bench_tokens.SYSTEM},
                           {"role": "user", "content": "Write the whole support handbook."},
                           {"role": "assistant", "content": " ".join(sentences)}]}
    path.write_text(json.dumps(record) + "\n")


def staged(path: Path, rules: str) -> dict:
    out = subprocess.run([sys.executable, "-c", STAGED, str(path), rules], capture_output=True, text=True,
                         check=True, env=bench_check.ENV)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "huge.jsonl"
        make_record(path, args.mb)
        size = path.stat().st_size
        parse = float(bench_check.run_script(PARSE, str(path))[0])
        floor = float(bench_check.run_script(bench_default.FLOOR, str(path))[0])
        print(f"one record of {size / 1e6:.1f} MB (chat, the answer one long text)")
        print(f"  orjson parse                                   {parse:7.2f} s")
        print(f"  floor (parse + cl100k over its strings once)   {floor:7.2f} s   {floor / parse:6.1f}x the parse")
        for rules, name in (("ALL", "default check (every stage)"), ("F,S,P,T,K", "validation + tokens (F,S,P,T,K)")):
            result = staged(path, rules)
            total, peak, grown = result["total"], result["peak_kb"] * 1024, (result["peak_kb"] - result["base_kb"]) * 1024
            print(f"  {name:<46} {total:7.2f} s   {total / parse:6.1f}x the parse, {total / floor:5.2f}x the floor; "
                  f"peak RSS {peak / 1e6:.0f} MB, {grown / 1e6:.0f} MB over the imports = {grown / size:.1f}x the record")
            for stage, spent in sorted(result["stages"].items(), key=lambda item: -item[1]):
                if spent >= 0.01:
                    print(f"      {stage:<30} {spent:7.2f} s  {100 * spent / total:5.1f}%")


if __name__ == "__main__":
    main()
