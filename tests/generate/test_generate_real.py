"""`ftdata generate` end to end against the real local server (llama.cpp + SmolLM2-135M)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import jsonschema
import pytest
from click.testing import CliRunner

from ftdata.cli import main
from ftdata.generate import load_recipe

from llm.faultproxy import FaultProxy

PRICE = ["--price-input", "1", "--price-output", "2"]  # USD per million tokens: a private endpoint's price
FAST = ["-p", "max_tokens=32", "-p", "temperature=0", "--keep-truncated"]  # the model does ~50 tokens/s
SEEDS = [("You are a helpful assistant.", "Name a fruit that is yellow.", "A banana is yellow."),
         ("You are a helpful assistant.", "What is the opposite of hot?", "The opposite of hot is cold."),
         ("You are a helpful assistant.", "Give a word that rhymes with cat.", "Hat rhymes with cat."),
         ("You are a helpful assistant.", "How many legs does a spider have?", "A spider has eight legs.")]


def write_seeds(path):
    path.write_text("".join(json.dumps({"messages": [{"role": "system", "content": s}, {"role": "user", "content": u},
                                                     {"role": "assistant", "content": a}]}) + "\n" for s, u, a in SEEDS))
    return str(path)


def write_prompts(path, prompts):
    path.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    return str(path)


def run(args, server, tmp_path):
    url, model = server
    result = CliRunner().invoke(main, ["generate", "--model", model, "--base-url", url, "--cache",
                                       str(tmp_path / "calls.sqlite"), *PRICE, *args])
    return result


def lines(path):
    return [json.loads(line) for line in open(path)]


@pytest.mark.parametrize("recipe", ["answers", "self-instruct", "evolve", "paraphrase"])
def test_every_recipe_makes_records_that_check_accepts(recipe, llm_server, tmp_path):
    seeds = write_seeds(tmp_path / "seeds.jsonl")
    out = tmp_path / "gen.jsonl"
    source = ["--seed-file", seeds, "--n", "2"] if recipe != "answers" else ["--prompts", seeds, "--n", "2"]
    result = run(["--recipe", recipe, *source, "--out", str(out), *FAST, "--report", str(tmp_path / "r.json")],
                 llm_server, tmp_path)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    records = lines(out)
    assert report["kept"] == len(records) >= 1 and report["items"] == 2
    assert report["kept"] + report["rejected"] == 2
    for record in records:
        provenance = record["metadata"]["provenance"]
        assert provenance["recipe"] == recipe and provenance["recipe_version"] == load_recipe(recipe).version
        assert provenance["model"] == llm_server[1] and provenance["calls"] and provenance["seed_records"]
        assert record["messages"][-1]["role"] == "assistant" and record["messages"][-1]["content"]
    check = CliRunner().invoke(main, ["check", str(out), "--output-format", "json"])
    assert check.exit_code == 0 and json.loads(check.output)["summary"]["rejected_records"] == 0, check.output


def test_structured_answers_satisfy_the_schema(llm_server, tmp_path):
    schema = {"type": "object", "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]},
                                               "sure": {"type": "boolean"}}, "required": ["colour", "sure"],
              "additionalProperties": False}
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    prompts = write_prompts(tmp_path / "p.jsonl", ["What colour is the sky?", "What colour is grass?"])
    out = tmp_path / "gen.jsonl"
    result = run(["--recipe", "structured", "--prompts", prompts, "--schema", str(tmp_path / "schema.json"),
                  "--out", str(out), "-p", "max_tokens=48", "-p", "temperature=0"], llm_server, tmp_path)
    assert result.exit_code == 0, result.output
    records = lines(out)
    assert len(records) == 2
    for record in records:
        jsonschema.validate(json.loads(record["messages"][-1]["content"]), schema)


def test_without_structured_output_invalid_replies_are_sent_back_with_the_error(llm_server, tmp_path):
    # an integer between 1000 and 1001 that is a multiple of 7 does not exist: no reply can satisfy it
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1000, "maximum": 1001,
                                                     "multipleOf": 7}}, "required": ["n"]}
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    prompts = write_prompts(tmp_path / "p.jsonl", ["Give a number."])
    out = tmp_path / "gen.jsonl"
    result = run(["--recipe", "structured", "--prompts", prompts, "--schema", str(tmp_path / "schema.json"),
                  "--no-response-format", "--out", str(out), "-p", "max_tokens=24", "-p", "temperature=0",
                  "--keep-truncated", "--output-format", "json"], llm_server, tmp_path)
    report = json.loads(result.output)
    assert report["calls"]["sent"] == 3  # the first reply and two repairs
    [rejected] = lines(tmp_path / "gen.rejected.jsonl")
    assert rejected["reasons"][0]["reason"] == "reply-unusable" and rejected["raw_replies"]["answer"] is not None
    assert lines(out) == []


def test_duplicates_within_the_output_and_of_training_files_are_rejected(llm_server, tmp_path):
    prompts = write_prompts(tmp_path / "p.jsonl", ["Name a month of the year.", "Name a month of the year.",
                                                   "Name a planet."])
    out = tmp_path / "gen.jsonl"
    # temperature 0, one call at a time: the same prompt gets the same answer (two at once may be batched
    # together by the server, whose sums then differ in the last bits), so the second is an exact duplicate
    result = run(["--recipe", "answers", "--prompts", prompts, "--out", str(out), *FAST, "--concurrency", "1"],
                 llm_server, tmp_path)
    assert result.exit_code == 0, result.output
    [duplicate] = lines(tmp_path / "gen.rejected.jsonl")
    assert duplicate["item"] == 1 and duplicate["reasons"][0]["code"] == "D001"
    assert duplicate["raw_replies"]["answer"] and duplicate["reasons"][0]["related"][0]["file"] == str(out)
    kept = lines(out)
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"messages": kept[1]["messages"]}) + "\n")
    again = run(["--recipe", "answers", "--prompts", prompts, "--out", str(out), *FAST, "--concurrency", "1", "--against", str(train),
                 "--force", "--output-format", "json"], llm_server, tmp_path)
    report = json.loads(again.output)
    assert report["calls"]["sent"] == 0 and report["calls"]["cached"] == 3  # nothing paid twice
    assert report["kept"] == 1 and report["reasons"] == {"D001": 2}


def test_max_cost_stops_cleanly_and_says_how_to_continue(llm_server, tmp_path):
    prompts = write_prompts(tmp_path / "p.jsonl", [f"Name an animal that starts with the letter {c}." for c in "ABCDEF"])
    out = tmp_path / "gen.jsonl"
    expensive = ["--price-input", "1000", "--price-output", "1000"]  # ~$0.06 a call
    first = run(["--recipe", "answers", "--prompts", prompts, "--out", str(out), *FAST, *expensive,
                 "--max-cost", "0.15", "--concurrency", "1"], llm_server, tmp_path)
    assert first.exit_code == 1 and "higher --max-cost and --force" in first.output
    generated = lines(out)
    assert 1 <= len(generated) < 6
    second = run(["--recipe", "answers", "--prompts", prompts, "--out", str(out), *FAST, *expensive,
                  "--max-cost", "5", "--force", "--output-format", "json"], llm_server, tmp_path)
    report = json.loads(second.output)
    assert second.exit_code == 0 and report["not_generated"] == 0
    assert report["calls"]["cached"] == len(generated) and report["calls"]["sent"] == 6 - len(generated)


def test_provenance_survives_convert_and_a_rerun_gives_the_same_file(llm_server, tmp_path):
    prompts = write_prompts(tmp_path / "p.jsonl", ["Name a tree."])
    out = tmp_path / "gen.jsonl"
    assert run(["--recipe", "answers", "--prompts", prompts, "--out", str(out), *FAST], llm_server, tmp_path).exit_code == 0
    converted = tmp_path / "gen.sharegpt.jsonl"
    assert CliRunner().invoke(main, ["convert", str(out), str(converted), "--to", "sharegpt"]).exit_code == 0
    [record] = lines(converted)
    assert record["metadata"] == lines(out)[0]["metadata"]
    first = out.read_bytes()
    assert run(["--recipe", "answers", "--prompts", prompts, "--out", str(out), *FAST, "--force"], llm_server,
               tmp_path).exit_code == 0
    assert out.read_bytes() == first  # the same inputs, recipe and seed: the same file


def test_killed_mid_run_and_resumed_pays_nothing_twice(llm_server, tmp_path):
    """SIGKILL while calls are parked at the proxy, then the same command again: no successful call is
    repeated, no record is lost or doubled, the output is never half-written, and the dollars add up."""
    url, model = llm_server
    proxy = FaultProxy(url.removesuffix("/v1"))
    prompts = write_prompts(tmp_path / "p.jsonl", [f"Write one short sentence about the number {i}." for i in range(6)])
    out, cache = tmp_path / "gen.jsonl", tmp_path / "calls.sqlite"
    command = [sys.executable, "-m", "ftdata", "generate", "--recipe", "answers", "--prompts", prompts, "--out",
               str(out), "--model", model, "--base-url", proxy.url, "--cache", str(cache), *PRICE, *FAST,
               "--concurrency", "2", "--no-progress", "--output-format", "json"]
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-SECRET-42"}
    try:
        proxy.hold_after = 3  # requests arriving after three replies wait at the proxy
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while not (proxy.waiting == 2 and _rows(cache) == sum(proxy.delivered.values()) >= 3):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = sum(proxy.delivered.values())
        assert not out.exists()  # never half-written: it appears whole at the end or not at all
        proxy.hold_after = None
        proxy.release()
        resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        report = json.loads(resumed.stdout)
    finally:
        proxy.close()
    assert not list(tmp_path.glob(".gen*"))  # the killed run's scratch output is gone after the resumed one
    assert max(proxy.delivered.values()) == 1 and sum(proxy.delivered.values()) == 6  # no call paid twice
    assert report["calls"]["cached"] == before and report["calls"]["sent"] == 6 - before
    items = sorted([r["metadata"]["provenance"]["item"] for r in lines(out)]
                   + [r["item"] for r in lines(tmp_path / "gen.rejected.jsonl")])
    assert items == list(range(6))  # none lost, none doubled
    usage = sum(u["prompt_tokens"] * 1 + u["completion_tokens"] * 2 for u in proxy.usage) / 1e6
    assert report["calls"]["cost_usd_total"] == pytest.approx(usage, abs=1e-9)
    everything = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())  # outputs, cache and its WAL
    assert b"SECRET" not in everything and b"SECRET" not in resumed.stderr.encode()


def _rows(cache) -> int:
    if not cache.exists():
        return -1
    try:
        return sqlite3.connect(cache).execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not made yet
        return -1


def test_a_server_refusing_response_format_gets_the_same_question_without_it(llm_server, tmp_path):
    """The one client's fallback: the first structured call is refused (HTTP 400), asked again without
    response_format, and the rest go without it; replies are then validated against the schema alone."""
    url, model = llm_server
    proxy = FaultProxy(url.removesuffix("/v1"))
    proxy.refuse_format = True
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]}))
    prompts = write_prompts(tmp_path / "p.jsonl", ["Name a colour.", "Name a fruit's colour."])
    try:
        result = run(["--recipe", "structured", "--prompts", prompts, "--schema", str(schema), "--out",
                      str(tmp_path / "gen.jsonl"), *FAST, "--concurrency", "1", "--output-format", "json",
                      "-p", "extra_body.top_k=1"], (proxy.url, model), tmp_path)
    finally:
        proxy.close()
    report = json.loads(result.output)
    assert result.exit_code == 0 and "call-failed" not in report["reasons"], result.output
    calls = report["calls"]
    assert calls["format_refused"] == calls["sent"] >= 2 and calls["cached"] == 0  # every call, repairs too, went
    # without; each repair carries the earlier replies, so even a model repeating itself is asked anew
    assert [what for _, what in proxy.log][:2] == ["refuse-format", "forward"]
    assert "refuse-format" not in [what for _, what in proxy.log][2:]  # learnt: the rest went without it
    assert report["generated"] == 2 and report["kept"] + report["rejected"] == 2
    assert all(body["top_k"] == 1 for body in proxy.bodies)  # extra_body reaches the server as it is
