"""What `ftdata dedup` removes from each real public file, and how many of those removals are true.

Every removal is keyed by a fingerprint of the removed record's bytes and the bytes of the record its
finding names (stable across runs and line moves); benchmarks/dedup_review.json holds a verdict per
fingerprint ("true": a real duplicate, "false": a distinct example), written by reading both records.
Precision counts labelled removals; unlabelled ones are listed with --show so that they can be read.

Run: PYTHONPATH=src python benchmarks/bench_dedup_real.py [--show] [--out benchmarks/results/dedup_real.txt]
"""

import argparse
import json
import sys
from pathlib import Path

import xxhash

from ftdata.cli.dedup import dedup_config
from ftdata.config import Policy, config_from_table
from ftdata.pipeline import check
from ftdata.stages.base import Context, InputFile
from ftdata.stages.duplicates import compared
from ftdata.stages.parse import ParseStage
from ftdata.stages.read import ReadStage
from ftdata.stages.schema import SchemaStage
from ftdata.targets import load_target

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = [  # every real file ftdata reads as conversations, and the three larger ones beside them
    *sorted((SHARED / "realworld").glob("*.json*")),
    SHARED / "llamafactory__glaive_toolcall_en_demo.json",
    SHARED / "fastchat__dummy_conversation.json",
    SHARED / "stanford_alpaca__alpaca_data.json",
]
REVIEW = Path(__file__).with_name("dedup_review.json")
DEDUP_RULES = ("D001", "D002")


def fingerprint(removed: bytes, related: bytes) -> str:
    return format(xxhash.xxh3_64_intdigest(removed + b"\0" + related), "016x")


def removals(path: Path) -> tuple[int, list]:
    """(records, [(finding, removed example, related example)]) of `ftdata dedup` with default settings."""
    report = check([str(path)], dedup_config(config_from_table({})), jobs=1)  # indices as examples() numbers them
    found = [f for f in report.findings if f.code in DEDUP_RULES]
    wanted = {f.index for f in found} | {f.related[0].index for f in found}
    by_index = {e.index: e for e in examples(path) if e.index in wanted}
    return report.records, [(f, by_index[f.index], by_index[f.related[0].index]) for f in found]


def examples(path: Path):
    """The file's records, read as check reads them."""
    config = config_from_table({})
    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=[InputFile(str(path))])
    stream = ReadStage(ctx).whole(ctx.inputs)
    for stage in (ParseStage(ctx), SchemaStage(ctx)):
        stream = stage.run(stream)
    return stream


def difference(a: str, b: str, context: int = 80) -> tuple[str, str]:
    """The two texts without their common head and tail (a little of each kept), to read what differs."""
    head = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    tail = next((i for i, (x, y) in enumerate(zip(reversed(a), reversed(b))) if x != y), min(len(a), len(b)) - head)
    start, cut = max(0, head - context), max(0, tail - context)
    return a[start:len(a) - cut], b[start:len(b) - cut]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print the compared texts of unlabelled removals")
    parser.add_argument("--out", help="also write the summary to this file")
    args = parser.parse_args()
    if not (SHARED / "realworld").is_dir():
        print(f"{SHARED / 'realworld'} is missing", file=sys.stderr)
        return 2
    review = json.loads(REVIEW.read_text()) if REVIEW.exists() else {}
    out = [f"ftdata dedup, default settings; verdicts from {REVIEW.name} ({len(review)} labelled)", ""]
    totals = {"true": 0, "false": 0, "unlabelled": 0}
    for path in FILES:
        if not path.exists():
            continue
        count, found = removals(path)
        tally = {"true": 0, "false": 0, "unlabelled": 0}
        for finding, removed, related in found:
            key = fingerprint(removed.raw, related.raw)
            verdict = review.get(key, {}).get("verdict", "unlabelled")
            tally[verdict] += 1
            if args.show and verdict == "unlabelled":
                print(f"## {key} {path.name} {finding.code} line {finding.line} -> {finding.related[0].line}")
                a, b = difference(compared(removed)[0], compared(related)[0])
                print("   removed:", a[:900].replace("\n", " | "))
                print("   related:", b[:900].replace("\n", " | "))
        for k in totals:
            totals[k] += tally[k]
        out.append(f"{path.name:<48} {count:>6} records  {len(found):>4} removed  "
                   f"true {tally['true']:>4}  false {tally['false']:>3}  unlabelled {tally['unlabelled']:>3}")
    labelled = totals["true"] + totals["false"]
    out += ["", f"removals: {sum(totals.values())}, labelled {labelled}, true {totals['true']}, false {totals['false']}, "
                f"unlabelled {totals['unlabelled']}; precision {totals['true'] / labelled:.3f}" if labelled else
            "no labelled removals"]
    text = "\n".join(out)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
