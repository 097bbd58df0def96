"""`ftdata cost` loads only the tokenizers of the options asked for: a target's own provider, and no
library a shipped tokenizer does not need. Each run is a fresh interpreter, so what it imported is what
that command needed (the test process itself has loaded every tokenizer by now)."""

import json
import subprocess
import sys

import pytest

HEAVY = ("transformers", "mistral_common")
PROBE = """
import json, sys
from click.testing import CliRunner
from ftdata.cli import main
result = CliRunner().invoke(main, ["cost", *sys.argv[1:], "--output-format", "json"])
print(json.dumps({"exit": result.exit_code, "output": result.output,
                  "imported": sorted(m for m in %r if m in sys.modules)}))
""" % (HEAVY,)


def cost(*args: str) -> tuple[dict, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)
    assert probe["exit"] == 0, probe["output"]
    return json.loads(probe["output"]), probe["imported"]


@pytest.fixture
def records(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"messages": [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": f"What is {i} plus {i}?"},
        {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]}) + "\n" for i in range(12)))
    return str(path)


def test_a_target_prices_only_its_provider_with_only_its_tokenizers(records):
    table, imported = cost(records, "--target", "openai")
    assert {row["provider"] for row in table["options"]} == {"openai"}
    assert {row["counted_with"] for row in table["options"]} == {"o200k_base", "cl100k_base"}
    assert imported == []  # neither transformers nor mistral-common: OpenAI's encodings need neither


def test_llama3_counts_without_importing_transformers(records):
    table, imported = cost(records, "--model", "llama-3.3-70b")
    assert {row["counted_with"] for row in table["options"]} == {"llama3"} and table["examples"] == 12
    assert "transformers" not in imported


def test_the_generic_target_and_no_target_price_every_provider(records):
    every, _ = cost(records)
    generic, _ = cost(records, "--target", "generic")
    assert len({row["provider"] for row in every["options"]}) >= 5
    assert generic["options"] == every["options"]
