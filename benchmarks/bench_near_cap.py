"""Near-duplicate verification budget: default `ftdata check` time on N and 2N records of a file made to
flood LSH with candidate pairs, and near-duplicate findings on real files with and without the budget.

    python benchmarks/bench_near_cap.py [--records 20000] [--rounds 3] [DATA_FOLDER]

Adversarial file: bench_check's synthetic chat file, whose texts are drawn from a 14-word vocabulary, so
that unrelated records share MinHash band keys and nearly every record is a candidate of some other
(~17 candidate pairs per record, none a near-duplicate). Each check runs in its own process (one process,
--jobs 1, every rule on by default); the best of interleaved rounds counts; its time starts after
`import ftdata`. Printed: seconds on N and 2N records and their ratio (2.00 is linear), candidate pairs,
pairs left unverified, and the budget finding. Real files (../shared/data, or DATA_FOLDER): the check's
time and its near-duplicate findings (D002 and D005) with the default budget and with `verify-budget = -1`
(every candidate verified, as before the budget existed); the two must be equal, record for record.
"""

import argparse
import json
import tempfile
from pathlib import Path

import bench_check  # benchmarks/ is on sys.path when a script there runs

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL = ("stanford_alpaca__alpaca_data.json", "fastchat__dummy_conversation.json",
        "llamafactory__glaive_toolcall_en_demo.json")

MEASURE = r'''
import hashlib, json, sys, time
from collections import Counter
start = time.perf_counter()
import ftdata
imported = time.perf_counter()
print("import", imported - start, file=sys.stderr)
path, budget = sys.argv[1], sys.argv[2]
options = {} if budget == "default" else {"duplicates": {"verify-budget": float(budget)}}
report = ftdata.check([path], ftdata.Config(stage_options=options), jobs=1)
elapsed = time.perf_counter() - imported
codes = Counter(f.code for f in report.findings)
stats = report.stats.get("duplicates", {})
near = sorted((f.code, f.file, f.line, [(r.file, r.line) for r in f.related]) for f in report.findings
              if f.code in ("D002", "D005"))
digest = hashlib.sha1(repr(near).encode()).hexdigest()
print(json.dumps({"seconds": elapsed, "records": report.records, "near": len(near), "digest": digest,
                  "capped": codes["D006"], "candidates": stats.get("candidate_pairs"),
                  "unverified": stats.get("unverified_pairs")}))
'''


def measure(path: Path, budget: str = "default") -> dict:
    """One default check in its own process, with the default verify-budget or the one given."""
    return json.loads(" ".join(bench_check.run_script(MEASURE, str(path), str(budget))))


def best(path: Path, rounds: int, budget: str = "default") -> dict:
    runs = [measure(path, budget) for _ in range(rounds)]
    return min(runs, key=lambda r: r["seconds"])


def describe(r: dict) -> str:
    pairs = f", {r['candidates']:,} candidate pairs, {r['unverified']:,} unverified" if r["candidates"] is not None else ""
    return (f"{r['seconds']:6.2f} s  ({r['records']:,} records{pairs}, "
            f"near-duplicate findings {r['near']:,}, D006 {r['capped']})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="?", type=Path, default=DATA)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="each check runs this often; its best time counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder) / "n.jsonl", Path(folder) / "2n.jsonl"
        bench_check.make_file(small, args.records)
        bench_check.make_file(large, 2 * args.records, seed=1)
        rounds = [(measure(small), measure(large)) for _ in range(args.rounds)]  # interleaved
        n = min((r[0] for r in rounds), key=lambda r: r["seconds"])
        n2 = min((r[1] for r in rounds), key=lambda r: r["seconds"])
    print(f"adversarial chat file (14-word vocabulary), default check, 1 process, "
          f"best of {args.rounds} interleaved rounds")
    print(f"  N  = {args.records:>7,}: {describe(n)}")
    print(f"  2N = {2 * args.records:>7,}: {describe(n2)}")
    print(f"  ratio 2N / N: {n2['seconds'] / n['seconds']:.2f} (2.00 is linear)")
    print(f"  (import ftdata, once per run: {min(bench_check.IMPORT_SECONDS):.2f} s, not included above)")
    for name in REAL:
        path = args.data / name
        if not path.exists():
            print(f"{name}: absent, skipped")
            continue
        capped, full = best(path, args.rounds), best(path, args.rounds, budget="-1")
        print(f"{name} (real), default check, 1 process, best of {args.rounds}")
        print(f"  default verify-budget:    {describe(capped)}")
        print(f"  verify-budget = -1 (all): {describe(full)}")
        same = "equal" if capped["digest"] == full["digest"] else "DIFFERENT"
        print(f"  near-duplicate findings (record, kept record) {same}: {capped['near']:,} and {full['near']:,}")


if __name__ == "__main__":
    main()
