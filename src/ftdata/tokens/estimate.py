"""`ftdata cost` as a library call: read the inputs once, count each priced model with its own tokenizer.

    from ftdata.tokens.estimate import cost_table
    table = cost_table(["train.jsonl"], provider="together", requests_per_month=1_000_000)

Records an earlier stage rejects (unparsable, bad schema) are not billed. Models whose tokenizer is
online-only (Gemini) are counted with `tokenizer` or the default encoding, and each row names what
it was counted with.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, Policy, load_config
from ..pipeline import as_inputs
from ..stages import STAGES
from ..stages.base import Context, InputFile
from ..stages.read import ReadStage, check_readable
from ..stages.tokens import TokensStage
from ..targets import load_target
from . import cost
from .counting import TokenCounter
from .models import DEFAULT_TOKENIZER, find_model
from .stats import Lengths
from .tokenizers import load_tokenizer


def cost_table(paths: Iterable[str | Path | InputFile], config: Config | None = None, *, provider: str | None = None,
               model: str | None = None, method: str | None = None, epochs: int | None = None,
               tokenizer: str | None = None, requests_per_month: int | None = None, months: int = 6) -> dict[str, Any]:
    """Every matching priced option for the training inputs, cheapest first (see `cost.Estimate.to_json`)."""
    config = config or load_config()
    options = config.stage_options.get("tokens", {})
    prices = cost.select(cost.load_prices(options.get("prices")), provider, model, method)
    specs = {p.key: _spec(p, tokenizer or config.tokenizer) for p in prices}
    counters = {spec: TokenCounter(load_tokenizer(spec)) for spec in set(specs.values())}
    totals, prompts, records = _count(as_inputs(paths), config, counters)
    estimates = []
    for p in prices:
        spec = specs[p.key]
        lengths, prompt = totals[spec].numpy(), prompts[spec].numpy()
        mean_prompt = float(prompt.mean()) if prompt.size else 0.0
        mean_completion = float((lengths.astype(np.int64) - prompt).mean()) if lengths.size else 0.0
        estimates.append(cost.estimate(p, lengths, counters[spec].tokenizer.name, epochs=epochs,
                                       mean_prompt=mean_prompt, mean_completion=mean_completion,
                                       requests_per_month=requests_per_month, months=months))
    return {"records": records, "examples": len(next(iter(totals.values()))) if totals else 0,
            "requests_per_month": requests_per_month, "months": months if requests_per_month else None,
            "options": [e.to_json() for e in sorted(estimates, key=cost.sort_key)]}


def _spec(price: cost.Price, forced: str | None) -> str:
    if forced:
        return forced
    info = find_model(price.model)
    return (info.tokenizer if info else "") or DEFAULT_TOKENIZER


def _count(inputs: list[InputFile], config: Config, counters: dict[str, TokenCounter]):
    for source in inputs:
        check_readable(source.path)
    ctx = Context(config=config, target=load_target(config.target), policy=Policy(config), inputs=inputs)
    reader = ReadStage(ctx)
    stream = reader.whole(inputs)
    for stage_class in STAGES:  # the validating stages decide what is rejected; tokens are counted here
        if stage_class is not TokensStage and stage_class.active(ctx):
            stream = stage_class(ctx).run(stream)
    totals = {spec: Lengths() for spec in counters}
    prompts = {spec: Lengths() for spec in counters}
    records = 0
    for example in stream:
        records += 1
        if example.split != "train" or example.messages is None or example.has_error():
            continue
        for spec, counter in counters.items():
            counts = counter.example(example)
            totals[spec].add(counts.total)
            prompts[spec].add(counts.prompt)
    return totals, prompts, records
