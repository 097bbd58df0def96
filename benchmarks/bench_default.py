"""A default `ftdata check` (every stage), this checkout against an earlier commit, in the same run.

    python benchmarks/bench_default.py --against REV [--rounds 3]

Times the whole command (interpreter start, imports, check, report) on the shipped sample, where
start-up dominates as in a pre-commit hook, and on Alpaca from ../shared/data when present, in one
process and with a worker per core. The two checkouts alternate; the best of the rounds counts, and
the ratio this/earlier is printed.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALPACA = REPO.parent / "shared" / "data" / "stanford_alpaca__alpaca_data.json"


def seconds(src: Path, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ftdata", "check", "--no-progress", *args], capture_output=True,
                   env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, help="the earlier commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cases = {"sample (26 records)": [str(REPO / "sample_data" / "chat_with_defects.jsonl")]}
    if ALPACA.exists():
        cases["alpaca (52k records), 1 process"] = [str(ALPACA), "-j", "1"]
        cases["alpaca (52k records), a worker per core"] = [str(ALPACA)]
    with tempfile.TemporaryDirectory() as folder:
        earlier = Path(folder) / "earlier"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(earlier), args.against], check=True)
        try:
            print(f"default check, best of {args.rounds} alternating rounds: {args.against} vs this checkout")
            for name, case in cases.items():
                times: dict[str, list[float]] = {"earlier": [], "this": []}
                for _ in range(args.rounds):
                    times["earlier"].append(seconds(earlier / "src", case))
                    times["this"].append(seconds(REPO / "src", case))
                before, after = min(times["earlier"]), min(times["this"])
                print(f"  {name:<42} {before:6.2f} s -> {after:6.2f} s   ratio {after / before:.2f}")
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(earlier)], check=True)


if __name__ == "__main__":
    main()
