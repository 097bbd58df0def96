"""Length statistics, histogram and the two-sample comparison against independent computations."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.tokens import reference, stats

lengths = st.lists(st.integers(min_value=0, max_value=200_000), min_size=1, max_size=300)


@given(lengths)
@settings(max_examples=200, deadline=None)
def test_percentiles_are_labelled_as_numpy_computes_them(values):
    summary = stats.summarize(np.array(values, dtype=np.uint32))
    array = np.array(values, dtype=np.float64)
    for q in (5, 10, 50, 90, 95, 99):
        assert abs(summary[f"p{q}"] - np.percentile(array, q)) <= 0.01
    assert summary["min"] == min(values) and summary["max"] == max(values)
    assert summary["sum"] == sum(values) and summary["count"] == len(values)
    assert abs(summary["mean"] - sum(values) / len(values)) <= 0.01
    assert summary["p5"] <= summary["p10"] <= summary["p50"] <= summary["p90"] <= summary["p95"] <= summary["p99"]


@given(lengths)
@settings(max_examples=100, deadline=None)
def test_histogram_bins_cover_every_value_once(values):
    bins = stats.histogram(np.array(values))
    assert sum(b["count"] for b in bins) == len(values)
    for b in bins:
        assert b["count"] == sum(b["from"] <= v < b["to"] for v in values)


def test_lengths_column_round_trips():
    column = stats.Lengths()
    for v in (3, 0, 4_000_000_000):
        column.add(v)
    assert column.numpy().tolist() == [3, 0, 4_000_000_000] and len(column) == 3
    assert stats.summarize(stats.Lengths().numpy()) == {"count": 0, "sum": 0}


def test_role_shares_sum_to_one():
    shares = stats.role_shares({"user": 30, "assistant": 60, "layout": 10})
    assert shares == {"assistant": 0.6, "user": 0.3, "layout": 0.1}


def brute_force_ks(a, b) -> float:
    points = sorted(set(a) | set(b))
    return max(abs(sum(x <= p for x in a) / len(a) - sum(x <= p for x in b) / len(b)) for p in points)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=60), st.lists(st.integers(0, 50), min_size=1, max_size=60))
@settings(max_examples=200, deadline=None)
def test_ks_statistic_equals_brute_force(a, b):
    d, p = reference.ks_2samp(np.array(a), np.array(b))
    assert abs(d - brute_force_ks(a, b)) < 1e-12
    assert 0.0 <= p <= 1.0


def test_kolmogorov_tail_matches_the_critical_values():
    # the classical table: P(K > 1.358) = 0.05, P(K > 1.628) = 0.01, P(K > 1.224) = 0.10
    assert abs(reference.kolmogorov_survival(1.3581) - 0.05) < 5e-4
    assert abs(reference.kolmogorov_survival(1.6276) - 0.01) < 2e-4
    assert abs(reference.kolmogorov_survival(1.2238) - 0.10) < 5e-4


def test_comparison_flags_a_tenfold_length_gap_and_not_the_same_distribution():
    rng = np.random.default_rng(0)
    train = rng.normal(200, 40, 2000).clip(1)
    same = rng.normal(200, 40, 2000).clip(1)
    production = rng.normal(2000, 400, 2000).clip(1)
    far = reference.compare(train, production)
    assert far["ks_statistic"] == 1.0 and far["p_value"] < 1e-6
    assert 0.08 < far["train_to_reference_ratio"]["p50"] < 0.12
    assert reference.diverges(far, alpha=0.01, min_distance=0.2, max_ratio=2.0)
    near = reference.compare(train, same)
    assert near["p_value"] > 0.01
    assert not reference.diverges(near, alpha=0.01, min_distance=0.2, max_ratio=2.0)
