"""What the content-quality stages cost `ftdata check` on real Alpaca, and a code change's effect, same run.

    python benchmarks/bench_quality_speed.py [--before OLD_SRC] [--repeat 3] [--huge-mb 20] [--huge-only]

Times `ftdata.check` in fresh processes on ../shared/data/stanford_alpaca__alpaca_data.json (52,002
records) and on the same records as chat messages under one system prompt (so that the consistency stage
profiles every output: Alpaca itself has no task to group by): once with the quality, consistency and
guidance stages' rules ignored (the baseline) and once with every rule at default settings; the ratio is
what those stages add. With --before (the `src` folder
of an older checkout, e.g. from `git archive REV src rules | tar -x -C /tmp/old`), the same two runs of that
code are interleaved with these, so before and after are measured on the same machine at the same time.
Best of --repeat runs each (2-core machines are noisy); then each stage alone, timed in one process over
the same records, which is steadier.

Last, the shape detectors (truncation Q004, repetition Q005, and the code test other rules share) on one
huge answer (--huge-mb of sentences drawn from bench_tokens' small vocabulary, as bench_huge_record.py
builds it) with a few endings, each timed against parsing a record that holds that answer (orjson), in a
fresh process per code tree.
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


# The shape detectors on one huge answer with each ending, against parsing the record that holds it.
HUGE_RUN = r'''
import json, random, sys, time
import orjson
from ftdata.quality import shape
sys.path.insert(0, sys.argv[2])
import bench_tokens
rng, sentences, size = random.Random(0), [], 0
while size < float(sys.argv[1]) * 1e6:
    sentence = " ".join(rng.choices(bench_tokens.WORDS, k=rng.randint(6, 20))).capitalize() + "."
    sentences.append(sentence)
    size += len(sentence) + 1
prose = " ".join(sentences)
endings = {"ends on a full stop": prose, "cut on a bare word": prose[:-1] + " upgrade",
           "cut after a comma": prose[:-1] + ",", "lines, cut on a bare word": "\n".join(sentences)[:-1] + " upgrade",
           "JSON never closed": "{" + prose}
times = {}
for name, answer in endings.items():
    record = orjson.dumps({"messages": [{"role": "assistant", "content": answer}]})
    parse = float("inf")
    for _ in range(3):  # a parse takes milliseconds: best of 3
        start = time.perf_counter()
        orjson.loads(record)
        parse = min(parse, time.perf_counter() - start)
    start = time.perf_counter()
    shape.truncated(answer, "Write the whole support handbook.")
    cut = time.perf_counter() - start
    start = time.perf_counter()
    shape.repetitive(answer)
    loop = time.perf_counter() - start
    start = time.perf_counter()
    shape.looks_like_code(answer + " ")  # a new string: the verdict cached for the answer is not reused
    times[name] = [parse, cut, loop, time.perf_counter() - start]
print(json.dumps(times))
'''


def huge_times(src: Path, megabytes: float) -> dict[str, list[float]]:
    out = subprocess.run([sys.executable, "-c", HUGE_RUN, str(megabytes), str(Path(__file__).parent)],
                         env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"shape timing with PYTHONPATH={src} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def huge_lines(trees: dict[str, Path], megabytes: float) -> list[str]:
    lines = [f"Shape detectors on one answer of {megabytes:g} MB (one fresh process per code tree; seconds, and x the "
             "orjson parse of a record holding it):"]
    for name, src in trees.items():
        for ending, (parse, cut, loop, code) in huge_times(src, megabytes).items():
            lines.append(f"  {name:6s} {ending:26s} parse {parse:5.2f} s; truncated (Q004) {cut:7.2f} s "
                         f"(x{cut / parse:6.1f}); repetitive (Q005) {loop:7.2f} s (x{loop / parse:6.1f}); "
                         f"looks_like_code, whole answer {code:5.2f} s (x{code / parse:5.1f})")
    return lines


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
    parser.add_argument("--huge-mb", type=float, default=20, help="size of the huge answer the shape detectors read")
    parser.add_argument("--huge-only", action="store_true", help="time only the shape detectors on the huge answer")
    args = parser.parse_args()
    if not ALPACA.exists():
        print(f"{ALPACA} is missing", file=sys.stderr)
        return 2
    trees = {"after": SRC, **({"before": args.before.resolve()} if args.before else {})}
    if args.huge_only:
        return emit(huge_lines(trees, args.huge_mb), args.out)
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
    return emit(lines + huge_lines(trees, args.huge_mb), args.out)


if __name__ == "__main__":
    sys.exit(main())
