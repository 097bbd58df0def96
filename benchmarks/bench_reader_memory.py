"""Peak memory of `ftdata check` under a flood of blank lines, against a small flood measured in the same run.

    python benchmarks/bench_reader_memory.py [--lines 2000000]

Every blank line is a finding (F005) that belongs to no record. Kept in a list until the next record,
they made memory grow with the flood (issue 12: a 6 MB .gz of newlines grew by 19 MB/s). Now they go
to the run's findings as they are found, which keep 50,000 in memory and the rest on disk.

The checks print `--statistics` (counts per rule), so that the time goes to reading, not to printing
millions of findings. Four inputs: a gzipped flood (read whole, in one process) and a plain one (cut into shards for two
workers), each with `--lines` newlines and with a tenth of that. Each check runs in its own process,
so that its peak RSS is its own. Printed: peak RSS of each and the ratio large/small: flat memory
is a ratio near 1; a list of findings would be near 10.
"""

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

RECORD = json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def flood(path: Path, lines: int) -> None:
    """A record, `lines` newlines, a record."""
    data = (RECORD + "\n" + "\n" * lines + RECORD + "\n").encode()
    path.write_bytes(gzip.compress(data, 1) if path.suffix == ".gz" else data)


def peak_mb(path: Path, *flags: str) -> float:
    """Peak RSS (MB) of the largest process of a check of `path` (workers included: each is a child)."""
    out = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, "-m", "ftdata", "check", str(path),
                          "--statistics", "--select", "F", *flags],
                         capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)  # 2 MB plain: two shards, one per worker
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for name, suffix, flags in (("gzip, one process", ".jsonl.gz", ("--jobs", "1")),
                                    ("plain, two workers", ".jsonl", ("--jobs", "2"))):
            peaks = []
            for lines in (args.lines // 10, args.lines):
                path = Path(folder) / f"flood{lines}{suffix}"
                flood(path, lines)
                peaks.append(peak_mb(path, *flags))
            rows.append((name, *peaks))
        print(f"blank-line flood: {args.lines // 10:,} vs {args.lines:,} newlines, peak RSS of the largest process")
        for name, small, large in rows:
            print(f"  {name:20} {small:7.1f} MB -> {large:7.1f} MB   ratio {large / small:.2f}")


if __name__ == "__main__":
    main()
