"""Near-duplicate detection: ftdata against datasketch used naively and with MinHash.bulk.

Run: PYTHONPATH=src python benchmarks/bench_dedup.py > benchmarks/results/dedup.txt
Prints, for a synthetic file with planted near-duplicates and for the real Alpaca file: records/s
of ftdata's duplicate finder (normalise, shingle, sign, band, verify, cluster; the work of the
`duplicates` stage) as a ratio to the naive loop and to MinHash.bulk measured in the same run,
recall and precision on the planted pairs, and memory per record. Then the sweep that chose the
defaults (threshold, shingles, permutations); `--no-sweep` stops before it.
"""

import json
import sys
import time
import tracemalloc
from pathlib import Path

from datasketch import LeanMinHash, MinHash, MinHashLSH

sys.path.insert(0, str(Path(__file__).parent))
from planted import pair_scores, planted_chats, planted_corpus  # noqa: E402

from ftdata.dedup import DEFAULT_THRESHOLD, normalise  # noqa: E402
from ftdata.dedup.dataset import DuplicateFinder  # noqa: E402
from ftdata.records import Example, Message  # noqa: E402
from ftdata.stages.duplicates import compared  # noqa: E402

# ../shared/data from the repository root, or the folder given as the first argument
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1].parent / "shared" / "data"
ALPACA = DATA / "stanford_alpaca__alpaca_data.json"
NUM_PERM = 128


def bigrams(text: str) -> list[bytes]:
    words = text.split()
    return [f"{a} {b}".encode() for a, b in zip(words, words[1:])] or [text.encode()]


def naive_rate(texts: list[str]) -> float:
    """datasketch as its README shows it: one update() per shingle, sha1, then LSH inserts."""
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=DEFAULT_THRESHOLD, num_perm=NUM_PERM)
    for i, text in enumerate(texts):
        m = MinHash(num_perm=NUM_PERM)
        for shingle in bigrams(normalise(text, casefold=True)):
            m.update(shingle)
        lsh.insert(i, m)
    return len(texts) / (time.perf_counter() - start)


def bulk_rate(texts: list[str]) -> float:
    """MinHash.bulk over Python-shingled texts, LeanMinHash into an LSH insertion session."""
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=DEFAULT_THRESHOLD, num_perm=NUM_PERM)
    signatures = MinHash.bulk([bigrams(normalise(t, casefold=True)) for t in texts], num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, m in enumerate(signatures):
            session.insert(i, LeanMinHash(m))
    return len(texts) / (time.perf_counter() - start)


def ftdata_run(texts: list[str], **options):
    """Whole texts only: normalise, remember, cluster; returns (records/s, resolution, finder)."""
    start = time.perf_counter()
    finder = DuplicateFinder(**options)
    for text in texts:
        finder.add(normalise(text), "", "train")
    resolution = finder.resolve()
    return len(texts) / (time.perf_counter() - start), resolution, finder


def stage_run(examples: list[Example], **options):
    """As the duplicates stage compares records: text, prompt, answer, turns and names (see `compared`)."""
    start = time.perf_counter()
    finder = DuplicateFinder(**options)
    for example in examples:
        c = compared(example)
        finder.add(c.text, c.prompt, "train", 0.0, c.group, c.turns, c.named_in)
    resolution = finder.resolve()
    return len(examples) / (time.perf_counter() - start), resolution, finder


def peak_bytes_per_record(texts: list[str]) -> tuple[float, float]:
    tracemalloc.start()
    _, _, finder = ftdata_run(texts)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / len(texts), finder.nbytes() / len(texts)


def datasketch_lsh_bytes_per_record(texts: list[str]) -> float:
    sigs = MinHash.bulk([bigrams(t) for t in texts], num_perm=NUM_PERM)
    leans = [LeanMinHash(m) for m in sigs]
    tracemalloc.start()
    lsh = MinHashLSH(threshold=DEFAULT_THRESHOLD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, m in enumerate(leans):
            session.insert(i, m)
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return used / len(texts) + leans[0].hashvalues.nbytes  # index + the signature it needs kept


def clusters_of(resolution) -> list[list[int]]:
    return [sorted(c) for c in resolution.clusters]


def report_rates(name: str, texts: list[str], sample: int) -> None:
    naive = naive_rate(texts[:sample])
    bulk = bulk_rate(texts[: sample * 3])
    ours, resolution, _ = ftdata_run(texts)
    print(f"{name}: {len(texts)} records")
    print(f"  naive datasketch loop (update per shingle, sha1, LSH insert): {naive:8.0f} records/s")
    print(f"  datasketch MinHash.bulk + LeanMinHash + insertion_session:   {bulk:8.0f} records/s")
    print(f"  ftdata duplicate finder (defaults, true-Jaccard verified):  {ours:8.0f} records/s")
    print(f"  ratio to naive loop: {ours / naive:.1f}x   ratio to MinHash.bulk: {ours / bulk:.1f}x")
    print(f"  exact clusters {resolution.exact_clusters}, near clusters {resolution.near_clusters}, "
          f"records that go {len(resolution.removals)} ({len(resolution.removals) / len(texts):.2%})")


# A system prompt and a question template shared by every record (~60 words), as in tool-use and exam sets
SYSTEM = ("You are a helpful assistant for a retail company. Answer politely and concisely, cite the policy "
          "section you rely on, never invent order numbers, and ask for the order number when it is missing. "
          "If the question is outside retail support, say so and offer to connect the customer with a human agent.")
TEMPLATE = "Read the customer's message and answer it following the policy. Message:"


def report_templated() -> None:
    """Planted question/answer pairs as chat records, as the duplicates stage compares them."""
    chats, groups = planted_chats(20000, seed=3)
    examples = [Example(n, "planted", n + 1, b"", messages=[
        Message("system", SYSTEM, "messages[0]", "messages[0].content"),
        Message("user", f"{TEMPLATE} {q}", "messages[1]", "messages[1].content"),
        Message("assistant", a, "messages[2]", "messages[2].content")]) for n, (q, a) in enumerate(chats)]
    records = [f"system: {SYSTEM}\nuser: {TEMPLATE} {q}\nassistant: {a}" for q, a in chats]
    print("planted chats (20000: question 1-2 sentences, answer 1-6; 10% originals with 1-2 copies, each editing "
          "question and/or answer) under a shared ~60-word system prompt and question template:")
    for label, run, options in (
            ("boilerplate auto, compared as the stage does", stage_run, {}),
            ("boilerplate off,  compared as the stage does", stage_run, {"boilerplate": "off"}),
            ("boilerplate auto, whole texts only (no answer, turns, names)", ftdata_run, {})):
        rate, res, finder = run(examples if run is stage_run else records, **options)
        r, p = pair_scores(clusters_of(res), groups)
        print(f"  {label}: recall {r:.3f}, precision {p:.3f}, {len(finder.index.boilerplate)} shingles left out, "
              f"records that go {len(res.removals)}  {rate:6.0f}/s")
    print()


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    texts, groups = planted_corpus(20000, seed=1)
    print(f"defaults: threshold {DEFAULT_THRESHOLD}, shingle auto, {NUM_PERM} permutations, verify jaccard\n")
    report_rates("synthetic (2-8 sentences, ~60 words; 10% originals with 1-2 edited copies)", texts, 1000)
    _, resolution, finder = ftdata_run(texts)
    recall, precision = pair_scores(clusters_of(resolution), groups)
    print(f"  shingles chosen by auto: {finder.index.shingling}")
    print(f"  planted pairs: recall {recall:.3f}, precision {precision:.3f}")
    peak, kept = peak_bytes_per_record(texts)
    print(f"  memory: peak {peak:.0f} B/record while running (tracemalloc; includes fixed-size batch buffers, "
          "so it falls towards the kept figure as records grow), "
          f"{kept:.0f} B/record kept; datasketch MinHashLSH index alone: "
          f"{datasketch_lsh_bytes_per_record(texts[:5000]):.0f} B/record")
    print(f"  10M records at {kept:.0f} B/record kept: {kept * 1e7 / 2**30:.1f} GiB\n")
    report_templated()

    if ALPACA.exists():
        records = json.loads(ALPACA.read_bytes())
        alpaca = [f"user: {r['instruction']}\n{r['input']}\nassistant: {r['output']}" for r in records]
        report_rates("alpaca_data.json (real)", alpaca, 1000)
        peak, kept = peak_bytes_per_record(alpaca)
        print(f"  memory: peak {peak:.0f} B/record, {kept:.0f} B/record kept\n")
    else:
        print(f"alpaca: {ALPACA} absent, skipped\n")

    if "--no-sweep" in sys.argv:
        return
    print("sweep on the synthetic file (recall / precision on planted pairs, records/s):")
    first_10k = [kept for g in groups if len(kept := [m for m in g if m < 10000]) > 1]
    short, short_groups = planted_corpus(10000, seed=2, min_sentences=1, max_sentences=3)
    for label, corpus, truth in (("~60 words", texts[:10000], None), ("~24 words", short, short_groups)):
        if truth is None:
            truth = first_10k
        for shingle in ("word1", "word2", "word3", "word5", "char5"):
            cells = []
            for threshold in (0.5, 0.6, 0.7, 0.8):
                rate, res, _ = ftdata_run(corpus, threshold=threshold, shingle=shingle)
                r, p = pair_scores(clusters_of(res), truth)
                cells.append(f"{threshold}: {r:.3f}/{p:.3f} {rate:6.0f}/s")
            print(f"  {label} {shingle:5}  " + "   ".join(cells))
    for num_perm in (64, 128, 256):
        rate, res, _ = ftdata_run(texts[:10000], num_perm=num_perm)
        r, p = pair_scores(clusters_of(res), first_10k)
        print(f"  ~60 words, defaults, {num_perm:3} permutations: recall {r:.3f} precision {p:.3f} {rate:6.0f}/s")
    for verify in ("jaccard", "signature", "none"):
        rate, res, _ = ftdata_run(texts[:10000], verify=verify)
        r, p = pair_scores(clusters_of(res), first_10k)
        print(f"  ~60 words, defaults, verify={verify:9}: recall {r:.3f} precision {p:.3f} {rate:6.0f}/s")


if __name__ == "__main__":
    main()
