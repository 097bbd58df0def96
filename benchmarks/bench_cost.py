"""How long `ftdata cost` takes, by what it is asked for, against one tokenizer over the same records.

Each measurement is a fresh `python -m ftdata cost FILE ...`: what a user waits for (imports, tokenizer
loads, one pass over the records). The baseline, measured in the same run: `--model gpt-4o-mini`, one
OpenAI encoding, the least any cost run does. With --before SRC (another checkout's src folder, e.g.
`git archive COMMIT src | tar -x -C /tmp/before`), every command also runs on that code, interleaved,
so before and after meet the same machine load.

    PYTHONPATH=src python benchmarks/bench_cost.py [--records 300] [--rounds 3] [--before DIR/src] [--out FILE]

The records: the first N lines of a real chat file in ../shared/data/realworld when it is there, else N
synthetic chats (the file is written to a temporary folder, never into the repository).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
REAL = next((p / "shared" / "data" / "realworld" / "allyarc__train.jsonl" for p in HERE.parents
             if (p / "shared" / "data" / "realworld" / "allyarc__train.jsonl").is_file()), None)
BASELINE = ("one tokenizer (--model gpt-4o-mini)", ["--model", "gpt-4o-mini"])
COMMANDS = [("default: every priced option", []), ("--target openai", ["--target", "openai"]),
            ("--target together", ["--target", "together"]), ("--target mistral", ["--target", "mistral"]),
            ("--model llama-3.3-70b", ["--model", "llama-3.3-70b"])]


def records(path: Path, n: int) -> str:
    if REAL:
        with REAL.open(encoding="utf-8") as f:
            lines = [line for _, line in zip(range(n), f)]
        path.write_text("".join(lines), encoding="utf-8")
        return f"first {len(lines)} records of {REAL.name}"
    path.write_text("".join(json.dumps({"messages": [
        {"role": "system", "content": "You are a patient tutor."},
        {"role": "user", "content": f"Explain step {i} of long division with an example."},
        {"role": "assistant", "content": f"Step {i}: divide, multiply, subtract and bring down. " * 20}]}) + "\n"
        for i in range(n)), encoding="utf-8")
    return f"{n} synthetic chats"


def run(src: Path, data: Path, args: list[str]) -> tuple[float, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ftdata", "cost", str(data), *args, "--output-format", "json"],
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ftdata cost {' '.join(args)} failed ({src}): {done.stderr.strip()[-300:]}")
    options = json.loads(done.stdout)["options"]
    return seconds, sorted({o["counted_with"] for o in options})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout's src folder, measured in the same rounds")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    trees = {"now": SRC, **({"before": args.before} if args.before else {})}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as folder:
        data = Path(folder) / "train.jsonl"
        what = records(data, args.records)
        times: dict[tuple[str, str], list[float]] = {}
        loaded: dict[tuple[str, str], list[str]] = {}
        for _ in range(args.rounds):  # interleaved: every command and tree meets the same load
            for label, command in [BASELINE, *COMMANDS]:
                for tree, src in trees.items():
                    seconds, tokenizers = run(src, data, command)
                    times.setdefault((label, tree), []).append(seconds)
                    loaded[(label, tree)] = tokenizers
    median = {key: statistics.median(values) for key, values in times.items()}
    base = median[(BASELINE[0], "now")]
    lines = [f"# python benchmarks/bench_cost.py --records {args.records} --rounds {args.rounds}"
             f"{' --before ' + str(args.before) if args.before else ''}   ({time.strftime('%Y-%m-%d %H:%M')} UTC; "
             f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; 2 cores shared with other work)",
             f"records: {what}; wall seconds of a fresh `python -m ftdata cost` each, median of {args.rounds} interleaved rounds",
             f"baseline {BASELINE[0]}: {base:.2f} s", ""]
    for label, _ in [BASELINE, *COMMANDS]:
        for tree in trees:
            seconds = median[(label, tree)]
            lines.append(f"  {label:32} {tree:6} {seconds:6.2f} s  {seconds / base:5.2f}x baseline   "
                         f"counted with: {', '.join(loaded[(label, tree)])}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
