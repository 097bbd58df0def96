"""Shards: what merging the duplicates and contradictions stages costs against checking the records.

Run: PYTHONPATH=src python benchmarks/bench_dedup_merge.py [records] >> benchmarks/results/dedup.txt
Builds a synthetic chat file (planted near-duplicates and exact copies as answers, a third of the records
short-label classifications with conflicting labels), cuts it into 4 shards numbered as the executor does
(shard k's indices start at k << 40), runs each shard's `check` on its own stage instance (as a worker
would), pickles its `shard_state()`, then unpickles and merges the 4 states into a fresh stage and
finishes. Prints, per stage: check time over all shards, pickle/unpickle and merge time, the ratio
merge / check, pickled state per record, and finish time; and checks the merged findings and stats equal
one stage's over the whole file.
"""

import json
import pickle
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from planted import planted_corpus  # noqa: E402

from ftdata.config import Policy, config_from_table  # noqa: E402
from ftdata.pipeline import as_inputs  # noqa: E402
from ftdata.stages.base import Context  # noqa: E402
from ftdata.stages.contradictions import ContradictionsStage  # noqa: E402
from ftdata.stages.duplicates import DuplicatesStage  # noqa: E402
from ftdata.stages.parse import ParseStage  # noqa: E402
from ftdata.stages.read import ReadStage  # noqa: E402
from ftdata.stages.schema import SchemaStage  # noqa: E402
from ftdata.targets import load_target  # noqa: E402

SHARDS = 4


def synthetic_file(path: Path, records: int) -> None:
    rng = random.Random(1)
    answers, _ = planted_corpus(records * 2 // 3, seed=1)
    reviews, _ = planted_corpus(records // 6, seed=2, share=0, min_sentences=1, max_sentences=1)
    rows = [{"messages": [{"role": "user", "content": f"Continue story {rng.randrange(records)}."},
                          {"role": "assistant", "content": a}]} for a in answers]
    for review in reviews:
        for _ in range(2):  # each review twice, half the time with another label
            rows.append({"messages": [{"role": "user", "content": f"Sentiment of: {review}"},
                                      {"role": "assistant", "content": rng.choice(("positive", "negative"))}]})
    rows += [rows[i] for i in rng.sample(range(len(rows)), records - len(rows))]  # exact copies
    rng.shuffle(rows)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def read(path: Path) -> tuple[Context, list]:
    config = config_from_table({})
    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=as_inputs([path]))
    stream = ReadStage(ctx).whole(ctx.inputs)
    for stage in (ParseStage(ctx), SchemaStage(ctx)):
        stream = stage.run(stream)
    return ctx, list(stream)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def check_all(stage, examples):
    for example in examples:
        for _ in stage.check(example):
            pass
    return stage


def bench(cls, ctx, examples) -> None:
    size = len(examples) // SHARDS
    parts = [examples[k * size:(k + 1) * size if k < SHARDS - 1 else len(examples)] for k in range(SHARDS)]
    for k, part in enumerate(parts):
        for n, example in enumerate(part):
            example.index = (k << 40) + n
    whole, serial_check = timed(lambda: check_all(cls(ctx), examples))
    expected, serial_finish = timed(lambda: (list(whole.finish()), whole.stats()))

    check_seconds = pickle_seconds = 0.0
    blobs = []
    for part in parts:
        worker, seconds = timed(lambda: check_all(cls(ctx), part))
        check_seconds += seconds
        state, seconds = timed(worker.shard_state)  # flushing the last batch is check work too
        check_seconds += seconds
        blob, seconds = timed(lambda: pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
        pickle_seconds += seconds
        blobs.append(blob)
    merged = cls(ctx)
    unpickle_seconds = merge_seconds = 0.0
    for blob in blobs:
        state, seconds = timed(lambda: pickle.loads(blob))
        unpickle_seconds += seconds
        _, seconds = timed(lambda: merged.merge(state))
        merge_seconds += seconds
    result, finish_seconds = timed(lambda: (list(merged.finish()), merged.stats()))
    assert result == expected, f"{cls.name}: merged shards differ from one pass"
    findings = len(result[0])
    per_record = sum(len(b) for b in blobs) / len(examples)
    print(f"{cls.name}: {len(examples)} records in {SHARDS} shards, {findings} findings (equal to one pass)")
    print(f"  one pass: check {serial_check:6.2f} s, finish {serial_finish:5.2f} s")
    print(f"  shards:   check {check_seconds:6.2f} s (all workers' work), pickle {pickle_seconds:5.3f} s, "
          f"unpickle {unpickle_seconds:5.3f} s, merge {merge_seconds:5.3f} s, finish {finish_seconds:5.2f} s")
    print(f"  merge / check: {merge_seconds / check_seconds:.4f}   (merge + unpickle) / check: "
          f"{(merge_seconds + unpickle_seconds) / check_seconds:.4f}   pickled state {per_record:.0f} B/record")


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.jsonl"
        synthetic_file(path, records)
        ctx, examples = read(path)
    print(f"shard merge, {time.strftime('%Y-%m-%d')}: synthetic chat file (2/3 planted ~60-word answers, "
          "1/6 label answers asked twice, 1/6 exact copies)")
    for cls in (DuplicatesStage, ContradictionsStage):
        bench(cls, ctx, examples)


if __name__ == "__main__":
    main()
