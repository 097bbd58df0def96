"""Validation speed and memory of `ftdata check` against a bare parse of the same file, same run.

    python benchmarks/bench_check.py [--records 200000] [--rounds 3]

On two files, short records (one exchange, ~0.9 KB: the per-record cost counts most) and long ones (three
exchanges, ~6 KB, closer to real chat data), prints seconds and MB/s for: a bare orjson parse per line, a
bare json.loads per line, a floor (orjson
parse, the duplicate-key test and the compiled schema check, with no canonical record, no rules, no
reporting: what any validator in Python pays before its own checks), and
`ftdata.check` with the validation stages only (read, parse, schema, profile, tools), once in one
process (--jobs 1) and once with a worker per core (the default); then the ratios, and peak RSS of
check on N and 2N records (flat memory means the two are close), also for a file with an error on
every record, its rejected file and JSON report written. Each measurement runs in its own
process so that peak memory is its own; check's time starts after `import ftdata`, whose time is
printed apart (a fixed cost per run, not per record).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

SYSTEM = "You are a helpful assistant for Acme Cloud customers. Answer briefly and accurately."
WORDS = "the a cloud billing invoice region project key password team export storage limit plan".split()


# Record shapes: (exchanges, words per question, words per answer). Short records (one exchange, about 0.9 KB)
# make the per-record cost count most; long ones (three exchanges, about 6 KB) are closer to real chat data.
SHAPES = {"short": (1, (8, 40), (30, 150)), "long": (3, (20, 120), (100, 400))}


def make_file(path: Path, records: int, seed: int = 0, system: str = SYSTEM, words: list[str] = WORDS,
              flawed: bool = False, shape: str = "short") -> None:
    """A synthetic chat file: one shared system prompt, random user and assistant texts from `words`;
    `flawed`: every answer has weight 2, an error (P008) on every record."""
    exchanges, question, answer = SHAPES[shape]
    rng = random.Random(seed)
    with path.open("w") as f:
        for i in range(records):
            messages = [{"role": "system", "content": system}]
            for _ in range(exchanges):
                messages.append({"role": "user", "content": " ".join(rng.choices(words, k=rng.randint(*question))) + f" #{i}?"})
                messages.append({"role": "assistant", "content": " ".join(rng.choices(words, k=rng.randint(*answer))) + "."})
                if flawed:
                    messages[-1]["weight"] = 2
            f.write(json.dumps({"messages": messages}) + "\n")


MEASURE = r'''
import resource, sys, time
path, kind = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if kind == "orjson":
    import orjson
    with open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
elif kind == "json":
    import json
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
elif kind == "floor":  # the least a validator does per record: parse, duplicate-key test, compiled schema
    import orjson
    from ftdata.schemas import is_valid
    from ftdata.stages.parse import _may_have_duplicate_keys
    is_valid("openai-chat", {})
    start = time.perf_counter()  # after the imports and the schema's compilation, as for check
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            data = orjson.loads(line)
            _may_have_duplicate_keys(line, data)
            is_valid("openai-chat", data)
else:
    import ftdata
    imported = time.perf_counter()
    print("import", imported - start, file=sys.stderr)
    start = imported
    config = ftdata.Config(select=["F", "S", "P", "T"])
    if kind == "ftdata-outputs":  # one process, the rejected file and the JSON report written
        import os, tempfile
        from ftdata.output import json_chunks
        with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as devnull:
            report = ftdata.check([path], config, jobs=1, rejected=os.path.join(folder, "rejected.jsonl"))
            for chunk in json_chunks(report):
                devnull.write(chunk)
    else:
        report = ftdata.check([path], config, jobs=int(kind.removeprefix("ftdata-j")))
    assert report.records > 0
elapsed = time.perf_counter() - start
# children: the workers' peak (each its own process); self: this process's
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(elapsed, peak / 1024)
'''


# the ftdata of this checkout, not whichever one is installed
SRC = Path(__file__).resolve().parents[1] / "src"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
IMPORT_SECONDS: list[float] = []  # what `import ftdata` took in each measured process


def run_script(script: str, *args: str) -> list[str]:
    """The words a measuring script prints, run in its own process against this checkout; a line
    `import SECONDS` on its stderr is kept in IMPORT_SECONDS."""
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, env=ENV)
    if out.stderr.startswith("import"):
        IMPORT_SECONDS.append(float(out.stderr.split()[1]))
    return out.stdout.split()


def measure(path: Path, kind: str) -> tuple[float, float]:
    seconds, peak_mb = map(float, run_script(MEASURE, str(path), kind))
    return seconds, peak_mb


def compare(path: Path, what: str, rounds: int) -> dict[str, tuple[float, float]]:
    """Each kind's best time and peak RSS on `path`, printed with the ratios to the bare parses."""
    size_mb = path.stat().st_size / 1e6
    cores = len(os.sched_getaffinity(0))
    kinds = {"orjson": "orjson", "json": "json", "floor": "floor (1 process)", "ftdata-j1": "ftdata, 1 process",
             "ftdata-j0": f"ftdata, {cores} workers"}
    runs = [{kind: measure(path, kind) for kind in kinds} for _ in range(rounds)]  # interleaved
    results = {kind: min((r[kind] for r in runs), key=lambda t: t[0]) for kind in kinds}
    print(f"synthetic chat file: {what}, {size_mb:.1f} MB; best of {rounds} interleaved rounds")
    for kind, (seconds, peak) in results.items():
        print(f"  {kinds[kind]:<20} {seconds:7.2f} s  {size_mb / seconds:6.1f} MB/s  peak RSS {peak:6.0f} MB")
    for kind in ("floor", "ftdata-j1", "ftdata-j0"):
        for bare in ("orjson", "json"):
            name = kinds[kind] + ("" if kind == "floor" else " check (validation)")
            print(f"  ratio {name} / bare {bare} parse: {results[kind][0] / results[bare][0]:.2f}x")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="each kind runs this often; its best time counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder) / "n.jsonl", Path(folder) / "2n.jsonl"
        flawed_small, flawed_large = Path(folder) / "flawed-n.jsonl", Path(folder) / "flawed-2n.jsonl"
        long = Path(folder) / "long.jsonl"
        make_file(small, args.records)
        make_file(long, args.records // 4, shape="long")
        make_file(large, 2 * args.records, seed=1)
        make_file(flawed_small, args.records, flawed=True)
        make_file(flawed_large, 2 * args.records, seed=1, flawed=True)
        results = compare(small, f"{args.records:,} short records (system, user, assistant)", args.rounds)
        compare(long, f"{args.records // 4:,} long records (system and three exchanges)", args.rounds)
        print(f"(import ftdata, once per run: {min(IMPORT_SECONDS):.2f} s, not included above)")
        _, peak_2n = measure(large, "ftdata-j1")
        print(f"peak RSS of check (1 process): {results['ftdata-j1'][1]:.0f} MB on N records, {peak_2n:.0f} MB on 2N "
              f"records (ratio {peak_2n / results['ftdata-j1'][1]:.2f})")
        flawed = [measure(path, "ftdata-outputs") for path in (flawed_small, flawed_large)]
        print(f"peak RSS of check (1 process) with an error on every record, rejected file and JSON report written: "
              f"{flawed[0][1]:.0f} MB on N records ({flawed[0][0]:.1f} s), {flawed[1][1]:.0f} MB on 2N "
              f"({flawed[1][0]:.1f} s) (ratio {flawed[1][1] / flawed[0][1]:.2f})")


if __name__ == "__main__":
    main()
