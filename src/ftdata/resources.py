"""Where the data in `rules/` lives: inside the wheel, or at the top of a source checkout."""

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from .errors import UsageError


@cache
def rules_dir() -> Path:
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "rules"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"ftdata's rules/ folder is missing (looked in {packaged} and {checkout})")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file of ftdata's or the user's (`what` it is: "target", "recipe"...), or one usage error."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise UsageError(f"{path}: cannot read {what}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: {what} is not UTF-8: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: invalid TOML: {e}") from None
