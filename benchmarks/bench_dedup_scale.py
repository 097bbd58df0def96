"""Memory of the duplicates stage's state at scale: bytes per record it keeps, and the process's peak RSS.

    PYTHONPATH=src python benchmarks/bench_dedup_scale.py [--records 100000 1000000]

Records are made on the fly (none held by the benchmark): single-turn chats of ~10-word questions and
~60-word answers from a Zipf vocabulary, every 10th an edited copy of an earlier one (benchmarks/planted.py's
edits), each record fed to DuplicatesStage.check as `ftdata check` feeds it, then finish(). Prints the stage's
own accounting (stats()["bytes_per_record"]: the arrays it keeps, the near-duplicate index's included),
the rise of peak RSS over the process before the first record, and the seconds, per size, each size in its
own process. Issue 13: a whole default check of 1M records under 1 GB, 10M under 4 GB.

`--huge MB`: one chat whose answer is MB megabytes of words, through the stage's comparison (`compared`),
the finder and resolve: seconds against orjson parsing the record in the same process, and tracemalloc's
peak as a multiple of the record (issue 12).
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from planted import _render, _vocabulary  # noqa: E402

COPY_EVERY = 10  # every 10th record copies (with edits) the record 5 before it


def records(n: int):
    from itertools import accumulate

    from ftdata.records import Example, Message

    words, weights = _vocabulary(random.Random(0))
    cumulative = list(accumulate(weights))  # random.choices sums the weights again on every call otherwise

    def sentence(rng: random.Random) -> list[str]:
        return rng.choices(words, cum_weights=cumulative, k=rng.randint(6, 18))

    def chat(k: int) -> tuple[list, list]:
        rng = random.Random(k)
        return [sentence(rng)], [sentence(rng) for _ in range(5)]

    def edited(sentences: list[list[str]], rng: random.Random) -> list[list[str]]:
        """1-3 words substituted, inserted or deleted (planted.py's edits, with the weights summed once)."""
        copy = [list(s) for s in sentences]
        for _ in range(rng.randint(1, 3)):
            s = rng.choice(copy)
            at, op = rng.randrange(len(s)), rng.choice(("sub", "ins", "del"))
            if op == "del" and len(s) > 1:
                del s[at]
            elif op != "del":
                s[at:at + (op == "sub")] = rng.choices(words, cum_weights=cumulative)
        return copy

    for k in range(n):
        if k % COPY_EVERY == COPY_EVERY - 1:
            rng = random.Random(-k)
            question, answer = (edited(part, rng) for part in chat(k - 5))
        else:
            question, answer = chat(k)
        yield Example(k, "scale.jsonl", k + 1, b"", messages=[
            Message("user", _render(question), "messages[0]", "messages[0].content"),
            Message("assistant", _render(answer), "messages[1]", "messages[1].content")])


def measure(n: int) -> dict:
    from ftdata.config import Policy, config_from_table
    from ftdata.stages.base import Context
    from ftdata.stages.duplicates import DuplicatesStage
    from ftdata.targets import load_target

    config = config_from_table({})
    stage = DuplicatesStage(Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=[]))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    for example in records(n):
        stage.check(example)
    checked = time.perf_counter() - start
    findings = sum(1 for _ in stage.finish())
    stats = stage.stats()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"records": n, "check_s": checked, "total_s": time.perf_counter() - start, "findings": findings,
            "bytes_per_record": stats["bytes_per_record"], "peak_rise_mb": (peak - base) / 1024, "base_mb": base / 1024}


def huge(mb: float) -> str:
    import tracemalloc

    import orjson

    from ftdata.dedup.dataset import DuplicateFinder
    from ftdata.records import Example, Message
    from ftdata.stages.duplicates import compared

    rng = random.Random(1)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(20000)]
    answer = " ".join(rng.choices(vocabulary, k=int(mb * 1e6 / 6.5)))
    raw = orjson.dumps({"messages": [{"role": "user", "content": "Write a long story."},
                                     {"role": "assistant", "content": answer}]})
    start = time.perf_counter()
    orjson.loads(raw)
    parse = time.perf_counter() - start
    example = Example(0, "huge.jsonl", 1, raw, messages=[Message("user", "Write a long story.", "messages[0]", "messages[0].content"),
                                                         Message("assistant", answer, "messages[1]", "messages[1].content")])
    tracemalloc.start()
    start = time.perf_counter()
    c = compared(example)
    finder = DuplicateFinder()
    finder.add(c.text, c.prompt, "train", 0.0, c.group, c.turns, c.named_in)
    finder.resolve()
    spent = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (f"one {len(raw) / 1e6:.1f} MB record: duplicates stage {spent:.2f} s ({spent / parse:.1f}x orjson parsing it, "
            f"{parse:.2f} s), traced peak {peak / 1e6:.0f} MB ({peak / len(raw):.1f}x the record), kept {finder.nbytes() / 1e3:.0f} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single size, in this process
    parser.add_argument("--huge", type=float, nargs="*", default=[], help="megabytes of one record")
    args = parser.parse_args()
    for mb in args.huge:
        print(huge(mb))
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    for n in args.records:
        run = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True)
        if run.returncode:
            print(f"{n:>10,} records: failed: {run.stderr.strip()[-300:]}")
            continue
        r = json.loads(run.stdout)
        print(f"{n:>10,} records: state {r['bytes_per_record']} B/record kept ({r['bytes_per_record'] * n / 2**20:,.0f} MiB), "
              f"peak RSS +{r['peak_rise_mb']:,.0f} MB over {r['base_mb']:,.0f} MB before the first record "
              f"({r['peak_rise_mb'] * 2**20 / n:,.0f} B/record); check {r['check_s']:.0f} s, with finish {r['total_s']:.0f} s; "
              f"{r['findings']:,} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
