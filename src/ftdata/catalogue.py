"""The rule catalogue: every finding ftdata can report, read from `rules/catalogue/*.toml`.

A rule's code is permanent (F001); its name is readable and kebab-case (invalid-json). Its doc is
written once, in the catalogue, and shown by `ftdata rules CODE` and the README table.
"""

import tomllib
from dataclasses import dataclass
from functools import cache

from .errors import UsageError
from .resources import rules_dir

SEVERITIES = ("error", "warning", "info")
_FIELDS = {"code", "name", "severity", "stage", "summary", "doc", "enabled"}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: str
    stage: str
    summary: str
    doc: str
    enabled: bool = True  # rules with enabled = false run only when selected explicitly


@cache
def all_rules() -> dict[str, Rule]:
    """All rules by code, in code order."""
    rules: dict[str, Rule] = {}
    names: set[str] = set()
    for path in sorted((rules_dir() / "catalogue").glob("*.toml")):
        with path.open("rb") as f:
            entries = tomllib.load(f).get("rule", [])
        for entry in entries:
            unknown = set(entry) - _FIELDS
            if unknown:
                raise RuntimeError(f"{path.name}: rule {entry.get('code')} has unknown keys {sorted(unknown)}")
            rule = Rule(**{k: (v.strip() if isinstance(v, str) else v) for k, v in entry.items()})
            if rule.code in rules or rule.name in names:
                raise RuntimeError(f"{path.name}: rule {rule.code} ({rule.name}) is defined twice")
            if rule.severity not in SEVERITIES:
                raise RuntimeError(f"{path.name}: rule {rule.code} has severity {rule.severity!r}")
            rules[rule.code] = rule
            names.add(rule.name)
    return dict(sorted(rules.items()))


def lookup(code_or_name: str) -> Rule:
    """A rule by its code or its name, case-insensitive for codes."""
    rules = all_rules()
    rule = rules.get(code_or_name.upper())
    if rule:
        return rule
    for rule in rules.values():
        if rule.name == code_or_name:
            return rule
    raise UsageError(f"unknown rule {code_or_name!r}: `ftdata rules` lists them")


def matching(selector: str) -> list[Rule]:
    """Rules a select/ignore entry names: a code, a code prefix (`F`, `P0`), a name, or `ALL`."""
    rules = all_rules()
    if selector.upper() == "ALL":
        return list(rules.values())
    by_prefix = [r for r in rules.values() if r.code.startswith(selector.upper())]
    if by_prefix:
        return by_prefix
    by_name = [r for r in rules.values() if r.name == selector]
    if by_name:
        return by_name
    raise UsageError(f"{selector!r} matches no rule code, prefix or name: `ftdata rules` lists them")


def markdown_table() -> str:
    """The README's rule table: one row per rule, in catalogue order."""
    rows = ["| code | name | severity | summary |", "|---|---|---|---|"]
    rows += [f"| {r.code} | {r.name} | {r.severity} | {r.summary} |" for r in all_rules().values()]
    return "\n".join(rows)
