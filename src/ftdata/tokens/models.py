"""Models ftdata knows (`rules/models.toml`): their tokenizer and token limits, and which one a run uses."""

import tomllib
from dataclasses import dataclass
from functools import cache

from ..errors import UsageError
from ..resources import rules_dir

DEFAULT_TOKENIZER = "o200k_base"  # when neither --tokenizer, --model nor the target names one


@dataclass(frozen=True)
class ModelInfo:
    key: str
    tokenizer: str  # a --tokenizer spec; "" when the model's tokenizer is online-only
    context: int
    training_limit: int
    aliases: tuple[str, ...] = ()
    note: str = ""


@cache
def _table() -> dict:
    with (rules_dir() / "models.toml").open("rb") as f:
        return tomllib.load(f)


@cache
def models() -> dict[str, ModelInfo]:
    return {key: ModelInfo(key=key, tokenizer=entry["tokenizer"], context=entry["context"],
                           training_limit=entry["training_limit"], aliases=tuple(entry.get("aliases", ())),
                           note=entry.get("note", ""))
            for key, entry in _table()["model"].items()}


def find_model(name: str) -> ModelInfo | None:
    """A model by key or alias (case-insensitive); None when ftdata does not know it."""
    wanted = name.lower()
    for info in models().values():
        if wanted == info.key or wanted in (a.lower() for a in info.aliases):
            return info
    return None


def model_for(model: str | None, target: str | None) -> ModelInfo | None:
    """The model of a run: --model, else the target profile's default; None for neither."""
    if model:
        info = find_model(model)
        if info is None:
            raise UsageError(f"unknown model {model!r}; known: {', '.join(models())} (rules/models.toml)")
        return info
    key = _table().get("target_defaults", {}).get(target or "")
    return models()[key] if key else None


def tokenizer_spec(tokenizer: str | None, model: ModelInfo | None) -> str:
    """--tokenizer, else the model's own; the default encoding when there is no model or its tokenizer is
    online-only (`approximate` says so)."""
    return tokenizer or (model.tokenizer if model else "") or DEFAULT_TOKENIZER


def approximate(tokenizer: str | None, model: ModelInfo | None) -> bool:
    """Whether counts stand in for the model's own: its tokenizer is online-only and none was chosen."""
    return bool(model and not model.tokenizer and not tokenizer)
