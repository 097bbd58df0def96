"""Time, records/s and peak RSS of `ftdata check` as the dataset grows: is memory flat, is time linear?

    python benchmarks/bench_growth.py [--sizes 100000,1000000] [--select ALL] [--jobs 1,0] [--out FILE]

Generates synthetic chat files (bench_check's short records, about 0.9 KB each, one shared system prompt)
of each size and checks each in its own process, once per --jobs value (0: the default, a worker per
core), printing seconds after `import ftdata`, records/s, the peak RSS of the finishing process and of
the largest worker (with workers, the run holds the first plus one of the second per worker), and the
load average before and after (the machine is shared: a loaded run is slower, not a finding); then the
growth exponent of time between consecutive sizes (1.0 is linear) and the ratio of peak RSS.
`--select ALL` is a default check (every stage); --out appends the table to a results file.
"""

import argparse
import datetime
import math
import os
import tempfile
from pathlib import Path

import bench_check  # benchmarks/ is on sys.path when a script there runs

CHECK = r'''
import resource, sys, time
import ftdata
path, rules, jobs = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
start = time.perf_counter()
report = ftdata.check([path], ftdata.Config(select=rules), jobs=jobs)
seconds = time.perf_counter() - start
workers = report.stats["run"]["workers"]
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if workers > 1 else 0  # the largest worker
print(seconds, report.records, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, children, workers)
'''


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--select", default="F,S,P,T,K", help="rules to run (ALL: every stage)")
    parser.add_argument("--jobs", default="1", help="comma-separated; 0 is the default (a worker per core)")
    parser.add_argument("--out", help="append the table to this results file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"ftdata check --select {args.select}, synthetic short chat records, {datetime.date.today()} "
        f"(load average 1/5/15 min before each run -> after)")
    rows: dict[int, list[tuple[int, float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"{size}.jsonl"
            bench_check.make_file(path, size)
            for jobs in (int(j) for j in args.jobs.split(",")):
                before = load()
                seconds, records, peak_mb, worker_mb, workers = map(
                    float, bench_check.run_script(CHECK, str(path), args.select, str(jobs)))
                assert int(records) == size
                rows.setdefault(jobs, []).append((size, seconds, peak_mb + worker_mb * workers))
                held = f"peak RSS {peak_mb:6.0f} MB" + (f" + {workers:.0f} workers x <= {worker_mb:5.0f} MB" if workers > 1 else "")
                say(f"  --jobs {jobs} ({workers:.0f} process{'es' if workers > 1 else ''})  {size:>10,} records  "
                    f"{path.stat().st_size / 1e6:6.0f} MB  {seconds:8.1f} s  {size / seconds:7,.0f} records/s  {held}  "
                    f"load {before} -> {load()}")
            path.unlink()
    for jobs, runs in rows.items():
        for (n1, t1, m1), (n2, t2, m2) in zip(runs, runs[1:]):
            say(f"  --jobs {jobs}: {n1:,} -> {n2:,}: time exponent {math.log(t2 / t1) / math.log(n2 / n1):.2f}, "
                f"peak RSS (all processes) x{m2 / m1:.2f} for x{n2 / n1:.0f} records")
    if args.out:
        with open(args.out, "a") as f:
            f.write(f"\n# python benchmarks/bench_growth.py --sizes {args.sizes} --select {args.select} --jobs {args.jobs}\n")
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
