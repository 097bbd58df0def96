"""Dollars for LLM calls: per-million-token prices from `rules/prices.toml` (read through
`ftdata.tokens.cost`) or a user's own price for a private endpoint, and the pre-run estimate."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from ..errors import UsageError
from ..tokens.cost import load_prices
from ..tokens.models import find_model

# a chat message costs a few tokens beyond its text (role and separators): OpenAI's cookbook counts 3 + 3 per reply
_PER_MESSAGE = 4
_REPLY_PRIMER = 3


@dataclass(frozen=True)
class Pricing:
    input_per_million: float
    output_per_million: float
    source: str  # "rules/prices.toml: provider/model" or "user price"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1e6


def find_pricing(model: str, provider: str | None = None, input_per_million: float | None = None,
                 output_per_million: float | None = None) -> Pricing | None:
    """A user price when one is given (both numbers), else the inference price of `model` in prices.toml
    (of `provider` when given), else None: calls are then counted in tokens but not in dollars."""
    if (input_per_million is None) != (output_per_million is None):
        raise UsageError("a user price needs both the input and the output price per million tokens")
    if input_per_million is not None:
        if input_per_million < 0 or output_per_million < 0:
            raise UsageError("prices per million tokens cannot be negative")
        return Pricing(float(input_per_million), float(output_per_million), "user price")
    known = find_model(model)
    wanted = known.key if known else model
    for price in load_prices():
        if (price.model == wanted and (provider is None or price.provider == provider.lower())
                and price.input_per_million is not None and price.output_per_million is not None):
            return Pricing(price.input_per_million, price.output_per_million,
                           f"rules/prices.toml: {price.provider}/{price.model} ({price.checked})")
    return None


@cache
def _counter():
    from ..tokens.tokenizers import load_tokenizer

    return load_tokenizer("cl100k_base")  # an offline encoding close enough for an estimate of any model


def prompt_tokens(messages: Iterable[dict]) -> int:
    """An estimate of a chat prompt's tokens (cl100k, with OpenAI's per-message overhead)."""
    counter = _counter()
    total = _REPLY_PRIMER
    for message in messages:
        content = message.get("content")
        text = content if isinstance(content, str) else " ".join(
            part.get("text", "") for part in content or [] if isinstance(part, dict))
        total += _PER_MESSAGE + counter.count(text)
    return total
