"""`judge()`: every record scored by an LLM against a rubric, through the one LLM client (`ftdata.llm`).

The output is the input, record for record, each with JUDGE_KEY added (or replaced). A record gets no
judgement, and the summary says why, when its call failed or was over budget (run again: answered calls
come from the cache), or when it is not a record ftdata can read. A reply that does not parse is kept with
its raw text and the parse error, and no scores. A structured request carries the tagged one as its
fallback: a server that refuses structured output is asked in the tagged format (by the client).
"""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..config import Config, Policy
from ..llm import LLMClient, Request, Result
from ..outputs import atomic_writer, claim_outputs
from ..pipeline import split_of
from ..stages.base import Context, InputFile, Shard
from ..stages.read import ReadStage, check_readable
from ..targets import load_target
from . import JUDGE_KEY
from .rubric import ReplyError, Rubric, messages, parse, response_format, transcript

BATCH = 256  # records per client run: output memory stays bounded, progress is written as it goes
MAX_TOKENS = 200


def _records(path: str) -> Iterator[tuple[bytes, dict | None]]:
    config = Config()
    source = InputFile(path, split_of(path))
    ctx = Context(config, load_target(config.target), Policy(config), [source])
    for example in ReadStage(ctx).records(Shard(source)):
        data = example.data
        if data is None:
            try:
                data = orjson.loads(example.raw)
            except orjson.JSONDecodeError:
                data = None
        yield example.raw, data if isinstance(data, dict) else None


def request(rubric: Rubric, text: str, structured: bool, index: int, max_tokens: int = MAX_TOKENS,
            seed: int | None = None) -> Request:
    params: dict[str, Any] = {"temperature": 0, "max_tokens": max_tokens}
    if seed is not None:  # sent to the server, and part of the cache key: another seed asks again
        params["seed"] = seed
    if structured:
        params["response_format"] = response_format(rubric)
    return Request(messages(rubric, text, structured), params,
                   version=f"{rubric.recipe_version}:{'json' if structured else 'tagged'}", id=str(index),
                   fallback=request(rubric, text, False, index, max_tokens, seed) if structured else None)


def judge(path: str, out: str | Path, rubric: Rubric, client: LLMClient, *, structured: bool = True,
          max_chars: int = 6000, max_tokens: int = MAX_TOKENS, seed: int | None = None,
          force: bool = False) -> dict[str, Any]:
    check_readable(path)
    claim_outputs([Path(out)], [path], force)
    counts: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    totals = Counter()
    with atomic_writer(Path(out)) as f:
        batch: list[tuple[bytes, dict | None, str | None]] = []
        for raw, data in _records(path):
            if data is not None:
                data.pop(JUDGE_KEY, None)  # a judged file judged again gets the new judgement only
            batch.append((raw, data, transcript(data, max_chars) if data is not None else None))
            if len(batch) >= BATCH:
                _settle(batch, rubric, client, structured, max_tokens, seed, f, counts, verdicts, totals)
        _settle(batch, rubric, client, structured, max_tokens, seed, f, counts, verdicts, totals)
    return {"records": sum(counts.values()), **{k: counts[k] for k in
            ("judged", "unparsed_reply", "call_failed", "over_budget", "unreadable")},
            "verdicts": dict(verdicts), "tagged_fallback": counts["tagged_fallback"],
            "rubric": rubric.name, "model": client.model, "calls": dict(totals)}


def _settle(batch, rubric, client, structured, max_tokens, seed, f, counts, verdicts, totals) -> None:
    asks = [(i, text) for i, (_, _, text) in enumerate(batch) if text is not None]
    results = dict(zip((i for i, _ in asks),
                       client.run([request(rubric, t, structured, i, max_tokens, seed) for i, t in asks])))
    _add(totals, client)
    counts["tagged_fallback"] += client.stats.format_refused
    for i, (raw, data, text) in enumerate(batch):
        if text is None:
            counts["unreadable"] += 1
            f.write(raw.replace(b"\n", b" ") + b"\n")
            continue
        entry = _entry(rubric, client.model, results[i])
        if entry is None:
            counts["over_budget" if results[i].status == "over-budget" else "call_failed"] += 1
        else:
            data[JUDGE_KEY] = entry
            counts["judged" if "verdict" in entry else "unparsed_reply"] += 1
            if "verdict" in entry:
                verdicts[entry["verdict"]] += 1
        f.write(orjson.dumps(data) + b"\n")
    batch.clear()


def _entry(rubric: Rubric, model: str, result: Result) -> dict[str, Any] | None:
    if not result.ok:
        return None
    structured = "response_format" in result.request.params
    entry: dict[str, Any] = {"rubric": rubric.name, "model": model, "reply_format": "json" if structured else "tagged"}
    try:
        j = parse(rubric, result.content, structured)
    except ReplyError as e:
        return {**entry, "error": f"unparsed reply: {e}", "raw": result.content}
    return {**entry, "scores": j.scores, "overall": j.overall, "verdict": j.verdict, "rationale": j.rationale,
            "raw": result.content}


def _add(totals: Counter, client: LLMClient) -> None:
    stats = client.stats
    for key in ("sent", "cached", "failed", "over_budget", "retries", "prompt_tokens", "completion_tokens"):
        totals[key] += getattr(stats, key)
    totals["cost_usd"] += stats.cost_usd if stats.priced else 0
