"""Epochs and dollars against hand computations from the providers' published prices (rules/prices.toml)."""

import numpy as np
import pytest

from ftdata.errors import UsageError
from ftdata.tokens import cost

SEED_5M = np.full(10_000, 500)  # the seed's example: 10,000 examples, ~5M training tokens


def price(provider, model, method="lora"):
    return cost.select(cost.load_prices(), provider, model, method)[0]


@pytest.mark.parametrize("examples, epochs", [
    (1, 25), (3, 25), (10, 10), (33, 3), (34, 3), (40, 3), (5_000, 3), (8_333, 3), (8_334, 2),
    (10_000, 2), (20_000, 1), (30_000, 1), (0, 3),
])
def test_openai_default_epochs(examples, epochs):
    # target 3; n*3 < 100 -> min(25, 100 // n); n*3 > 25,000 -> max(1, 25,000 // n)
    assert cost.openai_epochs(examples) == epochs


@pytest.mark.parametrize("provider, model, method, usd", [
    ("openai", "gpt-4o-mini", "lora", (15.0, 15.0)),        # $3.00 per 1M (the seed's $25 gave $125)
    ("openai", "gpt-4o", "lora", (125.0, 125.0)),           # $25.00 per 1M (the seed's $100 gave $500)
    ("fireworks", "llama-3.3-8b", "lora", (2.5, 2.5)),      # $0.50 per 1M (the seed's $5 gave $25)
    ("fireworks", "llama-3.3-70b", "lora", (15.0, 15.0)),   # $3.00 per 1M (the seed's $16 gave $80)
    ("together", "llama-3.3-70b", "lora", (70.0, 70.0)),    # unverified: the seed's $14
    ("together", "llama-3.3-8b", "lora", (22.5, 22.5)),
    ("mistral", "mistral-large-2", "lora", (100.0, 100.0)),
    ("mistral", "mistral-small", "lora", (50.0, 50.0)),
    ("self-hosted", "llama-3.3-70b", "full", (176.0, 176.0)),  # 8xH100 at $44/h for ~4 hours
    ("vertex", "gemini-flash", "lora", (40.0, 75.0)),           # unverified: the seed's ~$8-15 per 1M
])
def test_training_cost_of_the_seed_example(provider, model, method, usd):
    estimate = cost.estimate(price(provider, model, method), SEED_5M, "test", epochs=1)
    assert estimate.billed_tokens == 5_000_000
    assert estimate.training_usd == pytest.approx(usd)


def test_openai_default_epochs_and_truncation_enter_the_bill():
    estimate = cost.estimate(price("openai", "gpt-4o-mini"), SEED_5M, "test")
    assert estimate.epochs == 2 and estimate.billed_tokens == 10_000_000
    assert estimate.training_usd[0] == pytest.approx(30.0)
    # gpt-3.5-turbo keeps 16,385 tokens of an example; 2 examples get 25 epochs (100 // 2, at most 25)
    short = cost.estimate(price("openai", "gpt-3.5-turbo"), np.array([20_000, 100]), "test")
    assert short.epochs == 25 and short.billed_tokens == (16_385 + 100) * 25
    assert short.training_usd[0] == pytest.approx(16_485 * 25 / 1e6 * 8.00)


@pytest.mark.parametrize("provider, model, total", [
    ("together", "llama-3.3-70b", 3_766.0),   # $70 + 6 x $616 (seed: $3,766)
    ("together", "llama-3.3-8b", 778.5),      # $22.50 + 6 x $126 (seed: $778)
    ("fireworks", "llama-3.3-70b", 3_795.0),  # $15 + 6 x $630 (seed, with its $16 training price: $3,860)
    ("mistral", "mistral-small", 1_220.0),    # $50 + 6 x (500 x $0.15 + 200 x $0.60 = $195); seed ($0.20/$0.20): $890
    # 500 x $0.30 + 200 x $1.20 per 1M requests = $390 a month: $15 + 6 x $390
    ("openai", "gpt-4o-mini", 2_355.0),
])
def test_total_cost_of_ownership(provider, model, total):
    estimate = cost.estimate(price(provider, model), SEED_5M, "test", epochs=1, mean_prompt=500,
                             mean_completion=200, requests_per_month=1_000_000, months=6)
    assert estimate.total_usd[0] == pytest.approx(total)
    assert estimate.to_json()["total_usd"] == pytest.approx(total)


def test_no_inference_price_says_so():
    estimate = cost.estimate(price("vertex", "gemini-pro"), SEED_5M, "test", epochs=1, requests_per_month=10)
    assert estimate.total_usd is None
    assert any("no inference price" in n for n in estimate.notes)


def test_user_prices_replace_and_add():
    prices = cost.load_prices([
        {"provider": "openai", "model": "gpt-4o-mini", "method": "lora", "training_per_million": 3.0},
        {"provider": "acme", "model": "llama-3.3-8b", "method": "full", "hourly": 10.0, "tokens_per_hour": [1e6, 2e6]},
    ])
    mini = cost.select(prices, "openai", "gpt-4o-mini")
    assert len(mini) == 1 and mini[0].training_per_million == (3.0, 3.0) and mini[0].source == "user config"
    acme = cost.estimate(cost.select(prices, "acme")[0], SEED_5M, "test", epochs=1)
    assert acme.training_usd == pytest.approx((25.0, 50.0))


@pytest.mark.parametrize("entry, message", [
    ({"provider": "x", "model": "m", "method": "qlora", "training_per_million": 1}, "method must be one of"),
    ({"provider": "x", "model": "m", "method": "lora"}, "needs training_per_million"),
    ({"provider": "x", "model": "m", "method": "lora", "training_per_million": "cheap"}, "must be a number"),
    ({"provider": "x", "model": "m", "method": "lora", "training_per_million": 1, "colour": 1}, "unknown price keys"),
])
def test_bad_user_prices_are_usage_errors(entry, message):
    with pytest.raises(UsageError, match=message):
        cost.load_prices([entry])


def test_every_seed_provider_is_priced_and_selection_errors_name_the_options():
    providers = {p.provider for p in cost.load_prices()}
    assert providers == {"openai", "together", "fireworks", "mistral", "vertex", "self-hosted"}
    with pytest.raises(UsageError, match="no price for anthropic.*openai/gpt-4o-mini/lora"):
        cost.select(cost.load_prices(), provider="anthropic")
    assert cost.select(cost.load_prices(), model="gpt-4o-mini-2024-07-18")[0].model == "gpt-4o-mini"


def test_seed_prices_are_gone_from_the_bill():
    """Issue 11: every cost inherited the seed guide's OpenAI and Fireworks training prices (4-10x too high)."""
    for provider, model, seed_per_million in [("openai", "gpt-4o-mini", 25.0), ("openai", "gpt-4o", 100.0),
                                              ("fireworks", "llama-3.3-8b", 5.0), ("fireworks", "llama-3.3-70b", 16.0)]:
        p = price(provider, model)
        assert p.training_per_million[0] <= seed_per_million / 4, (provider, model)
        assert "guide" in p.guide and p.source.startswith("https://") and p.checked


def test_every_builtin_price_names_its_source_and_date_and_unverified_ones_say_so():
    for p in cost.load_prices():
        assert p.source and p.checked, p.key
        if p.unverified:
            estimate = cost.estimate(p, SEED_5M, "test", epochs=1)
            assert any(n.startswith("unverified price:") for n in estimate.notes)
            assert estimate.to_json()["unverified"] == p.unverified


@pytest.mark.parametrize("missing", ["source", "checked"])
def test_loader_refuses_a_builtin_price_without_source_or_date(missing):
    entry = {"provider": "x", "model": "m", "method": "lora", "training_per_million": 1.0,
             "source": "https://example.org/pricing", "checked": "2026-12-03"}
    del entry[missing]
    with pytest.raises(UsageError, match=f"x/m/lora has no {missing}"):
        cost.builtin_prices({"defaults": {"default_epochs": 3}, "price": [entry]})
    entry[missing] = "  "
    with pytest.raises(UsageError, match=f"has no {missing}"):
        cost.builtin_prices({"defaults": {"default_epochs": 3}, "price": [entry]})


def test_minimum_fee_is_billed():
    small = cost.estimate(price("mistral", "mistral-small"), np.full(10, 100), "test", epochs=1)
    assert small.training_usd == (4.0, 4.0)  # 1,000 tokens at $10 per 1M is $0.01; Mistral bills at least $4
    assert any("at least $4.00" in n for n in small.notes)
