"""Time, records/s and peak RSS of `ftdata check` as the dataset grows: is memory flat, is time linear?

    python benchmarks/bench_growth.py [--sizes 100000,1000000] [--select F,S,P,T,K] [--jobs 1]

Generates synthetic chat files (bench_check's short records, about 0.9 KB each, one shared system prompt)
of each size and checks each in its own process, printing seconds after `import ftdata`, records/s and
peak RSS, then the growth exponent of time between consecutive sizes (1.0 is linear) and the ratio of
peak RSS. `--select ALL` is a default check (every stage).
"""

import argparse
import math
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
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest worker, when there are workers
print(seconds, report.records, max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children) / 1024)
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--select", default="F,S,P,T,K", help="rules to run (ALL: every stage)")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"ftdata check --select {args.select} --jobs {args.jobs}, synthetic short chat records")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"{size}.jsonl"
            bench_check.make_file(path, size)
            seconds, records, peak_mb = map(float, bench_check.run_script(CHECK, str(path), args.select, str(args.jobs)))
            assert int(records) == size
            rows.append((size, seconds, peak_mb))
            print(f"  {size:>10,} records  {path.stat().st_size / 1e6:8.0f} MB  {seconds:8.1f} s  "
                  f"{size / seconds:9,.0f} records/s  peak RSS {peak_mb:7.0f} MB", flush=True)
            path.unlink()
    for (n1, t1, m1), (n2, t2, m2) in zip(rows, rows[1:]):
        print(f"  {n1:,} -> {n2:,}: time exponent {math.log(t2 / t1) / math.log(n2 / n1):.2f}, "
              f"peak RSS x{m2 / m1:.2f} for x{n2 / n1:.0f} records")


if __name__ == "__main__":
    main()
