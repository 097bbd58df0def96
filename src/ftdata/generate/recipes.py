"""Recipes: what `ftdata generate` asks the model and how it builds records from the replies, as data.

A recipe is a TOML file (`rules/recipes/NAME.toml`, or a user's by path). Its steps run in order; each
renders chat messages from Jinja2 templates over the item's variables (`prompt`, `system`, `answer`
from the source record, `examples`, `variant`, `schema`, and every earlier step's output, named after
the step), sends them with its sampling `params`, and parses the reply into a variable. `[record]`
renders the training record from the same variables. A message whose text renders empty is left out
(an optional system prompt). `extends = "answers"` starts from another recipe and replaces what it sets.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from ..errors import UsageError
from ..llm import check_params
from ..resources import read_toml, rules_dir

PARSERS = ("text", "line", "json")
SOURCES = ("prompts", "seeds")
_RECIPE_KEYS = {"name", "version", "description", "source", "examples", "variants", "steps", "record", "extends"}
_STEP_KEYS = {"name", "parse", "params", "messages", "response_format", "repairs", "skip_if_present",
              "allow_truncated"}
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass(frozen=True)
class Step:
    name: str
    messages: list[dict]  # role and content templates
    parse: str = "text"
    params: dict[str, Any] = field(default_factory=dict)
    response_format: bool = False  # ask for structured output with the --schema (json parse only)
    repairs: int = 0  # invalid replies sent back with the error, at most this many times
    skip_if_present: bool = False  # the source already gives this variable (a prompt's own answer)
    allow_truncated: bool = False  # keep a reply cut at max_tokens


@dataclass(frozen=True)
class Recipe:
    name: str
    version: int
    description: str
    source: str  # "prompts": one item per prompt; "seeds": --n items drawn from the seed records
    steps: list[Step]
    record: list[dict]  # the training record's messages (role and content templates)
    examples: int = 3  # seed prompts shown per item ("seeds" recipes)
    variants: list[str] = field(default_factory=list)  # one drawn per item, as {{ variant }}
    path: str = ""

    @property
    def tag(self) -> str:
        """name@version: part of every call's cache key, so a new version re-sends."""
        return f"{self.name}@{self.version}"


def builtin_recipes() -> list[str]:
    return sorted(p.stem for p in (rules_dir() / "recipes").glob("*.toml"))


def load_recipe(name_or_path: str) -> Recipe:
    """A shipped recipe by name, or a recipe file by path."""
    table, where = _table(name_or_path, set())
    return _recipe(table, where)


def _table(name_or_path: str, seen: set[str]) -> tuple[dict, str]:
    path = Path(name_or_path)
    if not (name_or_path.endswith(".toml") or path.is_file()):
        path = rules_dir() / "recipes" / f"{name_or_path}.toml"
        if not path.is_file():
            raise UsageError(f"unknown recipe {name_or_path!r}; shipped: {', '.join(builtin_recipes())}, "
                             "or a path to a .toml recipe")
    table = read_toml(path, "recipe")
    if "extends" in table:
        base = table["extends"]
        if base in seen:
            raise UsageError(f"{path}: recipes extend each other in a circle ({base})")
        parent, _ = _table(base, seen | {str(base)})
        table = {**parent, **{k: v for k, v in table.items() if k != "extends"}}
    return table, str(path)


def _recipe(table: dict, where: str) -> Recipe:
    unknown = set(table) - _RECIPE_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown recipe keys {sorted(unknown)}; known: {', '.join(sorted(_RECIPE_KEYS))}")
    for key, kind in (("name", str), ("version", int), ("steps", list), ("record", dict)):
        if not isinstance(table.get(key), kind):
            raise UsageError(f"{where}: {key} must be a {kind.__name__}; found {table.get(key)!r}")
    source = table.get("source", "prompts")
    if source not in SOURCES:
        raise UsageError(f"{where}: source must be one of {', '.join(SOURCES)}, not {source!r}")
    steps = [_step(s, f"{where}: steps[{n}]") for n, s in enumerate(table["steps"])]
    if not steps:
        raise UsageError(f"{where}: a recipe needs at least one step")
    record = _messages(table["record"].get("messages"), f"{where}: record.messages")
    variants = table.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        raise UsageError(f"{where}: variants must be a list of strings")
    examples = table.get("examples", 3)
    if not isinstance(examples, int) or examples < 1:
        raise UsageError(f"{where}: examples must be a positive integer, not {examples!r}")
    return Recipe(name=table["name"], version=table["version"], description=table.get("description", ""),
                  source=source, steps=steps, record=record, examples=examples, variants=variants, path=where)


def _step(table: Any, where: str) -> Step:
    if not isinstance(table, dict):
        raise UsageError(f"{where}: a step must be a table")
    unknown = set(table) - _STEP_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown step keys {sorted(unknown)}; known: {', '.join(sorted(_STEP_KEYS))}")
    if not isinstance(table.get("name"), str) or not table["name"].isidentifier():
        raise UsageError(f"{where}: name must be an identifier (it becomes a template variable)")
    parse = table.get("parse", "text")
    if parse not in PARSERS:
        raise UsageError(f"{where}: parse must be one of {', '.join(PARSERS)}, not {parse!r}")
    if not isinstance(table.get("params", {}), dict):
        raise UsageError(f"{where}: params must be a table of sampling parameters")
    check_params(table.get("params", {}), f"{where}.params")
    return Step(name=table["name"], messages=_messages(table.get("messages"), f"{where}.messages"), parse=parse,
                params=dict(table.get("params", {})), response_format=bool(table.get("response_format", False)),
                repairs=int(table.get("repairs", 0)), skip_if_present=bool(table.get("skip_if_present", False)),
                allow_truncated=bool(table.get("allow_truncated", False)))


def _messages(value: Any, where: str) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"{where}: must be a list of {{role, content}} tables")
    for n, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str) \
                or not isinstance(message.get("content"), str):
            raise UsageError(f"{where}[{n}]: needs role and content strings")
        try:
            _ENV.from_string(message["content"])
        except jinja2.TemplateSyntaxError as e:
            raise UsageError(f"{where}[{n}].content: template error at line {e.lineno}: {e.message}") from None
    return value


def render(messages: list[dict], variables: dict[str, Any], where: str) -> list[dict]:
    """Chat messages from templates; a message whose text renders empty is left out."""
    out = []
    for message in messages:
        try:
            text = _ENV.from_string(message["content"]).render(variables).strip()
        except jinja2.UndefinedError as e:
            raise UsageError(f"{where}: {e.message}; known variables: {', '.join(sorted(variables))}") from None
        if text:
            out.append({"role": message["role"], "content": text})
    return out
