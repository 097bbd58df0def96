"""`ftdata check` and the tokens stage from the command line: --reference, the text report's token block."""

import json

import orjson
import pytest
from click.testing import CliRunner
from rich.console import Console

import ftdata
from ftdata.cli import main
from ftdata.config import config_from_table
from ftdata.output import render_text

from test_tokens_stage import train  # noqa: F401 (a fixture the tests here take)


@pytest.fixture
def production(tmp_path):
    path = tmp_path / "prod.jsonl"
    long_question = "Here is my whole order history, please read it: " + "order 1234, shipped, returned; " * 150
    path.write_bytes(b"\n".join(orjson.dumps({"messages": [{"role": "user", "content": long_question + str(i)}]})
                                for i in range(40)))
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_reference_flag_compares_with_production(train, production):
    result = run("check", str(train), "--reference", str(production), "--output-format", "json")
    assert result.exit_code == 0, result.output  # K003 is a warning
    report = json.loads(result.output)
    assert [f["code"] for f in report["findings"] if f["code"].startswith("K")] == ["K003"]
    assert report["stats"]["tokens"]["reference"]["source"] == str(production)
    # the flag and the config option are the same setting
    via_config = ftdata.check([str(train)], config_from_table({"tokens": {"reference": str(production)}}))
    assert via_config.stats["tokens"]["reference"] == report["stats"]["tokens"]["reference"]


def test_missing_reference_is_one_line_exit_two_even_without_the_tokens_stage(train, tmp_path):
    missing = tmp_path / "prod.jsonl"
    for extra in ([], ["--select", "S"]):
        result = run("check", str(train), "--reference", str(missing), *extra)
        assert result.exit_code == 2, result.output
        assert result.output.strip() == f"ftdata: error: {missing}: reference file not found (--reference)"


def text_of(report, color: bool = False) -> str:
    console = Console(record=True, width=120, force_terminal=color, color_system="standard" if color else None)
    render_text(report, console)
    return console.export_text(styles=color)


def test_text_report_has_a_token_block(train, production):
    report = ftdata.check([str(train)], config_from_table({"target": "openai"}))
    stats = report.stats["tokens"]
    text = text_of(report)
    block = text[text.index("Tokens ("):].splitlines()
    assert block[0] == (f"Tokens (o200k_base, limit 65,536 for gpt-4o-mini): {stats['total_tokens']:,} total, "
                        f"{stats['trainable_tokens']:,} trainable")
    per_record = stats["tokens_per_record"]
    assert block[1] == f"  per record: p50 {per_record['p50']:g}, p95 {per_record['p95']:g}, max {per_record['max']} (30 records)"
    mini = next(o for o in stats["cost"]["options"] if o["model"] == "gpt-4o-mini")
    assert block[2] == "  cost of training gpt-4o-mini (30 examples):"
    assert block[3] == (f"    openai gpt-4o-mini lora: ${mini['training_usd']:.2f} for {mini['epochs']} epochs, "
                        f"{mini['billed_tokens']:,} billed tokens")
    assert block[-1].startswith("30 records, 30 clean")  # the verdict stays last

    generic = ftdata.check([str(train)], config_from_table({"tokens": {"reference": str(production)}}))
    text = text_of(generic)
    cheapest = generic.stats["tokens"]["cost"]["options"][:3]
    assert f"cheapest of {len(generic.stats['tokens']['cost']['options'])} priced options (30 examples):" in text
    for o in cheapest:
        assert f"    {o['provider']} {o['model']} {o['method']}: ${o['training_usd']:.2f}" in text
    assert f"prompt lengths vs {production}: train/reference median" in text


def test_token_block_only_with_the_tokens_stage_and_colour_only_on_a_terminal(train):
    report = ftdata.check([str(train)], config_from_table({"select": ["S"]}))
    assert "tokens" not in report.stats and "Tokens" not in text_of(report)
    report = ftdata.check([str(train)], config_from_table({}))
    assert "\x1b[" not in text_of(report) and "\x1b[1mTokens" in text_of(report, color=True)


def test_uncached_hub_tokenizer_offline_is_one_line_exit_two(train, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    result = run("check", str(train), "--tokenizer", "hf:some-org/not-cached-model")
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("ftdata: error: hf:some-org/not-cached-model")
    assert "offline alternatives" in result.output and "Traceback" not in result.output
