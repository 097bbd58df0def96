"""Findings of the content-quality rules on real public files, and their precision by hand review.

Every file of ../shared/data and ../shared/data/realworld goes through `ftdata check` (default settings).
For each rule of the quality, consistency, contradictions and guidance stages, up to SAMPLE findings per
file are drawn (seeded by file and rule) and looked up in quality_review.json, the verdicts of
reading the record behind each (keyed by record fingerprint, as bench_quality.py keys them; a verdict
counts for the rules it lists). Precision per rule = defects / (defects + false positives) among the
reviewed sample; a sampled finding without a verdict is reported as not reviewed, never as either.
Dataset-level findings (no line) are keyed by file name and rule.

Run: PYTHONPATH=src python benchmarks/quality_real_files.py [--out benchmarks/results/quality_real_files.txt]
     [--review-sheet sheet.json]  (the sampled findings without a verdict, with their records, to judge)
"""

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import ftdata
from ftdata.config import Policy, config_from_table
from ftdata.pipeline import as_inputs
from ftdata.stages.base import Context
from ftdata.stages.read import ReadStage
from ftdata.targets import load_target

from bench_quality import DATA, ISSUE_PREFIXES, REVIEW, emit, fingerprint

SAMPLE = 20  # findings judged per rule and file
SHOWN = 3  # findings quoted per rule and file


def files() -> list[Path]:
    return sorted([*DATA.glob("*.json*"), *(DATA / "realworld").glob("*.json*")])


def records(path: Path) -> dict[int, str]:
    """Each record of a file by its index (lines repeat in a one-line JSON array), in the canonical form
    bench_quality.py writes (json.dumps of the parsed record), so that one record has one fingerprint in
    both; raw text where it does not parse."""
    config = config_from_table({})
    inputs = as_inputs([str(path)])
    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=inputs)
    out = {}
    for example in ReadStage(ctx).whole(inputs):
        text = example.raw.decode("utf-8", "replace")
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
        out[example.index] = text
    return out


def key_of(path: Path, finding, texts: dict[int, str]) -> tuple[str, str]:
    """(fingerprint, record text) of a finding: its record's, or the file's and rule's for a dataset finding."""
    if finding.line is None:
        return fingerprint(f"{path.name}:{finding.code}"), f"{path.name} (dataset): {finding.message}"
    text = texts.get(finding.index, "")
    return fingerprint(text), text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the text to this file")
    parser.add_argument("--review-sheet", help="write the sampled findings that have no verdict here (JSON)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} is missing", file=sys.stderr)
        return 2
    review = json.loads(REVIEW.read_text()) if REVIEW.exists() else {}
    tally: dict[str, Counter] = defaultdict(Counter)  # rule -> found / sampled / defect / false / not reviewed
    severity: dict[str, str] = {}
    sheet, out = [], ["Default settings; rules of the quality, consistency, contradictions and guidance stages only.", ""]
    for path in files():
        start = time.perf_counter()
        report = ftdata.check([str(path)], config_from_table({}), jobs=1)
        seconds = time.perf_counter() - start
        by_code = defaultdict(list)
        for f in report.findings:
            if f.code.startswith(ISSUE_PREFIXES):
                by_code[f.code].append(f)
        flagged = {f.line for fs in by_code.values() for f in fs if f.line and f.severity in ("warning", "error")}
        out.append(f"== {path.relative_to(DATA)}: {report.records:,} records, checked in {seconds:.1f} s (all stages); "
                   f"{len(flagged):,} records ({len(flagged) / max(1, report.records):.1%}) have a warning/error of these rules")
        out.append("   findings per rule: " + (", ".join(f"{c} {len(fs)}" for c, fs in sorted(by_code.items())) or "none"))
        texts = records(path) if by_code else {}
        for code, found in sorted(by_code.items()):
            rng = random.Random(f"{path.name}:{code}")  # one file's sample does not move when another's changes
            for f in rng.sample(found, min(SHOWN, len(found))):
                out.append(f"   {code} {f.severity:<7} {f'line {f.line}' if f.line else 'dataset'}: {f.message[:160]}")
            severity[code] = found[0].severity
            tally[code]["found"] += len(found)
            for f in rng.sample(found, min(SAMPLE, len(found))):
                fp, text = key_of(path, f, texts)
                entry = review.get(fp)
                verdict = entry["verdict"] if entry and code in entry["rules"] else "not reviewed"
                tally[code]["sampled"] += 1
                tally[code][verdict] += 1
                if verdict == "not reviewed":
                    sheet.append({"fingerprint": fp, "file": str(path.relative_to(DATA)), "line": f.line, "rules": [code],
                                  "message": f.message, "record": text[:4000]})
        out.append("")
    out += precision_table(tally, severity, len(review))
    if args.review_sheet:
        Path(args.review_sheet).write_text(json.dumps(sheet, indent=1, ensure_ascii=False) + "\n")
    return emit(out, args.out)


def precision_table(tally: dict[str, Counter], severity: dict[str, str], verdicts: int) -> list[str]:
    lines = [f"Precision by hand review ({REVIEW.name}, {verdicts} verdicts): up to {SAMPLE} findings per rule and file "
             "were read and judged; goal >= 0.80 for warnings, >= 0.95 for errors (info rules have none).",
             f"{'rule':<6}{'severity':<9}{'findings':>9}{'sampled':>8}{'defect':>7}{'false':>6}{'unjudged':>9}{'precision':>10}"]
    for code in sorted(tally):
        t = tally[code]
        judged = t["defect"] + t["false"]
        precision = f"{t['defect'] / judged:.2f}" if judged else "-"
        lines.append(f"{code:<6}{severity[code]:<9}{t['found']:>9}{t['sampled']:>8}{t['defect']:>7}{t['false']:>6}"
                     f"{t['not reviewed']:>9}{precision:>10}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
