"""Precision of every rule on real public files, scored against verdicts a person gave by reading the records.

Planted corpora measure recall; only files nobody here wrote, read by a person, measure precision. This
runs `ftdata.check` (default settings) on every file of ../shared/data/realworld/ and ../shared/data/, with
target generic and each file's natural provider target (TARGETS), plus `ftdata dedup` on each file. Each
finding is fingerprinted by what survives code changes: the file name, a hash of the record's bytes, the
rule code and, for rules about a pair of records, the hash of the related record. A deterministic sample
of up to PER_RULE fingerprints per rule and severity, spread across files, is scored against
benchmarks/precision_verdicts.json; sampled fingerprints without a verdict are listed as unlabelled, so
nothing is skipped silently. A fingerprint stands for a record flagged by a rule (a record with two
findings of one rule counts once).

Goals (issue 11): error >= 95% precise, warning >= 80%, info reported without a goal, dedup removals >= 99%.
A rule passes when its sample is fully labelled and the precision of the labelled sample reaches the goal.

Run: PYTHONPATH=src python benchmarks/bench_precision.py [--out benchmarks/results/precision.txt]
     [--pending /tmp/pending.json]  (the sampled fingerprints that still need a verdict, with their records)
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import ftdata
from ftdata import Ref
from ftdata.config import Config, Policy, config_from_table
from ftdata.review.stats import wilson  # the same interval the review export reports
from ftdata.stages.base import Context, InputFile
from ftdata.stages.read import ReadStage
from ftdata.targets import load_target

from bench_quality import DATA, emit

VERDICTS = Path(__file__).with_name("precision_verdicts.json")
PER_RULE = 40
EXAMPLES = 3  # false findings shown per rule below its goal
GOALS = {"error": 0.95, "warning": 0.80}
DEDUP_GOAL = 0.99
DEDUP = "dedup"  # the pseudo-code of a record `ftdata dedup` removes
# Each file's natural provider target, checked as well as generic: the provider its data was made for
# (named in the file's repository or shaped for that provider's API).
TARGETS = {
    "openai-cookbook__toy_chat_fine_tuning.jsonl": ["openai"],
    "akshata29-finetuning__conv_dpo_train.jsonl": ["openai"],  # Azure OpenAI DPO demo
    "allyarc__train.jsonl": ["openai"],  # the repository is named oai_dataset
    "growigh-fine-tune__t.jsonl": ["openai"],
    "moj-laa-architect-info__tuning_data.jsonl": ["openai"],  # legacy OpenAI prompt/completion
    "openpipe__train.jsonl": ["openai"],
    "toolbench-fork__training_data.jsonl": ["openai"],  # legacy OpenAI function_call messages
    "mistral-client-python__ft_training_file.jsonl": ["mistral"],
    "together-finetuning__TrainMathInstruct-500.json": ["together"],
    "gdg-hackathon__tuning_data.jsonl": ["vertex"],
    "gdg-oran-talk__gemini.jsonl": ["vertex"],
}
# Rules whose finding is about a pair of records: the verdict depends on the related record too.
PAIR_PREFIXES = ("D", "C")


def data_files() -> list[Path]:
    found = sorted((DATA / "realworld").glob("*.json*")) + sorted(DATA.glob("*.json*"))
    return [p for p in found if p.suffix in (".json", ".jsonl")]


def record_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


class Records:
    """A file's records as ftdata's own reader yields them, found by record index or, failing that, by line
    (a line may hold several records, as in a one-line .json array: such a line names none of them)."""

    def __init__(self, path: Path):
        config = Config()
        source = InputFile(str(path))
        reader = ReadStage(Context(config=config, target=load_target("generic"), policy=Policy(config), inputs=[source]))
        examples = list(reader.whole([source]))
        self.by_index = [e.raw for e in examples]  # a run on this file alone numbers its records from 0
        lines = Counter(e.line for e in examples)
        self.by_line = {e.line: e.raw for e in examples if lines[e.line] == 1}
        self._index_of = {}
        for e in examples:
            self._index_of.setdefault(e.raw, e.index)

    def raw(self, index: int | None, line: int | None) -> bytes | None:
        if index is not None:
            return self.by_index[index]
        return self.by_line.get(line)

    def index_of(self, raw: bytes) -> int | None:
        return self._index_of.get(raw)


@dataclass
class Flagged:
    """One fingerprint: a record (or a whole file) flagged by one rule, with what the runs said about it."""

    key: str
    code: str
    severity: str
    file: str
    line: int | None
    field_path: str | None  # the finding's field in the record
    message: str
    record: str  # the record's text (for labelling), "" for a finding about the whole file
    related: list[dict] = field(default_factory=list)  # {line, record} of each related record
    targets: set[str] = field(default_factory=set)
    findings: int = 0


def fingerprint(file: str, raw: bytes | None, code: str, related: list[str]) -> str:
    """file|record hash ("file" for a finding about the whole file)|code, and for a pair rule |related hashes."""
    parts = [file, record_hash(raw) if raw is not None else "file", code]
    if code.startswith(PAIR_PREFIXES) or code == DEDUP:
        parts.append(",".join(sorted(related)) or "-")
    return "|".join(parts)


def collect(path: Path, findings, records: Records, target: str, into: dict[tuple[str, str], Flagged],
            code_of=lambda f: f.code) -> None:
    """Fold one run's findings on one file into fingerprints, keyed by (severity, fingerprint)."""
    for f in findings:
        raw = records.raw(f.index, f.line) if f.line is not None else None
        related = [(r.line, records.raw(r.index, r.line)) for r in f.related if r.file == f.file]
        code = code_of(f)
        key = fingerprint(path.name, raw, code, [record_hash(r) if r is not None else f"line{line}?" for line, r in related])
        flagged = into.get((f.severity, key))
        if flagged is None:
            flagged = into[(f.severity, key)] = Flagged(
                key, code, f.severity, path.name, f.line, f.field, f.message, _text(raw),
                [{"line": line, "record": _text(r) if r is not None else f"(line {line} holds several records)"}
                 for line, r in related])
        flagged.targets.add(target)
        flagged.findings += 1


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw is not None else ""


def check_all(files: list[Path]) -> tuple[dict[tuple[str, str], Flagged], list[str]]:
    flagged: dict[tuple[str, str], Flagged] = {}
    log = []
    for path in files:
        records = Records(path)
        for target in ["generic", *TARGETS.get(path.name, [])]:
            try:
                report = ftdata.check([str(path)], config_from_table({"target": target}), jobs=1)
            except ftdata.FtdataError as e:  # a usage or input error is a result too: say so, go on
                log.append(f"{path.name} ({target}): ftdata stopped: {e}")
                continue
            collect(path, report.findings, records, target, flagged)
            log.append(f"{path.name} ({target}): {report.records} records, {len(report.findings)} findings")
    return flagged, log


def dedup_all(files: list[Path]) -> tuple[dict[tuple[str, str], Flagged], list[str]]:
    """The records `ftdata dedup` removes from each file (its --rejected output), as fingerprints of `dedup`."""
    removed: dict[tuple[str, str], Flagged] = {}
    log = []
    with tempfile.TemporaryDirectory(prefix="bench-precision-") as folder:
        for n, path in enumerate(files):
            rejected = Path(folder) / f"{n}.rejected.jsonl"
            run = subprocess.run([sys.executable, "-m", "ftdata", "dedup", str(path), "--out", f"{folder}/{n}.kept",
                                  "--rejected", str(rejected)], capture_output=True, text=True)
            if run.returncode != 0:
                log.append(f"{path.name}: dedup exit {run.returncode}: {run.stderr.strip()[-300:]}")
                continue
            records = Records(path)
            entries = [json.loads(line) for line in rejected.read_bytes().splitlines()] if rejected.exists() else []
            removals = [_Removal(e, records) for e in entries]
            collect(path, removals, records, "dedup", removed, code_of=lambda f: DEDUP)
            said = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "no output"
            log.append(f"{path.name}: dedup: {said.replace(folder + '/', '')}")
    return removed, log


class _Removal:
    """A record of dedup's --rejected output, with the attributes `collect` reads (severity error: removed)."""

    def __init__(self, entry: dict, records: Records):
        first = entry["findings"][0]
        self.code, self.severity, self.file, self.line = first["code"], "error", entry["file"], entry["line"]
        self.field, self.message = first["field"], first["message"]
        self.index = records.index_of(entry["text"].encode())
        self.related = [Ref(r["file"], r["line"]) for r in first["related"]]


def stratified_sample(items: list[Flagged], size: int) -> list[Flagged]:
    """Up to `size` items taken round-robin across files, each file's in a fixed hash order."""
    by_file: dict[str, list[Flagged]] = defaultdict(list)
    for item in sorted(items, key=lambda i: hashlib.sha256(i.key.encode()).hexdigest()):
        by_file[item.file].append(item)
    queues = [by_file[name] for name in sorted(by_file)]
    sample: list[Flagged] = []
    depth = 0
    while len(sample) < size and any(depth < len(q) for q in queues):
        sample.extend(q[depth] for q in queues if depth < len(q) and len(sample) < size)
        depth += 1
    return sample


@dataclass
class Score:
    true: int
    false: int
    unlabelled: int

    @property
    def labelled(self) -> int:
        return self.true + self.false

    @property
    def precision(self) -> float | None:
        return self.true / self.labelled if self.labelled else None


def score(sample: list[str], verdicts: dict[str, dict]) -> Score:
    """Count the sampled fingerprints labelled true, false, or not at all."""
    labels = [verdicts.get(key, {}).get("verdict") for key in sample]
    return Score(labels.count(True), labels.count(False), sum(label is None for label in labels))


def by_volume(items: list[Flagged], sample: list[Flagged], verdicts: dict[str, dict]) -> float | None:
    """Precision with each file weighted by its share of the flagged records (the sample spreads evenly across
    files, so a file with few findings counts as much as one with hundreds); files without a labelled sample
    item are left out."""
    flagged_per_file = Counter(i.file for i in items)
    labels: dict[str, list[bool]] = defaultdict(list)
    for i in sample:
        if (verdict := verdicts.get(i.key, {}).get("verdict")) is not None:
            labels[i.file].append(verdict)
    weight = sum(flagged_per_file[f] for f in labels)
    if not weight:
        return None
    return sum(flagged_per_file[f] * sum(v) / len(v) for f, v in labels.items()) / weight


def status(s: Score, goal: float | None) -> str:
    if goal is None:
        return "info"
    if s.unlabelled or not s.labelled:
        return "INCOMPLETE"
    return "PASS" if s.precision >= goal else "FAIL"


def table(flagged: dict[tuple[str, str], Flagged], verdicts: dict[str, dict]) -> tuple[list[str], list[str], list[Flagged]]:
    """The per-rule lines of the results, examples of the false findings of rules below their goal, and the
    sampled fingerprints that have no verdict yet."""
    groups: dict[tuple[str, str], list[Flagged]] = defaultdict(list)
    for (severity, _), item in flagged.items():
        groups[(item.code, severity)].append(item)
    order = {"error": 0, "warning": 1, "info": 2}
    out = [f"{'rule':<6} {'severity':<8} {'findings':>8} {'flagged':>7} {'files':>5} {'sampled':>7} {'true':>4} "
           f"{'false':>5} {'unlab':>5} {'precision':>9}  {'wilson 95%':<13} {'by volume':>9} {'goal':>5}  status"]
    pending: list[Flagged] = []
    misses: list[str] = []
    for (code, severity), items in sorted(groups.items(), key=lambda kv: (kv[0][0] == DEDUP, kv[0][0], order[kv[0][1]])):
        sample = stratified_sample(items, PER_RULE)
        s = score([i.key for i in sample], verdicts)
        pending += [i for i in sample if i.key not in verdicts]
        goal = DEDUP_GOAL if code == DEDUP else GOALS.get(severity)
        lo, hi = wilson(s.true, s.labelled)
        precision = f"{s.precision:.0%}" if s.precision is not None else "-"
        interval = f"{lo:.0%}-{hi:.0%}" if s.labelled else "-"
        weighted = by_volume(items, sample, verdicts)
        volume = f"{weighted:.0%}" if weighted is not None else "-"
        out.append(f"{code:<6} {severity:<8} {sum(i.findings for i in items):>8} {len(items):>7} "
                   f"{len({i.file for i in items}):>5} {len(sample):>7} {s.true:>4} {s.false:>5} {s.unlabelled:>5} "
                   f"{precision:>9}  {interval:<13} {volume:>9} {f'{goal:.0%}' if goal else '-':>5}  {status(s, goal)}")
        if status(s, goal) in ("FAIL", "INCOMPLETE") and s.false:
            wrong = [i for i in sample if verdicts.get(i.key, {}).get("verdict") is False]
            misses.append(f"{code} {severity}: {s.false} false of {s.labelled}")
            misses += [f"  {i.file}:{i.line}: {verdicts[i.key]['note']}" for i in wrong[:EXAMPLES]]
    return out, misses, pending


def load_verdicts(path: Path = VERDICTS) -> dict[str, dict]:
    return json.loads(path.read_text()) if path.exists() else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the results to this file")
    parser.add_argument("--pending", help="write the sampled fingerprints without a verdict, with their records, here")
    args = parser.parse_args()
    files = data_files() if DATA.is_dir() else []
    if not files:
        print(f"skipped: no data files under {DATA} (the benchmark reads real public files; none are in the repo)")
        return 0
    verdicts = load_verdicts()
    flagged, check_log = check_all(files)
    removed, dedup_log = dedup_all(files)
    rows, misses, pending = table({**flagged, **removed}, verdicts)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).parent).stdout.strip()
    out = [f"Rule precision on {len(files)} real public files (../shared/data/realworld and ../shared/data), "
           f"ftdata at {head or 'unknown commit'}, default settings.",
           "Targets: generic for every file, plus natural targets: "
           + ", ".join(f"{name.split('__')[0]} {'/'.join(t)}" for name, t in sorted(TARGETS.items())) + ".",
           f"Verdicts: {VERDICTS.name} ({len(verdicts)} labelled fingerprints). Sample: up to {PER_RULE} flagged "
           "records per rule and severity, round-robin across files.",
           "flagged = distinct (record, rule[, related record]) fingerprints; precision = true / labelled sample; "
           "Wilson 95% interval on the labelled sample; by volume = the same with each file weighted by its "
           "share of the rule's flagged records (PASS/FAIL use the plain precision).",
           "Goals: error >= 95%, warning >= 80%, info none; dedup = records `ftdata dedup` removes, goal >= 99%. "
           "INCOMPLETE = sampled findings without a verdict (listed below).", "", *rows, ""]
    unlabelled = [f"  {i.code} {i.severity} {i.file}:{i.line} {i.message[:140]}" for i in pending]
    out += [f"Rules below their goal, with up to {EXAMPLES} of their false findings (the verdict's note):", *misses, ""]
    out += [f"Unlabelled sampled fingerprints: {len(pending)}", *unlabelled, "", "Runs:",
            *(f"  {line}" for line in check_log + dedup_log)]
    if args.pending:
        Path(args.pending).write_text(json.dumps([{
            "key": i.key, "code": i.code, "severity": i.severity, "file": i.file, "line": i.line, "field": i.field_path,
            "message": i.message, "record": i.record, "related": i.related} for i in pending], ensure_ascii=False, indent=1))
    return emit(out, args.out)


if __name__ == "__main__":
    sys.exit(main())
