"""The distinct-prompt sketch: close to exact counts, mergeable, and a default check that loads no scipy."""

import subprocess
import sys
from pathlib import Path

import xxhash

from ftdata.quality.distinct import DistinctCounter

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "chat_with_defects.jsonl"


def _hashes(start: int, stop: int) -> list[int]:
    return [xxhash.xxh3_64_intdigest(f"prompt {i}".encode()) for i in range(start, stop)]


def test_counts_are_close_and_repeats_do_not_count():
    for n in (1, 50, 3_000, 40_000, 150_000):
        counter = DistinctCounter()
        for h in _hashes(0, n) * 2:
            counter.add(h)
        assert abs(counter.count() / n - 1) < 0.03, n
    assert DistinctCounter().count() == 0


def test_merged_shards_count_what_one_pass_counts():
    whole, first, second = DistinctCounter(), DistinctCounter(), DistinctCounter()
    for h in _hashes(0, 30_000):
        whole.add(h)
        (first if h % 3 else second).add(h)
    first.merge(second)
    assert first.count() == whole.count() and first.registers == whole.registers


def test_a_default_check_loads_neither_datasketch_nor_scipy():
    script = ("import sys, ftdata; ftdata.check([sys.argv[1]], ftdata.Config(), jobs=1); "
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'datasketch', 'scipy'}))")
    out = subprocess.run([sys.executable, "-c", script, str(SAMPLE)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
