"""What near-duplicate verification reads waits on disk: it must come back exactly, across shards too."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.dedup import spill
from ftdata.dedup.index import NearDuplicateIndex
from ftdata.dedup.shingles import ShingleSets

texts = st.text(alphabet=st.characters(blacklist_categories=()), max_size=30)  # lone surrogates too
records = st.lists(st.tuples(st.lists(texts, max_size=3), st.lists(texts, max_size=3)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(records, max_size=5), flush=st.sampled_from([1, 64, 1 << 20]), data=st.data())
def test_texts_come_back_exactly_written_or_not_pickled_and_appended(batches, flush, data):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spill, "_FLUSH", flush)  # 1: every item goes to the file; 1 MiB: all stay in memory
        check_round_trip(batches, data)


def check_round_trip(batches, data):
    first, second = spill.SpilledTexts(), spill.SpilledTexts()
    for n, batch in enumerate(batches):
        (first if n % 2 == 0 else second).add(batch)
    expected = [r for n, batch in enumerate(batches) if n % 2 == 0 for r in batch]
    assert [first.of(i) for i in range(len(first))] == expected
    shard = pickle.loads(pickle.dumps(second))  # as a worker hands its shard over
    theirs = [r for n, batch in enumerate(batches) if n % 2 == 1 for r in batch]
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(theirs), max_size=len(theirs))), dtype=bool)
    first.append(shard, keep)
    assert [first.of(i) for i in range(len(first))] == expected + [r for r, k in zip(theirs, keep) if k]


def test_sets_come_back_exactly_and_a_large_batch_is_written_whole(monkeypatch):
    monkeypatch.setattr(spill, "_FLUSH", 1000)
    rng = np.random.default_rng(1)
    sizes = rng.integers(0, 400, 50)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    sets = ShingleSets(rng.integers(0, 2**32, offsets[-1], dtype=np.uint32), offsets)
    spilled = spill.SpilledSets()
    spilled.add(ShingleSets(sets.hashes[:0], np.zeros(1, np.int64)))  # an empty batch adds nothing
    spilled.add(sets)
    assert spilled._written == spilled.size == 4 * offsets[-1] and not spilled._pending
    assert all(np.array_equal(spilled.of(i), sets.of(i)) for i in range(len(sets)))
    assert spilled.nbytes() == 8 * len(sets)  # an offset per set in memory


def test_the_index_holds_a_few_bytes_a_text():
    words = [f"w{k}" for k in range(500)]
    rng = np.random.default_rng(2)
    texts = [" ".join(rng.choice(words, 60)) for _ in range(2000)]
    index = NearDuplicateIndex(shingle="word2")
    index.add(texts, parts=[([t], [t]) for t in texts])
    assert index.nbytes() / len(texts) <= 8 + 1 + 8 + 8  # group, has-shingles, two offsets
    assert index.spilled_bytes() > (8 * index.bands + 200) * len(texts)  # band keys, sets and texts on disk


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 30), max_size=6), flush=st.sampled_from([1, 64, 1 << 20]), data=st.data())
def test_band_keys_come_back_a_band_at_a_time_across_shards(sizes, flush, data):
    bands = 5
    rng = np.random.default_rng(len(sizes))
    batches = [rng.integers(0, 2**64, (n, bands), dtype=np.uint64) for n in sizes]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spill, "_FLUSH", flush)
        first, second = spill.SpilledBands(), spill.SpilledBands()
        half = len(batches) // 2
        for keys in batches[:half]:
            first.add(keys)
        for keys in batches[half:]:
            second.add(keys)
        theirs = np.concatenate([np.zeros((0, bands), np.uint64), *batches[half:]])
        keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(theirs), max_size=len(theirs))), dtype=bool)
        masked = data.draw(st.booleans())
        first.append(pickle.loads(pickle.dumps(second)), keep if masked else None)  # as a worker hands a shard over
        taken = theirs[keep] if masked else theirs
        expected = np.concatenate([np.zeros((0, bands), np.uint64), *batches[:half], taken])
        for band in range(bands):
            assert np.array_equal(first.band(band), expected[:, band])
