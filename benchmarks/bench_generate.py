"""The LLM client's overhead, cache-hit resume time and generate's yield, against the real local server.

    python benchmarks/bench_generate.py [--calls 16] [--max-tokens 24] [--rounds 2] [--out FILE]

Starts llama.cpp's server (`python -m ftdata.llm.local`, SmolLM2-135M, one thread, 8 slots) on a free
loopback port. For each concurrency (1, 2, 4, 8) it times the same calls made by a bare `openai`
AsyncOpenAI loop (a semaphore and gather) and by `LLMClient` (no cache; then with a fresh cache, which
adds a SQLite write per call), in alternating order, best of --rounds; wall time, and this process's CPU
time per call (what the client itself costs, which the server's noise does not blur). Prompt caching in the server is
off for every call (`cache_prompt: false`), so no variant is served from another's work. Then:
cache-hit resume (the same client run again on its cache) against the run that filled it, and
`generate()` with the answers recipe (user price $0.15 / $0.60 per million tokens, gpt-4o-mini's list
price) for yield and cost per kept record. Timings on this shared 2-core machine vary a lot between
runs; the ratios are within one run.
"""

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import openai

from ftdata.generate import generate, load_recipe
from ftdata.llm import CallCache, LLMClient, Pricing, Request
from ftdata.llm.local import MODEL_NAME, fetch_model

CONCURRENCY = (1, 2, 4, 8)
PRICE = Pricing(0.15, 0.60, "user price (gpt-4o-mini list price)")


def start_server(port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "ftdata.llm.local", "--port", str(port), "--parallel", "8",
                                "--model", str(fetch_model())], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=5).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the local server did not start")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests(calls: int, max_tokens: int, tag: str) -> list[Request]:
    params = {"max_tokens": max_tokens, "temperature": 0, "extra_body": {"cache_prompt": False}}
    return [Request([{"role": "user", "content": f"Write a sentence about the number {i} ({tag})."}], params,
                    "bench@1", str(i)) for i in range(calls)]


async def bare(url: str, batch: list[Request], concurrency: int) -> float:
    api = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=6)
    slots = asyncio.Semaphore(concurrency)

    async def one(request: Request):
        async with slots:
            return await api.chat.completions.create(model=MODEL_NAME, messages=request.messages, **request.params)

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(r) for r in batch))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    await api.close()
    return seconds, cpu


def ftdata_run(url: str, batch: list[Request], concurrency: int, cache: CallCache | None) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one client run."""
    client = LLMClient(MODEL_NAME, url, cache=cache, pricing=PRICE, concurrency=concurrency)
    start, cpu = time.perf_counter(), time.process_time()
    results = client.run(batch)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return seconds, cpu


class Lines(list):
    """The result lines, each printed as it comes (a run takes minutes)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)

    def __iadd__(self, more):
        for line in more:
            self.append(line)
        return self


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/v1"
    lines = Lines()
    lines += [f"# python benchmarks/bench_generate.py --calls {args.calls} --max-tokens {args.max_tokens} "
             f"--rounds {args.rounds}  ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, shared 2-core machine)",
             f"local server: llama.cpp (xllamacpp) + {MODEL_NAME}, 1 thread, 8 slots; {args.calls} calls of "
             f"max_tokens={args.max_tokens}, temperature 0; best of {args.rounds} rounds, order alternating"]
    try:
        with tempfile.TemporaryDirectory() as folder:
            best: dict[str, float] = {}
            for c in CONCURRENCY:
                times: dict[str, list[tuple[float, float]]] = {"bare": [], "ftdata": [], "ftdata+cache": []}
                for r in range(args.rounds):
                    batch = requests(args.calls, args.max_tokens, f"c{c}r{r}")
                    order = ["bare", "ftdata", "ftdata+cache"] if r % 2 == 0 else ["ftdata+cache", "ftdata", "bare"]
                    for variant in order:
                        if variant == "bare":
                            times[variant].append(asyncio.run(bare(url, batch, c)))
                        else:
                            cache = CallCache(Path(folder) / f"{c}-{r}.sqlite") if variant == "ftdata+cache" else None
                            times[variant].append(ftdata_run(url, batch, c, cache))
                row = {k: min(wall for wall, _ in v) for k, v in times.items()}
                cpu = {k: min(c for _, c in v) / args.calls * 1000 for k, v in times.items()}
                for k, v in row.items():
                    best[k] = max(best.get(k, 0.0), args.calls / v)
                lines.append(f"  concurrency {c}: bare openai {args.calls / row['bare']:.2f} calls/s, ftdata "
                             f"{args.calls / row['ftdata']:.2f} (overhead {row['ftdata'] / row['bare'] - 1:+.1%}), "
                             f"ftdata with cache {args.calls / row['ftdata+cache']:.2f} "
                             f"(overhead {row['ftdata+cache'] / row['bare'] - 1:+.1%}); client CPU per call: bare "
                             f"{cpu['bare']:.1f} ms, ftdata {cpu['ftdata']:.1f} ms, with cache {cpu['ftdata+cache']:.1f} ms "
                             f"(ftdata's extra CPU = {(cpu['ftdata+cache'] - cpu['bare']) / (row['bare'] / args.calls * 1000):.1%} "
                             "of the bare wall time per call)")
            lines.append(f"  best throughput: bare {best['bare']:.2f} calls/s (the server's limit here), ftdata "
                         f"{best['ftdata']:.2f} ({best['ftdata'] / best['bare']:.1%} of it), with cache "
                         f"{best['ftdata+cache']:.2f} ({best['ftdata+cache'] / best['bare']:.1%})")

            cache = CallCache(Path(folder) / "resume.sqlite")
            batch = requests(args.calls, args.max_tokens, "resume")
            original, _ = ftdata_run(url, batch, 4, cache)
            resumed, _ = ftdata_run(url, batch, 4, cache)
            lines.append(f"  cache-hit resume: original run {original:.2f} s, resumed {resumed * 1000:.1f} ms "
                         f"({resumed / original:.2%} of the original)")

            prompts = Path(folder) / "prompts.jsonl"
            topics = ["sleep", "tea", "rain", "maps", "bread", "music", "chess", "rivers"]
            prompts.write_text("".join(json.dumps({"prompt": f"Give one practical tip about {t}."}) + "\n"
                                       for t in topics))
            client = LLMClient(MODEL_NAME, url, cache=CallCache(Path(folder) / "gen.sqlite"), pricing=PRICE,
                               concurrency=4)
            report = generate(load_recipe("answers"), client, Path(folder) / "gen.jsonl", prompts=str(prompts),
                              rejected=Path(folder) / "rej.jsonl", params={"max_tokens": 96}).to_json()
            lines.append(f"  generate answers (max_tokens 96, {len(topics)} prompts): {report['generated']} generated, "
                         f"{report['kept']} kept, yield {report['yield']:.0%}, rejected by {report['reasons']}; "
                         f"${report['calls']['cost_usd']:.6f} in all, ${report['cost_per_kept_usd'] or 0:.6f} per kept "
                         f"record at {PRICE.source}")
    finally:
        server.terminate()
        server.wait()
    text = "\n".join(lines) + "\n"
    if args.out:
        with args.out.open("a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
