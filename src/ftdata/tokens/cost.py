"""What training (and serving) a dataset will cost, from the prices in `rules/prices.toml`.

Billed training tokens = sum over records of min(length, the model's training limit) x epochs: the
provider truncates longer examples, as OpenAI's cookbook computes it. Per-token prices multiply that;
hourly prices divide it by the hardware's throughput (a [low, high] range, so the cost is a range too).
Total cost of ownership adds N months of inference at R requests a month with the dataset's mean prompt
and completion lengths, as fine-tuning guides' cost comparisons do.
"""

import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from ..errors import UsageError
from ..resources import rules_dir
from .models import find_model

METHODS = ("lora", "full")
_PRICE_KEYS = {"provider", "model", "method", "training_per_million", "hourly", "tokens_per_hour", "minimum_usd",
               "input_per_million", "output_per_million", "default_epochs", "note", "source", "checked", "guide",
               "unverified"}


@dataclass(frozen=True)
class Price:
    provider: str
    model: str
    method: str
    training_per_million: tuple[float, float] | None = None  # (low, high); equal for a single price
    hourly: float | None = None
    tokens_per_hour: tuple[float, float] | None = None
    input_per_million: float | None = None
    output_per_million: float | None = None
    default_epochs: int | str = 3  # an integer, or "openai" for OpenAI's rule
    minimum_usd: float = 0.0  # the least a training job is billed
    note: str = ""
    source: str = ""
    checked: str = ""
    guide: str = ""  # what TokenMix's 2026 fine-tuning guide (ftdata's first price table) gave, where it differs
    unverified: str = ""  # why the figure could not be confirmed on the provider's page

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.provider, self.model, self.method)


@dataclass
class Estimate:
    price: Price
    examples: int
    epochs: int
    billed_tokens: int  # after truncation at the training limit, times epochs
    training_usd: tuple[float, float]
    counted_with: str
    inference_usd_per_month: float | None = None
    months: int = 0
    total_wanted: bool = False  # requests per month were given
    notes: list[str] = field(default_factory=list)

    @property
    def total_usd(self) -> tuple[float, float] | None:
        if self.inference_usd_per_month is None:
            return None
        serving = self.inference_usd_per_month * self.months
        return (self.training_usd[0] + serving, self.training_usd[1] + serving)

    def to_json(self) -> dict[str, Any]:
        low, high = self.training_usd
        out: dict[str, Any] = {
            "provider": self.price.provider, "model": self.price.model, "method": self.price.method,
            "examples": self.examples, "epochs": self.epochs, "billed_tokens": self.billed_tokens,
            "training_usd": round(low, 2), "counted_with": self.counted_with,
        }
        if high != low:
            out["training_usd_high"] = round(high, 2)
        if self.inference_usd_per_month is not None:
            out["inference_usd_per_month"] = round(self.inference_usd_per_month, 2)
            out["months"] = self.months
            out["total_usd"] = round(self.total_usd[0], 2)
            if high != low:
                out["total_usd_high"] = round(self.total_usd[1], 2)
        if self.notes:
            out["notes"] = self.notes
        out["source"] = f"{self.price.source} ({self.price.checked})"
        if self.price.unverified:
            out["unverified"] = self.price.unverified
        if self.price.guide:
            out["guide_differs"] = self.price.guide
        return out


def openai_epochs(examples: int, target: int = 3, min_example_epochs: int = 100,
                  max_example_epochs: int = 25_000, max_epochs: int = 25) -> int:
    """OpenAI's default: 3 epochs, raised so examples x epochs reaches 100 or lowered to stay under
    25,000, within 1..25 (the cookbook's data-prep rule)."""
    epochs = target
    if examples == 0:
        return epochs
    if examples * target < min_example_epochs:
        epochs = min(max_epochs, min_example_epochs // examples)
    elif examples * target > max_example_epochs:
        epochs = max(1, max_example_epochs // examples)
    return epochs


def billed_tokens(lengths: np.ndarray, limit: int | None, epochs: int) -> int:
    values = np.asarray(lengths, dtype=np.int64)
    if limit is not None:
        values = np.minimum(values, limit)
    return int(values.sum()) * epochs


@cache
def _builtin_table() -> dict[str, Any]:
    with (rules_dir() / "prices.toml").open("rb") as f:
        return tomllib.load(f)


def load_prices(overrides: list[dict[str, Any]] | None = None) -> list[Price]:
    """The built-in prices, with a user's entries replacing those of the same provider/model/method."""
    table = _builtin_table()
    prices = {p.key: p for p in builtin_prices(table)}
    for entry in overrides or []:
        price = _price(entry, {**table["defaults"], "source": "user config", "checked": ""}, "[tool.ftdata.tokens] prices")
        prices[price.key] = price
    return list(prices.values())


def builtin_prices(table: dict[str, Any]) -> list[Price]:
    """The shipped table's entries; each must name the provider page it was read from and the date."""
    prices = []
    for entry in table["price"]:
        for key in ("source", "checked"):
            if not isinstance(entry, dict) or not (isinstance(entry.get(key), str) and entry[key].strip()):
                what = f"{entry.get('provider')}/{entry.get('model')}/{entry.get('method')}" if isinstance(entry, dict) else repr(entry)
                raise UsageError(f"rules/prices.toml: the price for {what} has no {key}; every built-in price names "
                                 "the provider page it was read from (source) and the date it was read (checked)")
        prices.append(_price(entry, table["defaults"], "rules/prices.toml"))
    return prices


def _price(entry: dict[str, Any], defaults: dict[str, Any], where: str) -> Price:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: each price must be a table, not {entry!r}")
    unknown = set(entry) - _PRICE_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown price keys {sorted(unknown)}; known: {', '.join(sorted(_PRICE_KEYS))}")
    for key in ("provider", "model", "method"):
        if not isinstance(entry.get(key), str):
            raise UsageError(f"{where}: a price needs {key} (a string); found {entry.get(key)!r}")
    if entry["method"] not in METHODS:
        raise UsageError(f"{where}: method must be one of {', '.join(METHODS)}, not {entry['method']!r}")
    per_token = _range(entry.get("training_per_million"), where, "training_per_million")
    per_hour = _range(entry.get("tokens_per_hour"), where, "tokens_per_hour")
    if (per_token is None) == (entry.get("hourly") is None) or (entry.get("hourly") is not None and per_hour is None):
        raise UsageError(f"{where}: {entry['provider']}/{entry['model']} needs training_per_million, "
                         "or hourly with tokens_per_hour = [low, high]")
    epochs = entry.get("default_epochs", defaults["default_epochs"])
    if not (epochs == "openai" or (isinstance(epochs, int) and epochs >= 1)):
        raise UsageError(f"{where}: default_epochs must be a positive integer or \"openai\", not {epochs!r}")
    minimum = _range(entry.get("minimum_usd", 0.0), where, "minimum_usd")
    return Price(provider=entry["provider"], model=entry["model"], method=entry["method"],
                 training_per_million=per_token, hourly=entry.get("hourly"), tokens_per_hour=per_hour,
                 input_per_million=entry.get("input_per_million"), output_per_million=entry.get("output_per_million"),
                 default_epochs=epochs, minimum_usd=minimum[0], note=entry.get("note", ""),
                 source=entry.get("source", defaults.get("source", "")), checked=entry.get("checked", defaults.get("checked", "")),
                 guide=entry.get("guide", ""), unverified=entry.get("unverified", ""))


def _range(value: Any, where: str, key: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return (float(value), float(value))
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) and v > 0 for v in value):
        return (float(min(value)), float(max(value)))
    raise UsageError(f"{where}: {key} must be a number or [low, high], not {value!r}")


def select(prices: list[Price], provider: str | None = None, model: str | None = None,
           method: str | None = None) -> list[Price]:
    """Prices matching the filters (model by key or alias); an empty match is a usage error."""
    wanted_model = (find_model(model).key if model and find_model(model) else model)
    chosen = [p for p in prices
              if (provider is None or p.provider == provider.lower())
              and (wanted_model is None or p.model == wanted_model)
              and (method is None or p.method == method)]
    if not chosen:
        options = sorted({f"{p.provider}/{p.model}/{p.method}" for p in prices})
        asked = "/".join(x for x in (provider, model, method) if x)
        raise UsageError(f"no price for {asked}; priced: {', '.join(options)}")
    return chosen


def estimate(price: Price, lengths: np.ndarray, counted_with: str, epochs: int | None = None,
             mean_prompt: float | None = None, mean_completion: float | None = None,
             requests_per_month: int | None = None, months: int = 6) -> Estimate:
    """One provider's training cost (and total cost of ownership when requests_per_month is given)."""
    model = find_model(price.model)
    examples = int(np.size(lengths))
    notes = [n for n in (f"unverified price: {price.unverified}" if price.unverified else "", price.note,
                         model.note if model else "") if n]
    if epochs is None:
        epochs = openai_epochs(examples) if price.default_epochs == "openai" else int(price.default_epochs)
        if price.default_epochs != "openai":
            notes.append(_builtin_table()["defaults"]["default_epochs_note"])
    limit = model.training_limit if model else None
    tokens = billed_tokens(lengths, limit, epochs)
    if price.training_per_million is not None:
        usd = tuple(tokens / 1e6 * p for p in price.training_per_million)
    else:
        slow, fast = price.tokens_per_hour
        usd = (tokens / fast * price.hourly, tokens / slow * price.hourly)
    if price.minimum_usd and usd[0] < price.minimum_usd:
        notes.append(f"{price.provider} bills at least ${price.minimum_usd:,.2f} a job")
        usd = (max(usd[0], price.minimum_usd), max(usd[1], price.minimum_usd))
    result = Estimate(price=price, examples=examples, epochs=epochs, billed_tokens=tokens, training_usd=usd,
                      counted_with=counted_with, notes=notes)
    if requests_per_month is not None:
        result.total_wanted = True
        if price.input_per_million is None or price.output_per_million is None:
            result.notes.append("no inference price: total cost of ownership not computed")
        else:
            per_request = ((mean_prompt or 0) * price.input_per_million + (mean_completion or 0) * price.output_per_million) / 1e6
            result.inference_usd_per_month = per_request * requests_per_month
            result.months = months
    return result


def sort_key(e: Estimate) -> tuple[bool, float, float]:
    """Cheapest first: by total cost of ownership when asked for (rows without one last), else training."""
    if e.total_wanted:
        return e.total_usd is None, (e.total_usd or e.training_usd)[0], e.training_usd[1]
    return False, e.training_usd[0], e.training_usd[1]
