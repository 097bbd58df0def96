"""One parametrized test over tests/rules/<CODE>.toml: every rule fires on its failing cases and stays
quiet on its passing ones, and every rule in the catalogue has both kinds of case."""

import base64
import tomllib
from pathlib import Path

import pytest

import ftdata
from ftdata.catalogue import all_rules, markdown_table
from ftdata.config import config_from_table

FIXTURES = Path(__file__).parent / "rules"


def _cases():
    for path in sorted(FIXTURES.glob("*.toml")):
        with path.open("rb") as f:
            fixture = tomllib.load(f)
        for case in fixture["case"]:
            yield pytest.param(fixture["rule"], case, id=f"{fixture['rule']}_{case['name']}")


def _write_inputs(case: dict, folder: Path) -> list[str]:
    files = dict(case.get("files", {}))
    if "jsonl" in case:
        files["data.jsonl"] = case["jsonl"]
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_bytes(text.lstrip("\n").encode("utf-8"))
        paths.append(str(path))
    if "raw_base64" in case:
        path = folder / "raw.jsonl"
        path.write_bytes(base64.b64decode(case["raw_base64"]))
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("code,case", _cases())
def test_rule_fixture(code, case, tmp_path):
    table = dict(case.get("config", {}))
    if "target" in case:  # a profile name, or a .toml path relative to the repository
        target = case["target"]
        table["target"] = str(FIXTURES.parents[1] / target) if target.endswith(".toml") else target
    config = config_from_table(table, source="fixture")
    report = ftdata.check(_write_inputs(case, tmp_path), config)
    hits = [f for f in report.findings if f.code == code]
    if case["fail"]:
        assert hits, f"{code} did not fire; findings: {[(f.code, f.message) for f in report.findings]}"
        if "lines" in case:
            assert sorted(f.line for f in hits) == case["lines"]
    else:
        assert not hits, f"{code} fired: {[(f.line, f.message) for f in hits]}"


def test_every_rule_has_failing_and_passing_fixture():
    kinds: dict[str, set[bool]] = {}
    for param in _cases():
        code, case = param.values
        kinds.setdefault(code, set()).add(case["fail"])
    missing = [code for code in all_rules() if kinds.get(code) != {True, False}]
    assert not missing, f"rules without both a failing and a passing fixture: {missing}"


def test_catalogue_entries_are_complete():
    for rule in all_rules().values():
        assert rule.name == rule.name.lower() and " " not in rule.name
        assert len(rule.doc.split()) >= 20, f"{rule.code}: doc too short to explain why and how to fix"
        assert not rule.summary.endswith("."), rule.code


def test_readme_rule_table_is_generated_from_the_catalogue():
    readme = (FIXTURES.parents[1] / "README.md").read_text()
    assert markdown_table() in readme, "README rule table differs from the catalogue; regenerate it with " \
                                       "`ftdata rules --output-format markdown`"
