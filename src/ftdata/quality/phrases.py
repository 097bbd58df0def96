"""The phrase lists of the quality rules, read from rules/phrases/quality.toml.

They are data so that a user can read them and add a phrase or a language without touching Python; each
list compiles to one case-insensitive regular expression.
"""

import re
from functools import cache

from ..errors import UsageError
from ..resources import read_toml, rules_dir

FILE = "phrases/quality.toml"
# Around a whole-text phrase: quotes, brackets and closing punctuation ('"N/A."', '（无）').
_EDGE_OPEN = r"""["'`(\[<（【「\s]*"""
_EDGE_CLOSE = r"""[\s"'`)\]>.。！!）】」]*"""


@cache
def _lists() -> dict:
    return read_toml(rules_dir() / FILE, "the phrase lists")


@cache
def pattern(name: str) -> re.Pattern:
    """The list `name` as one regular expression (anchored to the whole text when the list says `whole`)."""
    table = _lists().get(name)
    if not isinstance(table, dict) or not isinstance(table.get("phrases"), list):
        raise UsageError(f"{rules_dir() / FILE}: [{name}] with a `phrases` list is missing")
    for i, phrase in enumerate(table["phrases"]):
        try:
            re.compile(phrase)
        except (re.error, TypeError) as e:
            raise UsageError(f"{rules_dir() / FILE}: [{name}] phrases[{i}] {phrase!r} is not a valid regular "
                             f"expression: {e}") from None
    body = "|".join(f"(?:{p})" for p in table["phrases"])
    if table.get("whole"):
        body = f"^{_EDGE_OPEN}(?:{body}){_EDGE_CLOSE}$"
    return re.compile(body, re.I)


def names() -> list[str]:
    return list(_lists())
