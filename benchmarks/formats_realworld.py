"""What `ftdata check` makes of every real-world file's layout, before and after a change.

For each file in ../shared/data/realworld/ it runs `ftdata check FILE --output-format json -j 1` (default
settings, target generic) with two source trees: BEFORE, a commit extracted with `git archive` (default
2fc960e, the commit the realworld README's table was measured at), and the working tree. One row per
file and tree: records, detected formats (`stats.schema.formats`), errors / warnings / info and the most
frequent codes. Nothing is timed.

Run: python benchmarks/formats_realworld.py [--before REV] [--out benchmarks/results/formats_realworld.txt]
"""

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data from the repository root; a worktree one level deeper finds it further up.
DATA = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()), ROOT.parent / "shared" / "data")
REALWORLD = DATA / "realworld"


def extract(rev: str, into: Path) -> Path:
    """The src/ and rules/ of commit `rev`, unpacked under `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src", "rules"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def check(src: Path, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    run = subprocess.run([sys.executable, "-m", "ftdata", "check", str(path), "--output-format", "json", "-j", "1",
                          "--no-progress"], capture_output=True, env=env, cwd=tempfile.gettempdir())
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        return {"error": f"exit {run.returncode}: {run.stderr.decode(errors='replace').strip()[-200:]}"}
    findings = report.get("findings", [])
    severities = Counter(f["severity"] for f in findings)
    codes = Counter(f["code"] for f in findings)
    formats = report.get("stats", {}).get("schema", {}).get("formats", {})
    detected = Counter()
    for counts in formats.values():
        detected.update(counts)
    return {
        "records": report.get("summary", {}).get("records"),
        "formats": ", ".join(f"{name} ({n})" for name, n in detected.most_common()) or "none",
        "ewi": f"{severities['error']} / {severities['warning']} / {severities['info']}",
        "codes": ", ".join(f"{c}x{n}" for c, n in codes.most_common(4)),
    }


def table(rows: list[tuple[str, str, dict]]) -> str:
    lines = ["| file | tree | records | detected format | E / W / I | top codes |", "|---|---|---|---|---|---|"]
    for name, tree, r in rows:
        if "error" in r:
            lines.append(f"| {name} | {tree} | - | - | - | {r['error']} |")
        else:
            lines.append(f"| {name} | {tree} | {r['records']} | {r['formats']} | {r['ewi']} | {r['codes']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="2fc960e", help="commit to compare with (default: %(default)s)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not REALWORLD.is_dir():
        sys.exit(f"no real-world corpus at {REALWORLD}")
    files = sorted(p for p in REALWORLD.iterdir() if p.suffix in (".json", ".jsonl"))
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        before_src = extract(args.before, Path(tmp))
        for path in files:
            rows.append((path.name, f"before ({args.before})", check(before_src, path)))
            rows.append((path.name, f"after ({head}+tree)", check(ROOT / "src", path)))
    text = (f"ftdata check on each of {len(files)} files of shared/data/realworld (default settings, -j 1); "
            f"before = commit {args.before}, after = the working tree at {head}\n\n{table(rows)}\n")
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
