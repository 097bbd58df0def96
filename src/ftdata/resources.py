"""Where the data in `rules/` lives: inside the wheel, or at the top of a source checkout."""

from functools import cache
from pathlib import Path


@cache
def rules_dir() -> Path:
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "rules"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"ftdata's rules/ folder is missing (looked in {packaged} and {checkout})")
