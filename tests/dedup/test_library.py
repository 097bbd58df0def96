import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given
from hypothesis import strategies as st

from ftdata.dedup import NearDuplicateIndex, near_duplicate_groups, normalise
from ftdata.dedup.cluster import candidate_pairs, connected
from ftdata.dedup.minhash import band_keys, lean, signatures
from ftdata.dedup.shingles import Shingling, shingle_batch

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from planted import pair_scores, planted_corpus  # noqa: E402

FOX = "The quick brown fox jumps over the lazy dog near the old river bank this morning, then naps."


def test_normalise_nfc_whitespace_and_optional_case():
    assert normalise("  Cafe\u0301 \t au\n\nlait ") == "Caf\u00e9 au lait"
    assert normalise("A  B", casefold=True) == "a b"


@pytest.mark.parametrize("spec", ["word1", "word3", "char5"])
def test_signatures_equal_datasketch_minhash_over_the_same_shingles(spec):
    texts = [FOX, "", "two words", "Ünïcode wörds, and punctuation!", FOX.upper()]
    sets = shingle_batch(texts, Shingling.parse(spec))
    sigs = signatures(sets, num_perm=64, seed=7)
    for i in range(len(texts)):
        reference = MinHash(num_perm=64, seed=7, hashfunc=lambda h: h)
        reference.update_batch(sets.of(i).tolist())
        assert (reference.hashvalues == sigs[i]).all()
    assert lean(sigs[0], seed=7).jaccard(lean(sigs[4], seed=7)) == 1.0  # case never matters


def test_word_shingles_stay_inside_each_text():
    alone = shingle_batch(["alpha beta gamma", "delta epsilon zeta"], Shingling.parse("word2"))
    assert alone.sizes().tolist() == [2, 2]
    with_empty = shingle_batch(["", "alpha beta gamma", "", "delta epsilon zeta", ""], Shingling.parse("word2"))
    assert with_empty.sizes().tolist() == [0, 2, 0, 2, 0]
    assert (with_empty.of(1) == alone.of(0)).all() and (with_empty.of(3) == alone.of(1)).all()
    for spec in ("word2", "char5"):
        assert shingle_batch(["", ""], Shingling.parse(spec)).sizes().tolist() == [0, 0]


@pytest.mark.parametrize("spec", ["word2", "word3", "char5"])
def test_shingling_in_runs_of_bytes_gives_each_text_the_same_set(spec, monkeypatch):
    from ftdata.dedup import shingles
    texts = ["", "a b", "one two three four five six", "x" * 3000, "zebra " * 40, "é ü 日本 text", "y z"] * 5
    whole = shingle_batch(texts, Shingling.parse(spec))
    for run_bytes in (1, 7, 100, 2999, 5000):
        monkeypatch.setattr(shingles, "CHUNK_BYTES", run_bytes)
        runs = shingle_batch(texts, Shingling.parse(spec))
        assert np.array_equal(runs.offsets, whole.offsets) and np.array_equal(runs.hashes, whole.hashes)


def test_near_duplicate_groups_finds_edits_and_keeps_unrelated_apart():
    items = [
        ("a", FOX),
        ("b", FOX.replace("jumps", "leaps")),
        ("c", "Whisk two eggs with sugar, fold in the flour and bake for twenty minutes at 180 degrees."),
        ("d", "  " + FOX.lower() + "  "),
        ("e", ""),
        ("f", ""),
        ("g", "Whisk two eggs with sugar, fold in the flour and bake for twenty minutes at 180 degrees!"),
    ]
    assert near_duplicate_groups(items) == [["a", "b", "d"], ["c", "g"]]
    assert near_duplicate_groups(items[2:3] + items[0:1]) == []
    assert near_duplicate_groups([]) == []


def test_verification_rejects_pairs_below_the_threshold():
    # identical first half, different second half: Jaccard well under 0.9
    half = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    items = [(1, half + " apples pears plums figs"), (2, half + " cars vans buses bikes")]  # Jaccard 16/24
    assert near_duplicate_groups(items, threshold=0.7, shingle="word1") == []
    assert near_duplicate_groups(items, threshold=0.6, shingle="word1") == [[1, 2]]


def test_planted_corpus_recall_and_precision():
    texts, groups = planted_corpus(3000, seed=3)
    found = near_duplicate_groups(enumerate(texts))
    recall, precision = pair_scores(found, groups)
    assert recall >= 0.95 and precision >= 0.99


def test_index_streams_batches_like_one_batch():
    texts, _ = planted_corpus(600, seed=5)
    whole = NearDuplicateIndex(shingle="word2")
    whole.add(texts)
    streamed = NearDuplicateIndex(shingle="word2")
    for start in range(0, len(texts), 100):
        streamed.add(texts[start:start + 100])
    assert whole.clusters() == streamed.clusters() != []


def test_verify_budget_passes_over_joined_pairs_and_counts_what_it_skips():
    texts, _ = planted_corpus(600, seed=5)
    texts += [t + " again" for t in texts] + [t.replace(" ", "  ") + " more" for t in texts]  # clusters of 3+
    full = NearDuplicateIndex(shingle="word2")
    full.add(texts)
    everything = full.clusters()
    # fewer checks than candidates, enough once pairs inside a cluster are passed over: the same clusters
    enough = NearDuplicateIndex(shingle="word2", verify_budget=0.8)
    enough.add(texts)
    assert enough.clusters() == everything and enough.candidates > 0.8 * len(texts) and enough.unverified == 0
    assert len(enough.pairs()) <= 0.8 * len(texts) < len(full.pairs())
    # too few: some candidates go unchecked, and every cluster found lies within one of the full run's
    short = NearDuplicateIndex(shingle="word2", verify_budget=0.3)
    short.add(texts)
    found = short.clusters()
    assert short.unverified > 0 and found != everything
    owner = {m: n for n, cluster in enumerate(everything) for m in cluster}
    assert all(len({owner[m] for m in cluster}) == 1 for cluster in found)
    unlimited = NearDuplicateIndex(shingle="word2", verify_budget=-1)
    unlimited.add(texts)
    assert unlimited.clusters() == everything and unlimited.unverified == 0


def test_candidate_pairs_star_per_bucket_and_union_find():
    keys = np.array([[5, 1], [5, 2], [7, 3], [5, 3]], dtype=np.uint64)
    assert candidate_pairs(keys.T).tolist() == [[0, 1], [0, 3], [2, 3]]
    assert connected(np.array([[0, 1], [4, 5], [1, 2]])) == [[0, 1, 2], [4, 5]]


def test_band_keys_equal_only_for_equal_rows():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [2, 1, 3, 4]], dtype=np.uint32)
    keys = band_keys(sigs, bands=2, rows=2)
    assert keys[0, 0] == keys[1, 0] and keys[0, 1] != keys[1, 1]
    assert keys[0, 0] != keys[2, 0] and keys[0, 1] == keys[2, 1]


def test_lsh_params_are_datasketchs_without_importing_it():
    from datasketch.lsh import _optimal_param

    from ftdata.dedup.minhash import lsh_params

    for num_perm in (32, 128, 256):
        for threshold in (0.3, 0.45, 0.5, 0.6, 0.7, 0.85, 0.95):
            assert lsh_params(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5), (threshold, num_perm)


def test_the_whitespace_collapsed_is_what_str_split_splits_on():
    from ftdata.dedup import text

    assert text._OTHER_SPACES == tuple(c for c in map(chr, range(0x110000)) if c.isspace() and c != " ")
    assert text._ASCII_OTHER_SPACES == tuple("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")


@given(st.lists(st.sampled_from(["a", "b", " ", "  ", "\t", "\n", "\x1c", "\x85", "\u2028", "\u3000", "\xa0", "é",
                                 "\u200b", "\x0b", "中"])).map("".join) | st.text())
def test_collapse_spaces_is_split_and_join(sample):
    from ftdata.dedup.text import collapse_spaces

    assert collapse_spaces(sample) == " ".join(sample.split())
    assert collapse_spaces(" " * 1000 + sample + "\n" * 999) == " ".join(sample.split())


def test_a_huge_text_is_shingled_on_its_head_and_tail():
    from ftdata.dedup.shingles import NEAR_CHARS, sample

    words = [f"w{k}" for k in range(NEAR_CHARS)]  # ~5 characters each: far over the cap
    huge = " ".join(words)
    assert sample(FOX) == FOX and len(sample(huge)) == NEAR_CHARS + 1
    assert sample(huge).startswith("w0 w1 ") and sample(huge).endswith(words[-1])
    shingling = Shingling.parse("word2")
    assert np.array_equal(shingle_batch([huge], shingling).hashes, shingle_batch([sample(huge)], shingling).hashes)


def test_one_huge_record_costs_a_small_multiple_of_its_size():
    import tracemalloc

    from ftdata.dedup.dataset import DuplicateFinder
    from ftdata.records import Example, Message
    from ftdata.stages.duplicates import compared

    answer = " ".join(f"word{k % 5000} and" for k in range(500_000))  # 6 MB
    example = Example(0, "f", 1, b"", messages=[Message("user", "Write it all.", "m[0]", "m[0].content"),
                                                Message("assistant", answer, "m[1]", "m[1].content")])
    tracemalloc.start()
    try:
        c = compared(example)
        finder = DuplicateFinder()
        finder.add(c.text, c.prompt, turns=c.turns, named_in=c.named_in)
        finder.resolve()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(answer)  # shingling every word of it took ~44 times its size


def test_the_numbers_of_an_answer_set_its_group_in_any_script():
    from ftdata.dedup.text import near_group

    assert near_group([], "assistant: no figures here") == 0
    assert near_group([], "assistant: 12 apples") == near_group([], "assistant: 12 pears") != 0
    assert near_group([], "assistant: ١٢ apples") not in (0, near_group([], "assistant: 12 apples"))  # Arabic-Indic
    assert near_group([], "assistant: «12» pommes") == near_group([], "assistant: 12 apples")
