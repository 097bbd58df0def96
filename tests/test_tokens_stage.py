"""The tokens stage inside `ftdata check`, and `ftdata cost`, end to end."""

import json

import orjson
import pytest
from click.testing import CliRunner

import ftdata
from ftdata.cli import main
from ftdata.config import config_from_table
from ftdata.tokens import TokenCounter, load_tokenizer

SYSTEM = "You are a support assistant for Acme. Answer in one short sentence."


def chat(question: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question},
                                      {"role": "assistant", "content": answer}]})


@pytest.fixture
def train(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\n".join(chat(f"How do I reset password number {i}?", f"Use the reset link, step {i}.")
                                for i in range(30)) + b"\n")
    return path


def test_report_stats_and_cost(train):
    report = ftdata.check([str(train)], config_from_table({"target": "openai"}))
    stats = report.stats["tokens"]
    assert stats["tokenizer"] == "o200k_base" and stats["model"] == "gpt-4o-mini" and stats["limit"] == 65536
    counter = TokenCounter(load_tokenizer("o200k_base"))
    expected = []
    for line in train.read_bytes().splitlines():
        messages = orjson.loads(line)["messages"]
        expected.append(sum(3 + counter.text(m["role"]) + counter.text(m["content"]) for m in messages) + 3)
    assert stats["total_tokens"] == sum(expected)
    assert stats["tokens_per_record"]["max"] == max(expected) and stats["tokens_per_record"]["count"] == 30
    assert stats["cache"]["strings_tokenised"] < 30 * 3  # the system prompt and roles are tokenised once
    assert set(stats["role_shares"]) == {"system", "user", "assistant", "layout"}
    cost = stats["cost"]
    assert cost["examples"] == 30
    mini = next(o for o in cost["options"] if o["model"] == "gpt-4o-mini")
    assert mini["epochs"] == 3 and mini["billed_tokens"] == sum(expected) * 3  # 30 x 3 = 90 < 100 -> 100 // 30
    assert mini["training_usd"] == round(sum(expected) * 3 * 3.00 / 1e6, 2)  # OpenAI's $3.00 per 1M training tokens
    usd = [o["training_usd"] for o in cost["options"]]
    assert usd == sorted(usd)


def test_reference_file_of_long_production_prompts_warns(train, tmp_path):
    production = tmp_path / "prod.jsonl"
    long_question = "Here is my whole order history, please read it: " + "order 1234, shipped, returned; " * 150
    production.write_bytes(b"\n".join(orjson.dumps({"messages": [{"role": "system", "content": SYSTEM},
                                                               {"role": "user", "content": long_question + str(i)}]})
                                      for i in range(40)))
    config = config_from_table({"tokens": {"reference": str(production)}})
    report = ftdata.check([str(train)], config)
    assert [f.code for f in report.findings if f.code.startswith("K")] == ["K003"]
    reference = report.stats["tokens"]["reference"]
    assert reference["ks_statistic"] == 1.0 and reference["train_to_reference_ratio"]["p50"] < 0.1

    counter = TokenCounter(load_tokenizer("o200k_base"))
    prompts = [sum(3 + counter.text(m["role"]) + counter.text(m["content"]) for m in orjson.loads(line)["messages"][:2])
               for line in train.read_bytes().splitlines()]
    assert report.stats["tokens"]["prompt_tokens_per_record"]["max"] == max(prompts)
    lengths = tmp_path / "lengths.txt"  # a length summary of production shaped like the training prompts
    lengths.write_text("\n".join(str(n) for n in prompts[::-1]))
    report = ftdata.check([str(train)], config_from_table({"tokens": {"reference": str(lengths)}}))
    assert not [f for f in report.findings if f.code == "K003"]


def test_bad_reference_is_an_input_error(train, tmp_path):
    bad = tmp_path / "prod.jsonl"
    bad.write_text('{"messages": []}\n{not json\n')
    with pytest.raises(ftdata.InputError, match=r"prod.jsonl:2: invalid JSON"):
        ftdata.check([str(train)], config_from_table({"tokens": {"reference": str(bad)}}))
    with pytest.raises(ftdata.InputError, match="reference file not found"):
        ftdata.check([str(train)], config_from_table({"tokens": {"reference": str(tmp_path / "missing.jsonl")}}))


def test_online_only_model_tokenizer_is_approximated_and_said_so(train):
    report = ftdata.check([str(train)], config_from_table({"target": "vertex"}))
    assert report.stats["tokens"]["tokenizer"] == "o200k_base" and report.stats["tokens"]["approximate"]
    [message] = [f.message for f in report.findings if f.code == "K006"]
    assert message.startswith("gemini-flash's tokenizer is online-only (Gemini's tokenizer is served by Vertex AI")
    assert message.endswith("counted with o200k_base, so lengths, limits and cost are approximate")
    chosen = ftdata.check([str(train)], config_from_table({"target": "vertex", "tokenizer": "cl100k_base"}))
    assert chosen.stats["tokens"]["tokenizer"] == "cl100k_base" and not chosen.stats["tokens"]["approximate"]
    assert "K006" not in chosen.summary["by_code"]


def test_cost_command_table_and_json(train):
    pytest.importorskip("sentencepiece")  # Mixtral and Mistral Large count with Mistral's v3 SentencePiece file
    runner = CliRunner()
    result = runner.invoke(main, ["cost", str(train), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.output)
    assert {o["provider"] for o in table["options"]} == {"openai", "together", "fireworks", "mistral", "vertex",
                                                         "self-hosted"}
    counted = {o["model"]: o["counted_with"] for o in table["options"]}
    assert counted["gpt-3.5-turbo"] == "cl100k_base" and counted["llama-3.3-70b"] == "llama3"
    assert counted["mistral-small"] == "mistral:tekken"
    result = runner.invoke(main, ["cost", str(train), "--provider", "together", "--model", "llama-3.3-70b",
                                  "--method", "lora", "--epochs", "2", "--requests-per-month", "1000000"])
    assert result.exit_code == 0, result.output
    assert "together" in result.output and "openai" not in result.output and "total" in result.output
    result = runner.invoke(main, ["cost", str(train), "--provider", "nobody"])
    assert result.exit_code == 2 and "no price for nobody" in result.output
