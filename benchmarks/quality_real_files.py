"""Counts per content-quality rule on each real public file in ../shared/data, with a sample of each.

Run: PYTHONPATH=src python benchmarks/quality_real_files.py [--out benchmarks/results/quality_real_files.txt]
"""

import argparse
import random
import sys
import time
from collections import defaultdict

import ftdata
from ftdata.config import config_from_table

from bench_quality import DATA, ISSUE_PREFIXES, emit

SAMPLES = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the text to this file")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} is missing", file=sys.stderr)
        return 2
    rng = random.Random(7)
    out = ["Default settings; rules of the quality, consistency, contradictions and guidance stages only.", ""]
    for path in sorted(DATA.glob("*.json*")):
        start = time.perf_counter()
        report = ftdata.check([str(path)], config_from_table({}))
        seconds = time.perf_counter() - start
        by_code = defaultdict(list)
        for f in report.findings:
            if f.code.startswith(ISSUE_PREFIXES):
                by_code[f.code].append(f)
        flagged = {f.line for fs in by_code.values() for f in fs if f.line and f.severity in ("warning", "error")}
        out.append(f"== {path.name}: {report.records:,} records, checked in {seconds:.1f} s (all stages); "
                   f"{len(flagged):,} records ({len(flagged) / max(1, report.records):.1%}) have a warning/error of these rules")
        counts = ", ".join(f"{code} {len(fs)}" for code, fs in sorted(by_code.items()))
        out.append(f"   findings per rule: {counts or 'none'}")
        for code, fs in sorted(by_code.items()):
            for f in rng.sample(fs, min(SAMPLES, len(fs))):
                where = f"line {f.line}" if f.line else "dataset"
                out.append(f"   {code} {f.severity:<7} {where}: {f.message[:160]}")
        out.append("")
    return emit(out, args.out)


if __name__ == "__main__":
    sys.exit(main())
