"""`generate()`: items from prompts or seeds, a recipe's steps as LLM calls, records that pass `check`.

Every step is one batch of calls through the one client (`ftdata.llm`), so each call is cached and
priced and a killed run resumes without paying twice. The records built from the replies are then
checked by the same pipeline as `ftdata check`, in one run together with the seed and training files
(so duplicates of those are caught); records with errors go to the rejected file with their findings
and the raw replies. Outputs are written atomically at the end, in item order: the same inputs, recipe
and seed give the same file.
"""

import dataclasses
import random
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from ..config import Config, load_config
from ..errors import UsageError
from ..llm import LLMClient, Request, Result, check_params, prompt_tokens, redact_url
from ..llm.client import DEFAULT_MAX_TOKENS
from ..outputs import atomic_writer, claim_outputs
from ..pipeline import check
from ..printable import json_bytes
from ..stages.base import InputFile
from .recipes import Recipe, Step, render
from .sources import Source, read_sources

_LABEL = re.compile(r"^(?:(?:new\s+)?task\s*\d*\s*[:.)-]|\d+\s*[.)])\s*", re.IGNORECASE)  # "Task 4:", "4."
PROVENANCE_KEY = "metadata"  # records carry {"metadata": {"provenance": {...}}}; convert keeps top-level keys


@dataclass
class Item:
    """One record in the making: its template variables, the calls made for it, and its fate."""

    number: int
    variables: dict[str, Any]
    seeds: list[str]  # source records it came from (file:line)
    calls: list[str] = field(default_factory=list)
    replies: dict[str, str | None] = field(default_factory=dict)  # step -> raw reply text
    created: int | None = None  # the last reply's server timestamp
    failure: dict | None = None  # why no record was made
    not_sent: bool = False  # over the budget: the next run makes it


@dataclass
class GenerateReport:
    recipe: str
    model: str
    items: int = 0
    generated: int = 0  # items the model replied to (records built, and replies that could not be used)
    kept: int = 0
    rejected: int = 0  # records the checks rejected, and items whose calls or replies failed
    not_generated: int = 0  # over the budget
    reasons: Counter = field(default_factory=Counter)  # rule code or failure kind -> records
    calls: dict[str, Any] = field(default_factory=dict)  # the client's RunStats of each step, summed
    estimate: dict[str, Any] = field(default_factory=dict)
    stopped_by_budget: bool = False
    unread: list[str] = field(default_factory=list)  # prompt or seed records with no usable prompt: file:line: why

    @property
    def complete(self) -> bool:
        return self.not_generated == 0 and not self.reasons.get("call-failed")

    def to_json(self) -> dict[str, Any]:
        cost = self.calls.get("cost_usd_total")
        return {"recipe": self.recipe, "model": self.model, "items": self.items, "generated": self.generated,
                "kept": self.kept, "rejected": self.rejected, "not_generated": self.not_generated,
                "yield": round(self.kept / self.generated, 4) if self.generated else None,
                "cost_per_kept_usd": round(cost / self.kept, 6) if cost is not None and self.kept else None,
                "reasons": dict(sorted(self.reasons.items())), "calls": self.calls, "estimate": self.estimate,
                "stopped_by_budget": self.stopped_by_budget, "unread": self.unread}


def generate(recipe: Recipe, client: LLMClient, out: str | Path, *, prompts: str | None = None,
             seed_files: list[str] = (), against: list[str] = (), n: int | None = None, seed: int = 0,
             schema: str | None = None, response_format: bool = True, rejected: str | Path | None = None,
             params: dict[str, Any] | None = None, keep_truncated: bool = False,
             config: Config | None = None, force: bool = False, dry_run: bool = False,
             announce: Callable[[dict], None] | None = None) -> GenerateReport:
    """Generate records with `recipe` through `client`; write the kept ones to `out` (JSON Lines) and
    the rejected ones, with reasons and raw replies, to `rejected`. `params` override every step's
    sampling parameters (max_tokens, temperature); `keep_truncated` keeps replies cut at max_tokens
    (the checks still judge them). `announce` gets the pre-run estimate
    before any call is made; with `dry_run` nothing else is done."""
    out = Path(out)
    check_params(params or {}, "--param")
    inputs = [p for p in (prompts, *seed_files, *against) if p]
    claim_outputs([out, *([Path(rejected)] if rejected else [])], inputs, force)
    schema_text, schema_obj = _schema(schema, recipe)
    unread: list[str] = []
    items = _items(recipe, prompts, list(seed_files), n, seed, schema_text, unread)
    report = GenerateReport(recipe=recipe.tag, model=client.model, items=len(items), unread=unread)
    recipe = dataclasses.replace(recipe, steps=[
        dataclasses.replace(step, params={**step.params, **(params or {})},
                            allow_truncated=step.allow_truncated or keep_truncated) for step in recipe.steps])
    first = [_request(recipe, recipe.steps[0], item, seed, schema_obj, response_format) for item in items
             if not _skipped(recipe.steps[0], item)]
    estimate = client.estimate(first)
    later = [_later_step_tokens(step, recipe.steps, len(items)) for step in recipe.steps[1:]]
    report.estimate = {"calls": estimate.calls + len(items) * len(later), "cached": estimate.cached,
                       "prompt_tokens": estimate.prompt_tokens + sum(p for p, _ in later),
                       "max_completion_tokens": estimate.max_completion_tokens + sum(c for _, c in later),
                       "approximate": bool(later)}
    if client.pricing:
        report.estimate["cost_usd_high"] = round(client.pricing.cost(report.estimate["prompt_tokens"],
                                                                     report.estimate["max_completion_tokens"]), 6)
    if announce:
        announce(report.estimate)
    if dry_run:
        return report

    totals: Counter = Counter()
    for step in recipe.steps:
        _run_step(recipe, step, items, client, seed, schema_obj, response_format, totals)
    report.calls = _stats(totals, client)
    report.stopped_by_budget = any(item.not_sent for item in items)
    records = _records(recipe, client, items, seed)
    _check_and_write(records, items, report, out, rejected, list(seed_files) + list(against), config, schema)
    return report


def _later_step_tokens(step: Step, steps: list[Step], items: int) -> tuple[int, int]:
    """(prompt, completion) tokens of a later step for every item, before the earlier replies exist: its
    templates' text plus, at most, every earlier step's max_tokens; its own max_tokens."""
    earlier = sum(s.params.get("max_tokens") or DEFAULT_MAX_TOKENS for s in steps[:steps.index(step)])
    return (items * (prompt_tokens(step.messages) + earlier),
            items * (step.params.get("max_tokens") or DEFAULT_MAX_TOKENS))


def _schema(path: str | None, recipe: Recipe) -> tuple[str, dict | None]:
    needs = any(step.parse == "json" for step in recipe.steps)
    if path is None:
        if needs and any(step.response_format for step in recipe.steps):
            raise UsageError(f"recipe {recipe.name} needs --schema (a JSON Schema file the answers must satisfy)")
        return "", None
    try:
        schema = orjson.loads(Path(path).read_bytes())
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except OSError as e:
        raise UsageError(f"{path}: cannot read the schema: {e.strerror}") from None
    except orjson.JSONDecodeError as e:
        raise UsageError(f"{path}: not JSON: {e}") from None
    except jsonschema.SchemaError as e:
        raise UsageError(f"{path}: not a valid JSON Schema: {e.message}") from None
    return orjson.dumps(schema).decode(), schema


def _items(recipe: Recipe, prompts: str | None, seed_files: list[str], n: int | None, seed: int,
           schema_text: str, unread: list[str] | None = None) -> list[Item]:
    if recipe.source == "seeds":
        if not seed_files:
            raise UsageError(f"recipe {recipe.name} draws from seed examples: give --seed-file")
        if not n or n < 1:
            raise UsageError(f"recipe {recipe.name} makes --n new records: give --n (a positive number)")
        pool = [s for path in seed_files for s in read_sources(path, unread)]
        items = []
        for number in range(n):
            rng = random.Random(f"{seed}:{number}")
            drawn = rng.sample(pool, min(recipe.examples, len(pool)))
            variables = {"examples": [s.prompt for s in drawn], "system": drawn[0].system}
            items.append(Item(number, _with(variables, recipe, rng, schema_text), [s.ref for s in drawn]))
        return items
    paths = [prompts] if prompts else seed_files
    if not paths:
        raise UsageError(f"recipe {recipe.name} needs prompts: give --prompts (or --seed-file)")
    pool: list[Source] = [s for path in paths for s in read_sources(path, unread)]
    if n:
        pool = pool[:n]
    items = []
    for number, source in enumerate(pool):
        variables = {"prompt": source.prompt, "system": source.system}
        if source.answer:
            variables["answer"] = source.answer
        items.append(Item(number, _with(variables, recipe, random.Random(f"{seed}:{number}"), schema_text),
                          [source.ref]))
    return items


def _with(variables: dict, recipe: Recipe, rng: random.Random, schema_text: str) -> dict:
    if recipe.variants:
        variables["variant"] = rng.choice(recipe.variants)
    variables["schema"] = schema_text
    return variables


def _skipped(step: Step, item: Item) -> bool:
    return step.skip_if_present and bool(item.variables.get(step.name))


def _request(recipe: Recipe, step: Step, item: Item, seed: int, schema: dict | None, response_format: bool,
             repair: list[dict] = ()) -> Request:
    params = dict(step.params)
    params.setdefault("seed", seed * 1_000_003 + item.number)  # distinct per item, fixed per run seed
    messages = render(step.messages, item.variables, f"recipe {recipe.name}, step {step.name}") + list(repair)
    plain = Request(messages, params, recipe.tag, f"{item.number}:{step.name}")
    if step.response_format and schema is not None and response_format:
        # a server that refuses structured output gets the plain request: the reply is validated and repaired
        structured = {**params, "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}}
        return Request(messages, structured, recipe.tag, plain.id, fallback=plain)
    return plain


def _run_step(recipe, step, items, client, seed, schema, response_format, totals) -> None:
    todo = [item for item in items if item.failure is None and not item.not_sent and not _skipped(step, item)]
    repairs: dict[int, list[dict]] = {}
    for attempt in range(step.repairs + 1):
        batch = [item for item in todo if attempt == 0 or item.number in repairs]
        if not batch:
            break
        requests = [_request(recipe, step, item, seed, schema, response_format, repairs.get(item.number, ()))
                    for item in batch]
        results = client.run(requests)
        totals.update(_numbers(client))
        earlier, repairs = repairs, {}
        for item, result in zip(batch, results):
            error = _take(step, item, result, schema)
            if error and attempt < step.repairs and result.ok:
                # send the reply back with the validator's error, after the earlier ones: the model gets one
                # more chance, and a repeated reply is never the same request (a cached, equally bad answer)
                repairs[item.number] = [*earlier.get(item.number, ()),
                                        {"role": "assistant", "content": result.content or ""},
                                        {"role": "user", "content": f"That reply is not valid: {error}. "
                                         "Reply again with only the corrected JSON."}]
            elif error:
                item.failure = {"reason": "call-failed" if not result.ok else "reply-unusable", "step": step.name,
                                "message": error}


def _take(step: Step, item: Item, result: Result, schema: dict | None) -> str | None:
    """Parse a step's reply into the item's variables; the reason it cannot be used, or None."""
    if result.status == "over-budget":
        item.not_sent = True
        return None
    if not result.ok:
        return result.error
    item.calls.append(result.key)
    item.replies[step.name] = result.content
    item.created = (result.response or {}).get("created", item.created)
    choice = ((result.response or {}).get("choices") or [{}])[0]
    if choice.get("finish_reason") == "length" and not step.allow_truncated:
        return "the reply was cut at max_tokens"
    text = (result.content or "").strip()
    if step.parse == "line":
        text = _LABEL.sub("", next((line.strip() for line in text.splitlines() if line.strip()), ""), count=1)
    elif step.parse == "json":
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            return f"not JSON ({e})"
        if schema is not None:
            error = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(schema)(schema).iter_errors(value))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "the top level"
                return f"at {where}: {error.message}"
        text = orjson.dumps(value).decode()
    if not text:
        return "the reply is empty"
    item.variables[step.name] = text
    return None


def _numbers(client: LLMClient) -> dict[str, float]:
    """The client's counts after one batch (a Counter sum would drop the zeros)."""
    s = client.stats
    numbers = {k: v for k, v in s.to_json().items() if isinstance(v, (int, float))}
    numbers.update({f"retry {k}": v for k, v in s.retry_reasons.items()})
    return numbers


def _stats(totals: Counter, client: LLMClient) -> dict[str, Any]:
    out = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in totals.items() if not k.startswith("retry ")}
    out["retry_reasons"] = {k.removeprefix("retry "): v for k, v in totals.items() if k.startswith("retry ")}
    for key in ("cost_usd", "cost_usd_total"):
        out[key] = round(totals.get(key, 0.0), 6) if client.pricing else None
    out["pricing"] = client.pricing.source if client.pricing else None
    return out


def _records(recipe: Recipe, client: LLMClient, items: list[Item], seed: int) -> list[tuple[Item, dict]]:
    records = []
    for item in items:
        if item.failure is not None or item.not_sent:
            continue
        provenance = {"recipe": recipe.name, "recipe_version": recipe.version, "model": client.model,
                      "base_url": redact_url(client.base_url), "seed": seed, "item": item.number,
                      "seed_records": item.seeds, "calls": item.calls,
                      "created": datetime.fromtimestamp(item.created, UTC).isoformat() if item.created else None}
        messages = render(recipe.record, item.variables, f"recipe {recipe.name}, record")
        records.append((item, {"messages": messages, PROVENANCE_KEY: {"provenance": provenance}}))
    return records


def _check_and_write(records, items, report, out: Path, rejected, others: list[str], config, schema) -> None:
    config = config or load_config()
    if schema:
        stage = config.stage_options.get("consistency", {})
        config = config.replace(stage_options={**config.stage_options, "consistency": {**stage, "output-schema": schema}})
    rejects: list[dict] = [{"item": item.number, "reasons": [item.failure], "raw_replies": item.replies,
                            PROVENANCE_KEY: {"provenance": {"seed_records": item.seeds, "calls": item.calls}}}
                           for item in items if item.failure is not None]
    report.not_generated = sum(item.not_sent for item in items)
    report.generated = len(records) + sum(item.failure is not None and item.failure["reason"] == "reply-unusable"
                                          for item in items)
    kept = []
    with tempfile.TemporaryDirectory(prefix="ftdata-generate-") as folder:
        generated = Path(folder) / out.name
        generated.write_bytes(b"".join(orjson.dumps(record) + b"\n" for _, record in records))
        errors: dict[int, list] = {}
        if records:
            result = check([*(InputFile(p, "train") for p in others), InputFile(str(generated), "train")], config)
            for finding in result.findings:
                if finding.file == str(generated) and finding.line is not None and finding.severity == "error":
                    errors.setdefault(finding.line, []).append(finding)
        for line, (item, record) in enumerate(records, start=1):
            if line in errors:
                reasons = [_reason(f, str(generated), out) for f in errors[line]]
                rejects.append({"item": item.number, "reasons": reasons, "record": record, "raw_replies": item.replies})
            else:
                kept.append(record)
    for entry in rejects:
        for reason in entry["reasons"]:
            report.reasons[reason.get("code") or reason["reason"]] += 1
    rejects.sort(key=lambda entry: entry["item"])
    report.kept, report.rejected = len(kept), len(rejects)
    with atomic_writer(out) as f:
        f.write(b"".join(orjson.dumps(record) + b"\n" for record in kept))
    if rejected:
        with atomic_writer(Path(rejected)) as f:
            f.write(b"".join(json_bytes(entry) + b"\n" for entry in rejects))


def _reason(finding, generated: str, out: Path) -> dict:
    """A finding about a generated record, its places named by the output file rather than the scratch one."""
    data = finding.to_json()
    del data["file"], data["line"]
    data["related"] = [{"file": str(out) if r["file"] == generated else r["file"], "line": r["line"]}
                       for r in data["related"]]
    return data
