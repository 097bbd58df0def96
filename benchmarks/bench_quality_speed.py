"""What the content-quality stages cost `ftdata check` on real Alpaca, and a code change's effect, same run.

    python benchmarks/bench_quality_speed.py [--before OLD_SRC] [--repeat 3]

Times `ftdata.check` in fresh processes on ../shared/data/stanford_alpaca__alpaca_data.json (52,002
records) and on the same records as chat messages under one system prompt (so that the consistency stage
profiles every output: Alpaca itself has no task to group by): once with the quality, consistency and
guidance stages' rules ignored (the baseline) and once with every rule at default settings; the ratio is
what those stages add. With --before (the `src` folder
of an older checkout, e.g. from `git archive REV src rules | tar -x -C /tmp/old`), the same two runs of that
code are interleaved with these, so before and after are measured on the same machine at the same time.
Best of --repeat runs each (2-core machines are noisy); then each stage alone, timed in one process over
the same records, which is steadier.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_quality import DATA, emit

ALPACA = DATA / "stanford_alpaca__alpaca_data.json"
SRC = Path(__file__).resolve().parents[1] / "src"
# Contradictions (C001-C004) belong to another stage; only the three stages measured here are switched off.
OURS = "Q,C101,C102,C103,G"
RUN = r'''
import sys, time
import ftdata
from ftdata.config import config_from_table
table = {"ignore": sys.argv[2].split(",")} if sys.argv[2] else {}
start = time.perf_counter()
ftdata.check([sys.argv[1]], config_from_table(table))
print(time.perf_counter() - start)
'''


# Each stage alone over records already read and passed through the stages before it, best of 3 in-process:
# steadier than whole runs on a noisy machine.
STAGE_RUN = r'''
import json, sys, time
from ftdata.config import Policy, config_from_table
from ftdata.stages import STAGES
from ftdata.stages.base import Context, InputFile
from ftdata.stages.consistency import ConsistencyStage
from ftdata.stages.guidance import GuidanceStage
from ftdata.stages.quality import QualityStage
from ftdata.stages.read import ReadStage
from ftdata.targets import load_target
inputs = [InputFile(sys.argv[1], "train")]
config = config_from_table({"ignore": ["K", "D", "C0"]})
ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=inputs)
stream = ReadStage(ctx).whole(inputs)
for cls in STAGES[: STAGES.index(QualityStage)]:
    if cls.active(ctx):
        stream = cls(ctx).run(stream)
examples = list(stream)
times = {}
for cls in (QualityStage, ConsistencyStage, GuidanceStage):
    best = float("inf")
    for _ in range(3):
        for example in examples:
            example.findings.clear()
        stage = cls(ctx)
        start = time.perf_counter()
        for _ in stage.run(examples):
            pass
        list(stage.finish())
        best = min(best, time.perf_counter() - start)
    times[cls.name] = best
print(json.dumps(times))
'''


def stage_times(src: Path, data: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", STAGE_RUN, str(data)], env={**os.environ, "PYTHONPATH": str(src)},
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"stage timing with PYTHONPATH={src} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def alpaca_as_chat(path: Path) -> None:
    with path.open("w") as f:
        for r in json.loads(ALPACA.read_text()):
            user = f"{r['instruction']}\n\n{r['input']}" if r["input"] else r["instruction"]
            f.write(json.dumps({"messages": [{"role": "system", "content": "You are a helpful assistant."},
                                             {"role": "user", "content": user},
                                             {"role": "assistant", "content": r["output"]}]}) + "\n")


def timed(src: Path, data: Path, ignore: str) -> float:
    out = subprocess.run([sys.executable, "-c", RUN, str(data), ignore], env={**os.environ, "PYTHONPATH": str(src)},
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"check with PYTHONPATH={src} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="the src folder of the code to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", help="also write the results to this file")
    args = parser.parse_args()
    if not ALPACA.exists():
        print(f"{ALPACA} is missing", file=sys.stderr)
        return 2
    trees = {"after": SRC, **({"before": args.before.resolve()} if args.before else {})}
    lines = [f"ftdata check, best of {args.repeat} runs each, before and after interleaved in one run:"]
    with tempfile.TemporaryDirectory() as tmp:
        chat = Path(tmp) / "alpaca_chat.jsonl"
        alpaca_as_chat(chat)
        for data, title in ((ALPACA, "Alpaca (52,002 records, no system prompt)"),
                            (chat, "Alpaca as chat under one system prompt (52,002 records)")):
            best: dict[tuple[str, str], float] = {}
            for _ in range(args.repeat):
                for name, src in trees.items():
                    for label, ignore in (("baseline", OURS), ("all rules", "")):
                        seconds = timed(src, data, ignore)
                        best[(name, label)] = min(seconds, best.get((name, label), float("inf")))
            lines.append(title)
            for name in trees:
                base, full = best[(name, "baseline")], best[(name, "all rules")]
                lines.append(f"  {name:6s}: without quality/consistency/guidance {base:6.2f} s; with them {full:6.2f} s "
                             f"(x{full / base:.2f}; they add {full - base:5.2f} s)")
            if args.before:
                added = {n: best[(n, "all rules")] - best[(n, "baseline")] for n in trees}
                lines.append(f"  the stages' added time, after / before: {added['after'] / added['before']:.2f}")
            each = {name: stage_times(src, data) for name, src in trees.items()}
            lines.append("  each stage alone over the same records (best of 3 in one process): " + "; ".join(
                f"{name} " + ", ".join(f"{stage} {t:.2f} s" for stage, t in times.items()) + f" (total {sum(times.values()):.2f} s)"
                for name, times in each.items()))
            if args.before:
                lines.append(f"  stages alone, after / before: {sum(each['after'].values()) / sum(each['before'].values()):.2f}")
    return emit(lines, args.out)


if __name__ == "__main__":
    sys.exit(main())
