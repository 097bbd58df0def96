"""`ftdata judge` end to end against the real local server (llama.cpp + SmolLM2-135M, tests/llm/server.py).

The model is tiny: these tests assert the structure of what the judge writes (integer scores for every
dimension, a verdict from the thresholds, the raw reply kept, failures reported and never filled in), not
the quality of its judgement; benchmarks/bench_judge.py measures that."""

import json

from click.testing import CliRunner

from ftdata.cli import main
from ftdata.judge import JUDGE_KEY, VERDICTS
from ftdata.judge.rubric import load_rubric
from ftdata.review.queue import build_queue

from llm.faultproxy import FaultProxy
from review.conftest import SUPPORT


def _records(path, n):
    lines = SUPPORT.read_text().splitlines()
    chosen = [lines[0], lines[12], lines[14]][:n]
    path.write_text("".join(line + "\n" for line in chosen))
    return path


def _judge(args, server, tmp_path):
    url, model = server
    return CliRunner().invoke(main, ["judge", *args, "--model", model, "--base-url", url, "--cache",
                                     str(tmp_path / "calls.sqlite"), "--max-tokens", "120", "--concurrency", "2",
                                     "--output-format", "json"])


def test_structured_scores_verdicts_and_cache(llm_server, tmp_path):
    source, out = _records(tmp_path / "in.jsonl", 3), tmp_path / "scored.jsonl"
    result = _judge([str(source), "--out", str(out)], llm_server, tmp_path)
    assert result.exit_code in (0, 1), result.output
    summary = json.loads(result.output)
    rubric = load_rubric("general")
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(scored) == 3 and summary["records"] == 3
    judged = [r[JUDGE_KEY] for r in scored if JUDGE_KEY in r and "verdict" in r[JUDGE_KEY]]
    assert len(judged) == summary["judged"] and summary["judged"] + summary["unparsed_reply"] + summary["call_failed"] == 3
    for j in judged:
        assert set(j["scores"]) == {d.name for d in rubric.dimensions}
        assert all(isinstance(v, int) and 1 <= v <= 5 for v in j["scores"].values())
        assert j["overall"] == rubric.overall(j["scores"]) and j["verdict"] == rubric.verdict(j["overall"])
        assert j["verdict"] in VERDICTS and j["raw"] and j["reply_format"] == "json"
    for r in scored:  # the record itself is unchanged
        original = json.loads(SUPPORT.read_text().splitlines()[0]) if "reset my password" in json.dumps(r) else None
        if original:
            original.pop(JUDGE_KEY)
            assert {k: v for k, v in r.items() if k != JUDGE_KEY} == original
    # a second run is answered from the call cache
    again = _judge([str(source), "--out", str(tmp_path / "again.jsonl")], llm_server, tmp_path)
    assert json.loads(again.output)["calls"]["sent"] == 0 and json.loads(again.output)["calls"]["cached"] == 3
    # and the review queue reads the judgement
    summary = build_queue(str(out), tmp_path / "review.sqlite", fraction=1.0, audit=0.0)
    assert summary["judged"] == len(judged)


def test_tagged_replies_are_parsed_or_reported_never_guessed(llm_server, tmp_path):
    source, out = _records(tmp_path / "in.jsonl", 2), tmp_path / "scored.jsonl"
    result = _judge([str(source), "--out", str(out), "--reply", "tagged"], llm_server, tmp_path)
    summary = json.loads(result.output)
    for record in (json.loads(line) for line in out.read_text().splitlines()):
        j = record[JUDGE_KEY]
        assert j["reply_format"] == "tagged" and isinstance(j["raw"], str)
        if "error" in j:  # SmolLM2-135M rarely keeps to the tags: the reply is kept, no score is made up
            assert j["error"].startswith("unparsed reply") and "scores" not in j and "verdict" not in j
        else:
            assert j["verdict"] in VERDICTS
    assert summary["unparsed_reply"] + summary["judged"] == 2
    assert result.exit_code == (0 if summary["judged"] == 2 else 1)


def test_bad_rubric_is_a_usage_error(llm_server, tmp_path):
    source = _records(tmp_path / "in.jsonl", 1)
    result = _judge([str(source), "--out", str(tmp_path / "o.jsonl"), "--rubric", "nope"], llm_server, tmp_path)
    assert result.exit_code == 2 and "unknown rubric 'nope'" in result.output


def test_seed_is_sent_and_keys_the_cache(llm_server, tmp_path):
    source = _records(tmp_path / "in.jsonl", 2)
    proxy = FaultProxy(llm_server[0].removesuffix("/v1"))
    try:
        runs = [json.loads(_judge([str(source), "--out", str(tmp_path / f"o{n}.jsonl"), "--reply", "tagged",
                                   *seed], (proxy.url, llm_server[1]), tmp_path).output)["calls"]
                for n, seed in enumerate([["--seed", "7"], ["--seed", "7"], ["--seed", "8"], []])]
    finally:
        proxy.close()
    assert [(c["sent"], c["cached"]) for c in runs] == [(2, 0), (0, 2), (2, 0), (2, 0)]
    assert [body.get("seed") for body in proxy.bodies] == [7, 7, 8, 8, None, None]


def test_a_server_refusing_structured_output_is_asked_in_the_tagged_format(llm_server, tmp_path):
    source, out = _records(tmp_path / "in.jsonl", 2), tmp_path / "scored.jsonl"
    proxy = FaultProxy(llm_server[0].removesuffix("/v1"))
    proxy.refuse_format = True
    try:
        summary = json.loads(_judge([str(source), "--out", str(out)], (proxy.url, llm_server[1]), tmp_path).output)
    finally:
        proxy.close()
    assert summary["tagged_fallback"] == 2 and summary["call_failed"] == 0
    answered = [body for body, (_, what) in zip(proxy.bodies, proxy.log) if what == "forward"]
    assert len(answered) == 2 and not any("response_format" in body for body in answered)
    assert all(json.loads(line)[JUDGE_KEY]["reply_format"] == "tagged" for line in out.read_text().splitlines())
