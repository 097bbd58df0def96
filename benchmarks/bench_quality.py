"""Precision and recall of the content-quality rules on a labelled corpus built from real records.

Clean records are real ones from ../shared/data (Alpaca, FastChat, LLaMA-Factory). Each defect class is
planted into its own set of them, the corpus goes through `ftdata.check` with default settings, and each
rule is scored against the labels:

  recall    = planted records of the class that the rule flags / planted records of the class
  precision = planted records of the class that the rule flags / (those + clean records it flags)

Records planted with another class are left out of a rule's precision (a cut-off output may also end in
a loop). Unplanted records count as clean, so every hit on them counts against precision, even where
the real record really has that defect (the Alpaca release has many): the precision shown is a lower bound.
The last lines give the share of clean records flagged by any warning- or error-level rule of this
issue. Run: PYTHONPATH=src python benchmarks/bench_quality.py [--out benchmarks/results/quality.txt]
"""

import argparse
import json
import random
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import xxhash

import ftdata
from ftdata.config import config_from_table

# ../shared/data from the repository root; a worktree one level deeper finds it further up.
DATA = next((p / "shared" / "data" for p in Path(__file__).resolve().parents[1:] if (p / "shared" / "data").is_dir()),
            Path(__file__).resolve().parents[2] / "shared" / "data")
ISSUE_PREFIXES = ("Q", "C", "G")
PER_CLASS = 150
ALPACA_SAMPLE = 6000
SEED = 20260101
REVIEW = Path(__file__).with_name("quality_review.json")  # verdicts of the hand review, by record fingerprint

BOILERPLATE = [
    "As an AI language model, I don't have personal opinions, but here is an answer.",
    "I'm sorry, but I cannot help with that request.",
    "As a large language model trained by OpenAI, I can only offer general information.",
    "I am an AI assistant and do not have feelings, however:",
    "As an AI, I am not able to browse the internet, but I can tell you this.",
    "Please note that my knowledge cutoff is September 2021.",
    "I'm sorry, but I am unable to provide that information.",
    "As an artificial intelligence model, I do not have personal experiences.",
    "I cannot fulfill this request because it goes against my guidelines.",
    "I'm just an AI, so I can't be sure, but",
]
UNSEEN = [
    "Describe the image below.", "What is shown in the attached photo?", "Write a caption for this picture.",
    "Explain the trend in the chart above.", "Summarize the following video.", "Describe the painting shown.",
    "Transcribe the given audio recording.", "Summarize the article at https://www.bbc.com/news/science-environment-{n}",
    "Read this web page and list its main points: https://en.wikipedia.org/wiki/Topic_{n}",
    "What is the person in the given photograph doing?",
]
LEAKS = ["\n\n### Instruction:\n{other}", "<|im_end|>", "\n\nInstruction: {other}\nInput: <noinput>", "\nHuman: {other}",
         "</s>[INST] {other} [/INST]", "\n\n### Response:", "<|eot_id|><|start_header_id|>user<|end_header_id|>"]
NAMES = ["maria.gonzalez", "j.smith84", "li.wei", "o.okafor", "anna.k", "peter.novak", "sara_m", "tom.h.baker"]
MAIL = ["gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "uni-heidelberg.de", "acmecorp.io"]
PLACEHOLDER_OUT = ["<nooutput>", "N/A", "...", "TODO", "<no output>", "<NoOutput>", "n/a", "TBD"]
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]*]*$")
PLACEHOLDER_IN = ["<noinput>", "No input.", "N/A", "<No Input>", "noinput", "No input", "<no input>", "None"]


def alpaca_records() -> list[dict]:
    return json.loads((DATA / "stanford_alpaca__alpaca_data.json").read_text())


def plant(kind: str, rec: dict, rng: random.Random, other: str) -> dict | None:
    """A copy of an Alpaca-shaped record with one defect of `kind`, or None if it does not suit."""
    r = dict(rec)
    out = r["output"]
    if kind == "Q001":
        r["output"] = rng.choice(PLACEHOLDER_OUT)
    elif kind == "Q002":
        if r["input"].strip():
            return None
        r["input"] = rng.choice(PLACEHOLDER_IN)
    elif kind == "Q003":
        phrase = rng.choice(BOILERPLATE)
        r["output"] = f"{phrase} {out}" if rng.random() < 0.7 else f"{out} {phrase}"
    elif kind == "Q004":
        if len(out) < 120:
            return None
        for _ in range(10):  # a cut inside a sentence: one that ends a sentence or a line leaves no trace to find
            cut = rng.randint(int(len(out) * 0.3), int(len(out) * 0.9))
            if rng.random() < 0.5:  # at a word boundary rather than mid-word
                cut = out.rfind(" ", 0, cut) if out.rfind(" ", 0, cut) > 0 else cut
            kept = out[:cut].rstrip()
            rest = out[len(kept):]
            at_line_end = "\n" in rest[: len(rest) - len(rest.lstrip())]
            if not _SENTENCE_END.search(kept) and not at_line_end:
                r["output"] = kept
                break
        else:
            return None
    elif kind == "Q005":
        words = out.split()
        if len(words) < 8:
            return None
        start = rng.randrange(0, len(words) - 4)
        span = " ".join(words[start:start + rng.randint(3, 10)])
        r["output"] = out + " " + " ".join([span] * rng.randint(6, 30))
    elif kind == "Q006":
        how = rng.random()
        if how < 0.5:
            text = out.replace("'", "\u2019").replace(" - ", " \u2013 ")
            if text == out:
                text = out + " \u2014 caf\u00e9"
            r["output"] = text.encode("utf-8").decode("cp1252", errors="replace")
        elif how < 0.75:
            i = rng.randrange(len(out) + 1)
            r["output"] = out[:i] + "\ufffd" * rng.randint(1, 3) + out[i:]
        else:
            i = rng.randrange(len(out) + 1)
            r["output"] = out[:i] + chr(rng.choice([1, 2, 3, 8, 11, 12, 27, 31])) + out[i:]
    elif kind == "Q007":
        r["output"] = r["instruction"] if rng.random() < 0.5 or not r["input"] else f"{r['instruction']}\n\n{r['input']}"
    elif kind == "Q008":
        slug = rng.choice(["guide", "facts", "learn-more", "resources", "article"])
        site = rng.choice(["healthline.com", "britannica.com", "medium.com/@writer", "nytimes.com/2021/05", "i.imgur.com"])
        link = f"![figure](https://{site}/{slug}{rng.randint(1, 999)}.png)" if rng.random() < 0.3 else \
            f"https://www.{site}/{slug}-{rng.randint(1, 9999)}"
        r["output"] = f"{out}\n\nSource: {link}" if rng.random() < 0.5 else f"{out} (see {link})"
    elif kind == "Q009":
        r["instruction"] = rng.choice(UNSEEN).format(n=rng.randint(10**7, 10**8))
        r["input"] = ""
    elif kind == "Q010":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        rand = lambda n, chars=alphabet: "".join(rng.choice(chars) for _ in range(n))  # noqa: E731
        secret = rng.choice([f"sk-proj-{rand(48)}", f"AKIA{rand(16, alphabet[:26] + alphabet[52:])}", f"ghp_{rand(36)}",
                             f"xoxb-{rand(11, '0123456789')}-{rand(24)}", f"AIza{rand(35)}",
                             "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA" + rand(40)])
        r["output"] = f"{out}\n\nAPI_KEY = \"{secret}\"" if rng.random() < 0.5 else f"{out} Use the key {secret} to authenticate."
    elif kind == "Q011":
        if rng.random() < 0.5:
            pii = f"{rng.choice(NAMES)}@{rng.choice(MAIL)}"
        else:
            pii = rng.choice([f"({rng.randint(201, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999)}",
                              f"+44 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
                              f"+1 {rng.randint(201, 989)}-{rng.randint(200, 989)}-{rng.randint(1000, 9999)}"])
        r["output"] = f"{out} Contact: {pii}." if rng.random() < 0.5 else f"You can reach me at {pii}. {out}"
    elif kind == "Q012":
        r["output"] = out + rng.choice(LEAKS).format(other=other)
    elif kind == "Q013":
        a, b, op = rng.randint(2, 999), rng.randint(2, 99), rng.choice("+-*")
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
        r["instruction"] = rng.choice(["What is {e}?", "Calculate {e}.", "Compute {e}", "Evaluate the expression {e}."]).format(e=f"{a} {op} {b}")
        r["input"] = ""
        r["output"] = rng.choice(["The answer is {v}.", "{e} = {v}", "{v}"]).format(e=f"{a} {op} {b}", v=value + rng.choice([-10, -1, 1, 2, 7, 100]))
    else:
        raise ValueError(kind)
    return r


def typo(text: str, rng: random.Random) -> str:
    """Two neighbouring letters of one longer word swapped."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()] or [0]
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, max(2, len(w) - 2))
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if len(w) > j + 1 else w + "s"
    return " ".join(words)


def correct_arithmetic(rec: dict, rng: random.Random) -> dict:
    """A clean counterpart of Q013's plant: the same kind of question, answered right."""
    a, b, op = rng.randint(2, 999), rng.randint(2, 99), rng.choice("+-*")
    value = {"+": a + b, "-": a - b, "*": a * b}[op]
    return dict(rec, instruction=f"What is {a} {op} {b}?", input="", output=f"{a} {op} {b} = {value}")


RECORD_CLASSES = ["Q001", "Q002", "Q003", "Q004", "Q005", "Q006", "Q007", "Q008", "Q009", "Q010", "Q011", "Q012", "Q013"]


def build(folder: Path, rng: random.Random) -> dict[tuple[str, int], str]:
    """Writes the corpus files; returns {(file, line): planted class} ('' for clean records)."""
    labels: dict[tuple[str, int], str] = {}
    pool = rng.sample(alpaca_records(), ALPACA_SAMPLE)
    alpaca: list[tuple[dict, str]] = []
    cursor = 0
    for kind in RECORD_CLASSES:
        planted = 0
        while planted < PER_CLASS:
            rec, cursor = pool[cursor], cursor + 1
            other = pool[(cursor * 7919) % len(pool)]["instruction"]
            new = plant(kind, rec, rng, other)
            if new is not None:
                alpaca.append((new, kind))
                planted += 1
    tasks = [r for r in pool[cursor:cursor + 700] if r["output"].strip()][:600]
    cursor += 700
    alpaca += [(rec, "") for rec in pool[cursor:]]
    alpaca += [(correct_arithmetic(pool[i], rng), "") for i in range(50)]
    # Conflicting labels: a short-answer record again, with another record's short answer.
    short = [r for r in pool[cursor:] if 0 < len(r["output"]) <= 25 and len(r["output"].split()) <= 3]
    answers = sorted({r["output"] for r in short})
    for n, rec in enumerate(rng.sample(short, min(PER_CLASS, len(short)))):
        kind = "C004" if n % 2 else "C001"  # every other copy asks nearly the same thing: one typo
        alpaca.remove((rec, ""))
        alpaca.append((rec, kind))
        flipped = rng.choice([a for a in answers if a.lower() != rec["output"].lower()])
        copy = dict(rec, output=flipped)
        if kind == "C004":
            copy["instruction"] = typo(rec["instruction"], rng)
        alpaca.append((copy, kind))
    alpaca += format_tasks(tasks, rng)
    rng.shuffle(alpaca)
    write(folder / "alpaca.jsonl", alpaca, labels)

    fastchat = json.loads((DATA / "fastchat__dummy_conversation.json").read_text())
    write(folder / "fastchat.jsonl", [(r, "") for r in fastchat], labels)
    glaive = json.loads((DATA / "llamafactory__glaive_toolcall_en_demo.json").read_text())
    write(folder / "glaive.jsonl", [(r, "") for r in glaive], labels)
    dpo = json.loads((DATA / "llamafactory__dpo_en_demo.json").read_text())
    pairs: list[tuple[dict, str]] = [(r, "") for r in dpo]
    for i in rng.sample(range(len(dpo)), 40):  # the same prompt, its answers judged the other way round
        pairs[i] = (dpo[i], "C003")
        pairs.append((dict(dpo[i], chosen=dpo[i]["rejected"], rejected=dpo[i]["chosen"]), "C003"))
    write(folder / "dpo.jsonl", pairs, labels)
    return labels


def format_tasks(pool: list[dict], rng: random.Random) -> list[tuple[dict, str]]:
    """Three tasks with a system prompt each: JSON outputs, bullet lists, and Alpaca's own prose.

    Drift is planted in the first two (prose or other keys among JSON; numbered among bullets); the
    third is left as it is, to measure how often natural outputs of one task get called drift."""
    records: list[tuple[dict, str]] = []
    json_task, list_task, prose_task = pool[:200], pool[200:400], pool[400:600]
    system_json = "Answer as JSON with the keys answer and confidence."
    for i, rec in enumerate(json_task):
        drift = i < 20
        if drift and i % 2:
            output = rec["output"]
        elif drift:
            output = json.dumps({"response": rec["output"], "score": 0.9})
        else:
            output = json.dumps({"answer": rec["output"], "confidence": rng.choice(["high", "medium", "low"])})
        records.append((dict(rec, system=system_json, output=output), "C101" if drift else ""))
    system_list = "Answer with a short bulleted list."
    for i, rec in enumerate(list_task):
        drift = i < 20
        parts = [p.strip() for p in rec["output"].replace("\n", ". ").split(". ") if p.strip()][:5] or [rec["output"]]
        if len(parts) < 2:
            parts = [parts[0], "That is all."]
        marker = (lambda k: f"{k + 1}. ") if drift else (lambda k: "- ")
        records.append((dict(rec, system=system_list, output="\n".join(marker(k) + p for k, p in enumerate(parts))),
                        "C101" if drift else ""))
    system_prose = "You are a helpful assistant."
    records += [(dict(rec, system=system_prose), "") for rec in prose_task]
    return records


def write(path: Path, records: list[tuple[dict, str]], labels: dict) -> None:
    with path.open("w") as f:
        for line, (rec, label) in enumerate(records, 1):
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            labels[(str(path), line)] = label


def misses(labels: dict, findings: list, texts: dict, per_class: int = 60) -> list[str]:
    """Samples of planted records their rule missed and of clean records it flagged, for tuning."""
    flagged = defaultdict(set)
    for f in findings:
        flagged[f.code].add((f.file, f.line))
        for r in f.related:
            flagged[f.code].add((r.file, r.line))
    out = []
    for code in sorted(set(labels.values()) - {""}):
        missed = [key for key, label in labels.items() if label == code and key not in flagged[code]]
        false = [key for key in flagged[code] if labels.get(key) == ""]
        out.append(f"== {code}: {len(missed)} missed, {len(false)} clean flagged")
        out += [f"   MISS {texts[key][:300]!r}" for key in missed[:per_class]]
        out += [f"   FALSE {texts[key][:300]!r}" for key in false[:per_class]]
    return out


def fingerprint(line: str) -> str:
    return xxhash.xxh3_64_hexdigest(line.encode())


def review_lines(labels: dict, findings: list, texts: dict, sheet: str | None) -> list[str]:
    """The clean records flagged at warning/error level, judged against the hand review in REVIEW.

    A flagged record the review calls a real defect of the source data is not a false positive; one it
    calls false, or one it has never seen, is. With `sheet`, every flagged clean record is written there
    (fingerprint, rules, messages, record) for the next review."""
    review = json.loads(REVIEW.read_text()) if REVIEW.exists() else {}
    hits: dict[tuple[str, int], list] = defaultdict(list)
    for f in findings:
        if f.code.startswith(ISSUE_PREFIXES) and f.severity in ("warning", "error") and f.line is not None \
                and labels.get((f.file, f.line)) == "":
            hits[(f.file, f.line)].append(f)
    verdicts: Counter = Counter()
    by_rule: dict[str, Counter] = defaultdict(Counter)
    entries = []
    for key, found in sorted(hits.items()):
        fp = fingerprint(texts[key])
        verdict = review.get(fp, {}).get("verdict", "not reviewed")
        verdicts[verdict] += 1
        for code in {f.code for f in found}:
            by_rule[code][verdict] += 1
        entries.append({"fingerprint": fp, "file": Path(key[0]).name, "line": key[1], "rules": sorted({f.code for f in found}),
                        "messages": [f.message for f in found], "record": texts[key],
                        **({"verdict": verdict, "note": review[fp].get("note", "")} if fp in review else {})})
    if sheet:
        Path(sheet).write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")
    clean = sum(1 for label in labels.values() if label == "")
    false = verdicts["false"] + verdicts["not reviewed"]
    return [
        f"hand review ({REVIEW.name}, {len(review)} verdicts): of the {len(hits)} clean records flagged at warning/error "
        f"level, {verdicts['defect']} are real defects of the source data, {verdicts['false']} false positives, "
        f"{verdicts['not reviewed']} not reviewed (counted as false)",
        f"clean records falsely flagged after review: {false:,} of {clean:,} ({false / clean:.2%})",
        "per rule (defect / false / not reviewed): " + "; ".join(
            f"{code} {c['defect']}/{c['false']}/{c['not reviewed']}" for code, c in sorted(by_rule.items())),
    ]


def score(labels: dict[tuple[str, int], str], findings: list) -> tuple[list[str], dict]:
    flagged: dict[str, set] = defaultdict(set)
    severity: dict[str, str] = {}
    for f in findings:
        if not f.code.startswith(ISSUE_PREFIXES) or f.line is None:
            continue
        severity[f.code] = f.severity
        flagged[f.code].add((f.file, f.line))
        for r in f.related:  # a contradiction's finding names every record of its group
            flagged[f.code].add((r.file, r.line))
    planted = Counter(labels.values())
    lines = [f"{'rule':<6}{'severity':<9}{'planted':>8}{'flagged':>9}{'hits':>6}{'recall':>8}{'precision':>10}"
             f"{'clean flagged':>15}"]
    for code in sorted(set(planted) - {""} | set(flagged)):
        hits = sum(1 for key in flagged[code] if labels.get(key) == code)
        clean_hits = sum(1 for key in flagged[code] if labels.get(key) == "")
        n = planted.get(code, 0)
        recall = f"{hits / n:.3f}" if n else "-"
        precision = f"{hits / (hits + clean_hits):.3f}" if hits + clean_hits and n else "-"
        lines.append(f"{code:<6}{severity.get(code, '-'):<9}{n:>8}{len(flagged[code]):>9}{hits:>6}{recall:>8}{precision:>10}"
                     f"{clean_hits:>15}")
    clean = {key for key, label in labels.items() if label == ""}
    noisy = {key for code, keys in flagged.items() if severity.get(code) in ("warning", "error") for key in keys}
    any_flag = {key for keys in flagged.values() for key in keys}
    return lines, {"clean": len(clean), "warned": len(clean & noisy), "any": len(clean & any_flag)}


def emit(lines: list[str], out: str | None) -> int:
    """Print a script's result lines, and keep them in `out` (its --out) when given."""
    text = "\n".join(lines)
    print(text)
    if out:
        Path(out).write_text(text + "\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--misses", action="store_true", help="print samples of misses and false hits per class")
    parser.add_argument("--review-sheet", help="write the flagged clean records here (JSON) for a hand review")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} is missing: the benchmark needs the shared public datasets", file=sys.stderr)
        return 2
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        labels = build(Path(tmp), rng)
        files = sorted({file for file, _ in labels})
        report = ftdata.check(files, config_from_table({}))
        lines, clean = score(labels, report.findings)
        texts = {(f, n): line for f in files for n, line in enumerate(Path(f).read_text().splitlines(), 1)}
        reviewed = review_lines(labels, report.findings, texts, args.review_sheet)
        if args.misses:
            print("\n".join(misses(labels, report.findings, texts)))
    planted = sum(1 for label in labels.values() if label)
    out = [
        f"Labelled corpus: {len(labels):,} real records ({ALPACA_SAMPLE:,} sampled Alpaca + all FastChat, glaive and DPO "
        f"records, plus 3 synthetic-format tasks built from Alpaca), {planted:,} with a planted defect; seed {SEED}.",
        "Default settings. Precision counts every hit on an unplanted record as false, even a real defect;",
        "records planted with another class are left out of a rule's precision.",
        "",
        *lines,
        "",
        f"clean records: {clean['clean']:,}; flagged by any warning/error rule of this issue: {clean['warned']:,} "
        f"({clean['warned'] / clean['clean']:.2%}); by any rule incl. info: {clean['any']:,} ({clean['any'] / clean['clean']:.2%})",
        *reviewed,
    ]
    return emit(out, args.out)


if __name__ == "__main__":
    sys.exit(main())
