"""How well the judge's score separates planted-defect records from clean real ones (AUC).

Clean records: a seeded sample of real Alpaca records (../shared/data) with an ordinary output (40-600
characters, no placeholder, not about a picture or a link). Defective records: another sample of them,
each with one planted defect, in turn:
  mismatched  the output of another, unrelated record (a wrong answer no rule can see)
  truncated   the output cut after a third of its words
  refusal     an AI-assistant refusal instead of the answer
  empty       an empty output
  repeated    the output's first sentence repeated eight times
Every record goes through `ftdata.judge` (the shipped general rubric, structured replies, no cache), and
AUC = P(a defective record's overall score < a clean one's), ties counting half; 0.5 is chance. In the
same run, the same records' risk score from `ftdata review queue` (check findings and lengths, no judge)
is scored the same way, as the baseline a judge has to beat.

The harness is the same for any endpoint:
  python benchmarks/bench_judge.py --base-url http://host/v1 --model NAME [--n 24] [--out FILE]
Without --base-url it starts the local llama.cpp server (SmolLM2-135M) with `python -m ftdata.llm.local`.
"""

import argparse
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from ftdata.judge import JUDGE_KEY
from ftdata.judge.rubric import load_rubric
from ftdata.judge.run import judge
from ftdata.llm import LLMClient
from ftdata.review.queue import build_queue
from ftdata.review.store import Store

DATA = next((p / "shared" / "data" for p in Path(__file__).resolve().parents[1:] if (p / "shared" / "data").is_dir()),
            Path(__file__).resolve().parents[2] / "shared" / "data")
ALPACA = DATA / "stanford_alpaca__alpaca_data.json"
DEFECTS = ("mismatched", "truncated", "refusal", "empty", "repeated")
REFUSAL = "I'm sorry, but as an AI language model I cannot help with that request."
SEED = 20261203


def ordinary(r: dict) -> bool:
    text = (r["instruction"] + r["input"] + r["output"]).lower()
    return 40 <= len(r["output"]) <= 600 and "<" not in text and not any(
        w in text for w in ("image", "picture", "photo", "link", "url", "http", "video"))


def plant(kind: str, r: dict, other: dict) -> dict:
    out = r["output"]
    if kind == "mismatched":
        out = other["output"]
    elif kind == "truncated":
        words = out.split()
        out = " ".join(words[: max(2, len(words) // 3)])
    elif kind == "refusal":
        out = REFUSAL
    elif kind == "empty":
        out = ""
    elif kind == "repeated":
        first = out.split(". ")[0].rstrip(".") + "."
        out = " ".join([first] * 8)
    return {**r, "output": out}


def auc(bad: list[float], good: list[float]) -> float:
    """P(badness of a defective record > badness of a clean one), ties half."""
    wins = sum((b > g) + 0.5 * (b == g) for b in bad for g in good)
    return wins / (len(bad) * len(good))


def corpus(n: int) -> tuple[list[dict], list[str]]:
    records = [r for r in json.loads(ALPACA.read_text()) if ordinary(r)]
    rng = random.Random(SEED)
    picked = rng.sample(records, 3 * n)
    clean, to_plant, donors = picked[:n], picked[n:2 * n], picked[2 * n:]
    planted = [plant(DEFECTS[i % len(DEFECTS)], r, donors[i]) for i, r in enumerate(to_plant)]
    labels = ["clean"] * n + [DEFECTS[i % len(DEFECTS)] for i in range(n)]
    rows = clean + planted
    order = list(range(len(rows)))
    rng.shuffle(order)  # clean and planted interleaved: nothing about position to learn
    return [rows[i] for i in order], [labels[i] for i in order]


def local_server() -> tuple[subprocess.Popen, str, str]:
    from ftdata.llm.local import MODEL_NAME, fetch_model

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "ftdata.llm.local", "--port", str(port), "--model",
                                str(fetch_model())], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/models", timeout=5).read()
            return process, url, MODEL_NAME
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the local LLM server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="clean records, and as many planted ones")
    parser.add_argument("--base-url")
    parser.add_argument("--model")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not ALPACA.is_file():
        raise SystemExit(f"skipped: {ALPACA} is not present (the shared data sits beside the checkout)")
    process = None
    url, model = args.base_url, args.model
    if not url:
        process, url, model = local_server()
    try:
        rows, labels = corpus(args.n)
        with tempfile.TemporaryDirectory() as tmp:
            source, scored = Path(tmp) / "labelled.jsonl", Path(tmp) / "scored.jsonl"
            source.write_text("".join(json.dumps(r) + "\n" for r in rows))
            client = LLMClient(model, url, cache=None, concurrency=args.concurrency)
            started = time.perf_counter()
            summary = judge(str(source), scored, load_rubric("general"), client, max_tokens=args.max_tokens)
            seconds = time.perf_counter() - started
            judged = [json.loads(line).get(JUDGE_KEY, {}) for line in scored.read_text().splitlines()]
            build_queue(str(source), Path(tmp) / "review.sqlite", fraction=1.0, audit=0.0)
            store = Store(Path(tmp) / "review.sqlite")
            risk = [row["risk"] for row in store.present()]
            store.close()
    finally:
        if process:
            process.terminate()
            process.wait()
    lines = report(labels, judged, risk, summary, seconds, model, url if args.base_url else "local llama.cpp server")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text)


def report(labels, judged, risk, summary, seconds, model, where) -> list[str]:
    scored = [(label, j) for label, j in zip(labels, judged) if "overall" in j]
    badness = {label: [] for label in ("clean", *DEFECTS)}
    for label, j in scored:
        badness[label].append(5 - j["overall"])
    risk_by = {label: [] for label in ("clean", *DEFECTS)}
    for label, r in zip(labels, risk):
        risk_by[label].append(r)
    bad = [b for d in DEFECTS for b in badness[d]]
    n = len(labels)
    lines = [f"Judge separation: {n // 2} clean Alpaca records vs {n // 2} with one planted defect each "
             f"({', '.join(DEFECTS)}); seed {SEED}.",
             f"Model {model} at {where}; general rubric, structured replies, temperature 0; "
             f"{seconds:.0f} s for {n} records ({seconds / n:.1f} s each, this run).",
             f"Replies parsed: {len(scored)} of {n} ({summary['unparsed_reply']} unparsed, "
             f"{summary['call_failed']} failed calls).", ""]
    def fmt(x):
        return "   -" if x is None else f"{x:.3f}"
    lines.append("defect       records  judge AUC  check-risk AUC")
    for d in ("all", *DEFECTS):
        b = bad if d == "all" else badness[d]
        rb = [r for x in DEFECTS for r in risk_by[x]] if d == "all" else risk_by[d]
        a = auc(b, badness["clean"]) if b and badness["clean"] else None
        lines.append(f"{d:<12} {len(rb):>7}  {fmt(a):>9}  {fmt(auc(rb, risk_by['clean'])):>14}")
    overall = Counter(j["overall"] for _, j in scored)
    verdicts = Counter((label == "clean", j["verdict"]) for label, j in scored)
    lines += ["", f"distinct overall scores: {len(overall)} ({', '.join(f'{k}: {v}' for k, v in overall.most_common(5))})",
              "verdicts, clean records: " + ", ".join(f"{v} {verdicts[(True, v)]}" for v in ("keep", "review", "discard")),
              "verdicts, planted records: " + ", ".join(f"{v} {verdicts[(False, v)]}" for v in ("keep", "review", "discard"))]
    return lines


if __name__ == "__main__":
    main()
