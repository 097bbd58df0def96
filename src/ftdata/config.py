"""Configuration: `[tool.ftdata]` in pyproject.toml or top-level keys in ftdata.toml, then flags.

    [tool.ftdata]
    target = "openai"
    select = ["ALL"]              # codes, prefixes (F, P0), names, or ALL
    ignore = ["P005"]
    strict = false                # warnings fail the run too
    [tool.ftdata.severity]
    empty-content = "warning"     # code or name -> error | warning | info
    [tool.ftdata.per-file-ignores]
    "data/legacy/*.jsonl" = ["P005"]
    [tool.ftdata.duplicates]      # a table per stage: its options (thresholds)
    threshold = 0.8
"""

import dataclasses
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import catalogue
from .errors import UsageError
from .resources import read_toml

_TOP_LEVEL = {
    "target", "select", "extend-select", "ignore", "severity", "per-file-ignores", "strict",
    "format", "model", "tokenizer", "jobs", "shard-bytes", "batch-size",
}
# tables for commands rather than stages ([tool.ftdata.generate]): read and checked by their command
_COMMAND_TABLES = {"generate"}


@dataclass
class Config:
    target: str = "generic"
    select: list[str] = field(default_factory=list)  # empty: every rule enabled by default
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    strict: bool = False
    format: str | None = None  # force the input format instead of detecting it
    model: str | None = None
    tokenizer: str | None = None
    stage_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: int = 0  # worker processes; 0: one per core (at most 8)
    shard_bytes: int = 16 << 20  # the largest shard a worker gets (see ftdata.shards)
    batch_size: int = 4096  # records that go through the stages together (see ftdata.shards.check_shard)
    source: str | None = None  # the file the settings came from, for error messages
    command_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # [tool.ftdata.<command>]

    def replace(self, **changes: Any) -> "Config":
        """A copy with the given settings changed; None values leave a setting as it is."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def find_config_file(start: Path) -> Path | None:
    """The nearest ftdata.toml, or pyproject.toml with a [tool.ftdata] table, from start upwards."""
    for folder in [start, *start.parents]:
        candidate = folder / "ftdata.toml"
        if candidate.is_file():
            return candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "ftdata" in read_toml(candidate, "config").get("tool", {}):
            return candidate
    return None


def load_config(path: Path | None = None, start: Path | None = None, near: str | None = None) -> Config:
    """Read settings from `path`, or else from the config file nearest the input `near` (from its folder
    upwards: the data's own settings, wherever the command runs, as ruff finds the closest config to each
    file), or else nearest `start` (the working directory); defaults when there is none."""
    if path is None and near is not None and near != "-":
        found = Path(near).resolve()
        path = find_config_file(found if found.is_dir() else found.parent)
    path = path or find_config_file((start or Path.cwd()).resolve())
    if path is None:
        return Config()
    table = read_toml(path, "config")
    if path.name == "pyproject.toml":
        table = table.get("tool", {}).get("ftdata", {})
    return config_from_table(table, source=str(path))


def config_from_table(table: dict[str, Any], source: str = "config") -> Config:
    config = Config(source=source)
    for key, value in table.items():
        if isinstance(value, dict) and key in _COMMAND_TABLES:
            config.command_options[key] = value
        elif isinstance(value, dict) and key not in _TOP_LEVEL:
            config.stage_options[key] = value
        elif key not in _TOP_LEVEL:
            raise UsageError(f"{source}: unknown setting {key!r}; known: {', '.join(sorted(_TOP_LEVEL))}")
        else:
            setattr(config, key.replace("-", "_"), _typed(key, value, source))
    _validate(config, source)
    check_stage_options(config.stage_options)
    return config


_STRINGS = {"target", "format", "model", "tokenizer"}
_SELECTORS = {"select", "extend-select", "ignore"}


def _typed(key: str, value: Any, source: str) -> Any:
    """A setting's value with its type checked: a wrong one stops the run (`strict = "false"` is not
    false). A selector list may be one comma-separated string, as on the command line."""
    def wrong(expected: str) -> UsageError:
        return UsageError(f"{source}: {key} must be {expected}, not {value!r}")

    if key in _STRINGS and not isinstance(value, str):
        raise wrong("a string")
    if key == "strict" and not isinstance(value, bool):
        raise wrong("true or false")
    if key in _SELECTORS:
        return _selectors(value, wrong)
    if key == "severity":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise wrong('a table of rule = "error" | "warning" | "info"')
    if key == "per-file-ignores":
        if not isinstance(value, dict):
            raise wrong('a table of "glob" = ["CODE", ...]')
        return {pattern: _selectors(codes, wrong) for pattern, codes in value.items()}
    return value


def _selectors(value: Any, wrong) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise wrong("a list of rule codes, prefixes or names")
    return value


def check_stage_options(stage_options: dict[str, dict[str, Any]]) -> None:
    """Every stage table names a stage, and its options and their types are that stage's: a typo
    stops the run instead of being ignored."""
    from .stages import STAGES  # the stages read this module: imported when first needed
    from .stages.base import build_options
    from .stages.read import ReadStage

    stages = {cls.name: cls for cls in (ReadStage, *STAGES)}
    for name, table in stage_options.items():
        if name == "tool" and isinstance(table, dict) and "ftdata" in table:
            raise UsageError("[tool.ftdata...] tables belong in pyproject.toml; in ftdata.toml write the same "
                             "keys at the top level ([duplicates], not [tool.ftdata.duplicates])")
        if name not in stages:
            raise UsageError(f"unknown stage {name!r} ([tool.ftdata.{name}] or -o {name}.OPTION); "
                             f"stages: {', '.join(sorted(stages))}; commands: {', '.join(sorted(_COMMAND_TABLES))}")
        if not isinstance(table, dict):
            raise UsageError(f"[tool.ftdata.{name}] must be a table of options, not {table!r}")
        build_options(stages[name].Options, table, name)


def _validate(config: Config, source: str) -> None:
    for key, least in (("jobs", 0), ("shard_bytes", 1), ("batch_size", 1)):
        value = getattr(config, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise UsageError(f"{source}: {key.replace('_', '-')} must be a whole number of at least {least}, not {value!r}")
    for selector in [*config.select, *config.extend_select, *config.ignore]:
        catalogue.matching(selector)
    for codes in config.per_file_ignores.values():
        for selector in codes:
            catalogue.matching(selector)
    for key, level in config.severity.items():
        catalogue.lookup(key)
        if level not in catalogue.SEVERITIES:
            raise UsageError(f"{source}: severity of {key} must be one of {', '.join(catalogue.SEVERITIES)}, not {level!r}")


class Policy:
    """Which rules run, at what severity, for which file: the only place that decides it."""

    def __init__(self, config: Config, target_severity: dict[str, str] | None = None):
        """`target_severity`: the target profile's levels for rules its loader treats otherwise (a BOM is an
        error where the loader fails on it); the user's own `severity` settings still win."""
        rules = catalogue.all_rules()
        if config.select:
            selected = {r.code for s in config.select for r in catalogue.matching(s)}
        else:
            selected = {code for code, rule in rules.items() if rule.enabled}
        selected |= {r.code for s in config.extend_select for r in catalogue.matching(s)}
        selected -= {r.code for s in config.ignore for r in catalogue.matching(s)}
        self._severity = {code: rules[code].severity for code in selected}
        for code, level in (target_severity or {}).items():
            if code in self._severity:
                self._severity[code] = level
        for key, level in config.severity.items():
            code = catalogue.lookup(key).code
            if code in self._severity:
                self._severity[code] = level
        self._per_file = [
            (pattern, {r.code for s in codes for r in catalogue.matching(s)})
            for pattern, codes in config.per_file_ignores.items()
        ]
        self._file_cache: dict[str, frozenset[str]] = {}

    def enabled(self, code: str) -> bool:
        return code in self._severity

    def severity(self, code: str, file: str | None) -> str | None:
        """The severity a finding of `code` in `file` gets, or None when it is not reported."""
        level = self._severity.get(code)
        if level is None or file is None or not self._per_file:
            return level
        return None if code in self._ignored_in(file) else level

    def _ignored_in(self, file: str) -> frozenset[str]:
        if file not in self._file_cache:
            ignored: set[str] = set()
            for pattern, codes in self._per_file:
                if fnmatch.fnmatch(file, pattern) or fnmatch.fnmatch(Path(file).name, pattern):
                    ignored |= codes
            self._file_cache[file] = frozenset(ignored)
        return self._file_cache[file]
