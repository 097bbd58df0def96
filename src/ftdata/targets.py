"""Provider target profiles: the rules a fine-tuning provider applies, kept as data in `rules/targets/`.

A profile names its sources and the date they were read. `extends` inherits from another profile;
`generic` defines every key, so a profile that sets a key generic lacks is a typo and is refused.
`--target` takes a profile name or the path of a user's own TOML file.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .resources import read_toml, rules_dir

_META = {"name", "extends", "description", "source", "checked"}


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    source: tuple[str, ...]
    checked: str
    rules: dict[str, Any]  # section -> settings, every key of `generic` present

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.rules[section]

    @property
    def severity(self) -> dict[str, str]:
        """Rule code -> the severity this target gives it (its loader refuses what is a warning elsewhere)."""
        return self.rules["severity"]


def available() -> list[str]:
    return sorted(p.stem for p in (rules_dir() / "targets").glob("*.toml"))


def load_target(name_or_path: str) -> Target:
    table = _resolve(name_or_path, seen=())
    return Target(
        name=table["name"],
        description=table.get("description", ""),
        source=tuple(table.get("source", ())),
        checked=table.get("checked", ""),
        rules={k: v for k, v in table.items() if k not in _META},
    )


def _resolve(name_or_path: str, seen: tuple[str, ...]) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = rules_dir() / "targets" / f"{name_or_path}.toml"
        if not path.is_file():
            raise UsageError(f"unknown target {name_or_path!r}; known: {', '.join(available())} (or a .toml path)")
    if str(path) in seen:
        raise UsageError(f"target {path} extends itself through {' -> '.join(seen)}")
    table = read_toml(path, "target")
    table.setdefault("name", path.stem)
    parent = table.get("extends")
    if parent is None:
        return table
    base = _resolve(parent, seen + (str(path),))
    _check_keys(base, table, path)
    merged = {k: v for k, v in base.items() if k not in ("source", "checked", "description")}
    for key, value in table.items():
        if isinstance(value, dict):
            merged[key] = {**base.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def _check_keys(base: dict[str, Any], table: dict[str, Any], path: Path) -> None:
    for key, value in table.items():
        if key in _META:
            continue
        if key == "severity":  # keyed by rule code, not by generic's keys
            _check_severity(value, path)
            continue
        if key not in base:
            raise UsageError(f"{path}: unknown section [{key}]; known: {', '.join(k for k in base if k not in _META)}")
        if isinstance(value, dict):
            unknown = set(value) - set(base[key])
            if unknown:
                raise UsageError(f"{path}: unknown keys in [{key}]: {', '.join(sorted(unknown))}")


def _check_severity(table: Any, path: Path) -> None:
    from .catalogue import all_rules  # the catalogue is read only when a profile sets severities

    if not isinstance(table, dict):
        raise UsageError(f"{path}: [severity] must be a table of CODE = \"error\" | \"warning\" | \"info\"")
    rules = all_rules()
    for code, level in table.items():
        if code not in rules:
            raise UsageError(f"{path}: [severity] names {code!r}, which is not a rule code")
        if level not in ("error", "warning", "info"):
            raise UsageError(f"{path}: [severity] {code} must be error, warning or info, not {level!r}")
