"""Review at scale: building the queue of a 1M-record file, and the page's next-record response time.

The data is generated here: short chats of random words (about 200 bytes), one in 50 with an empty answer and one
in 200 with no user turn, so that findings and a real queue exist. Queue building runs in a child
process (its peak memory is the child's max RSS); `ftdata check` on the same file, in the same run, is
the baseline its time is compared with (the queue runs that check, then scores and stores every record).
Page response: the real server (`ftdata review serve`) in a child process; wall time of GET api/next
walking the queue, and of POST decide (accept) then GET next, as the page does on a keystroke.
Goal from the issue: next-record under 50 ms locally.

The check runs the format rules (F, S, P, T) by default, in both runs: with every rule (near-duplicates,
quality, tokens) the check itself dominates and a 1M-record run takes most of an hour on a shared 2-core
machine (`--select ''` measures that).

Run: python benchmarks/bench_review.py [--n 1000000] [--requests 300] [--select F,S,P,T] [--out FILE]
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TIMED = """
import resource, sys, time
from ftdata.config import Config
config = Config(select=sys.argv[4].split(",")) if sys.argv[4] else Config()
started = time.perf_counter()
if sys.argv[1] == "queue":
    from ftdata.review.queue import build_queue
    summary = build_queue(sys.argv[2], sys.argv[3], fraction=0.2, audit=0.05, seed=1, config=config)
else:
    import ftdata
    ftdata.check([sys.argv[2]], config)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def generate(path: Path, n: int) -> None:
    rng = random.Random(5)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(20000)]
    with open(path, "w") as f:
        for i in range(n):  # random words: as few near-duplicates as real data, not a million copies of a template
            user = {"role": "user", "content": " ".join(rng.choices(vocabulary, k=rng.randint(5, 12))) + "?"}
            answer = "" if i % 50 == 7 else " ".join(rng.choices(vocabulary, k=rng.randint(8, 30))).capitalize() + "."
            messages = [user, {"role": "assistant", "content": answer}] if i % 200 != 3 else \
                [{"role": "assistant", "content": answer}]
            f.write(json.dumps({"messages": messages}) + "\n")


def timed(kind: str, source: Path, db: Path, select: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", TIMED, kind, str(source), str(db), select], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024  # seconds, MiB (ru_maxrss is KiB on Linux)


def call(url: str, body: dict | None = None) -> tuple[float, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    return (time.perf_counter() - started) * 1000, payload


def page_times(db: Path, requests: int) -> dict[str, list[float]]:
    server = subprocess.Popen([sys.executable, "-m", "ftdata", "review", "serve", "--db", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        base = re.search(r"http://\S+/", server.stdout.readline()).group(0)
        for _ in range(600):
            try:
                call(base + "api/state")
                break
            except OSError:
                time.sleep(0.1)
        times: dict[str, list[float]] = {"static": [], "next": [], "decide+next": []}
        rank = ""
        for _ in range(requests):
            times["static"].append(_get_ms(base + "static/app.css"))
            ms, record = call(base + f"api/next?rank={rank}")
            times["next"].append(ms)
            rank = record["rank"]
        rank = ""
        for _ in range(requests // 2):
            _, record = call(base + f"api/next?rank={rank}&status=pending")
            ms1, _ = call(base + f"api/record/{record['key']}/decide", {"status": "accepted", "version": record["version"]})
            ms2, _ = call(base + f"api/next?rank={record['rank']}&status=pending")
            times["decide+next"].append(ms1 + ms2)
            rank = record["rank"]
        return times
    finally:
        server.terminate()
        server.wait()


def _get_ms(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):6.1f} ms  p95 {p95:6.1f} ms  max {ordered[-1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--select", default="F,S,P,T",
                        help="rules the check runs (both runs): format rules by default; '' for every rule")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        source, db = Path(tmp) / "train.jsonl", Path(tmp) / "review.sqlite"
        generate(source, args.n)
        size = source.stat().st_size
        check_s, check_mb = timed("check", source, db, args.select)
        queue_s, queue_mb = timed("queue", source, db, args.select)
        db_mb = sum(p.stat().st_size for p in Path(tmp).glob("review.sqlite*")) / 2**20
        requeue_s, requeue_mb = timed("queue", source, db, args.select)  # the same store again: decisions kept
        times = page_times(db, args.requests)
    lines = [
        f"Review benchmark: {args.n:,} generated chat records ({size / 2**20:.0f} MiB), {os.cpu_count()} cores (shared).",
        f"rules: {args.select or 'all (default settings)'}",
        "",
        f"ftdata check (baseline)    {check_s:7.1f} s  peak RSS {check_mb:6.0f} MiB",
        f"review queue (new store)   {queue_s:7.1f} s  peak RSS {queue_mb:6.0f} MiB  = {queue_s / check_s:.2f}x check; "
        f"store {db_mb:.0f} MiB",
        f"review queue (re-run)      {requeue_s:7.1f} s  peak RSS {requeue_mb:6.0f} MiB  = {requeue_s / check_s:.2f}x check",
        "",
        f"page over that store, {args.requests} requests each, sequential, wall time at the client:",
        f"  GET static file (baseline)   {describe(times['static'])}",
        f"  GET api/next                 {describe(times['next'])}  "
        f"= {statistics.median(times['next']) / statistics.median(times['static']):.1f}x static",
        f"  POST decide + GET next       {describe(times['decide+next'])}",
        f"goal: next record under 50 ms: {'met' if statistics.median(times['next']) < 50 else 'NOT met'} (median)",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
