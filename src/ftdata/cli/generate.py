"""`ftdata generate`: a thin shell over `ftdata.generate.generate` and the one LLM client.

Settings: flags, else `[tool.ftdata.generate]` (the same names: model, base-url, concurrency,
max-cost...), else $OPENAI_BASE_URL / $OPENAI_API_KEY. Exit 0: every item was generated (rejections
are part of the yield); 1: some were not (the budget ran out or calls failed: run again to continue);
2: usage or I/O error.
"""

import sys
import tomllib
from pathlib import Path

import click
import orjson

from ..config import load_config
from ..errors import EXIT_FINDINGS, EXIT_OK, UsageError
from ..outputs import atomic_writer, claim_outputs
from ..printable import terminal
from . import force_option, main

# [tool.ftdata.generate] keys and their types; each is also a flag of the same name
_SETTINGS = {"model": str, "base-url": str, "provider": str, "price-input": float, "price-output": float,
             "max-cost": float, "concurrency": int, "requests-per-minute": float, "tokens-per-minute": float,
             "timeout": float, "max-retries": int, "cache": str}


@main.command("generate")
@click.option("--recipe", required=True, help="A shipped recipe (answers, self-instruct, evolve, paraphrase, "
              "structured) or a recipe .toml path.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Kept records (JSON Lines).")
@click.option("--rejected", type=click.Path(dir_okay=False),
              help="Rejected records with reasons and raw replies (default: OUT's name + .rejected.jsonl).")
@click.option("--prompts", type=click.Path(dir_okay=False), help="Prompts: {\"prompt\": ...} lines or chat records.")
@click.option("--seed-file", "seed_files", multiple=True, type=click.Path(dir_okay=False),
              help="Seed examples (self-instruct draws from them); generated records may not duplicate them.")
@click.option("--against", multiple=True, type=click.Path(dir_okay=False),
              help="Training files the generated records may not duplicate.")
@click.option("--n", "count", type=click.IntRange(min=1), help="How many items (self-instruct: required; "
              "others: the first N prompts).")
@click.option("--seed", type=int, default=0, show_default=True, help="Fixes sampling and draws: same seed, same output.")
@click.option("--schema", type=click.Path(dir_okay=False), help="JSON Schema the answers must satisfy (structured).")
@click.option("--no-response-format", is_flag=True, help="The server has no structured output: validate and retry only.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A request parameter of the chat completions API for every step, over the recipe's (e.g. "
              "max_tokens=256, temperature=0); an unknown name is an error. A server's own parameter goes "
              "under extra_body, sent as it is: extra_body.top_k=40.")
@click.option("--keep-truncated", is_flag=True, help="Keep replies cut at max_tokens (the checks still judge them).")
@click.option("--model", help="Model name at the endpoint.")
@click.option("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL). The key: $OPENAI_API_KEY.")
@click.option("--provider", help="Whose prices in rules/prices.toml to use for the model.")
@click.option("--price-input", type=click.FloatRange(min=0), help="Your price: USD per million prompt tokens.")
@click.option("--price-output", type=click.FloatRange(min=0), help="Your price: USD per million completion tokens.")
@click.option("--max-cost", type=click.FloatRange(min=0), help="USD: a hard stop; what was generated is kept.")
@click.option("--concurrency", type=click.IntRange(min=1), help="Calls at the same time (default 4).")
@click.option("--requests-per-minute", type=click.FloatRange(min=0, min_open=True))
@click.option("--tokens-per-minute", type=click.FloatRange(min=0, min_open=True))
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds per attempt (default 120).")
@click.option("--max-retries", type=click.IntRange(min=0), help="Retries per call on 429, 5xx, timeouts (default 6).")
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False),
              help="The call cache (default: $FTDATA_CACHE_DIR or ~/.cache/ftdata/llm-calls.sqlite).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the call cache.")
@click.option("--dry-run", is_flag=True, help="Print the estimate and stop.")
@click.option("-t", "--target", help="Provider profile the records must pass (as in check).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Also write the JSON report here.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
@force_option
def generate_command(recipe, out, rejected, prompts, seed_files, against, count, seed, schema, no_response_format,
                     params, keep_truncated, target, report_path, output_format, config_path, no_progress, force, dry_run, no_cache,
                     **flags):
    """Generate training records with an LLM; keep those that pass the checks."""
    from ..generate import generate, load_recipe
    from ..llm import CallCache, LLMClient, default_cache_path, find_pricing

    config = load_config(Path(config_path) if config_path else None).replace(target=target)
    settings = _settings(config.command_options.get("generate", {}), flags)
    if not settings.get("model"):
        raise UsageError("no model: pass --model or set model in [tool.ftdata.generate]")
    rejected = rejected or str(Path(out).with_name(Path(out).name.removesuffix(".jsonl") + ".rejected.jsonl"))
    if report_path:
        claim_outputs([Path(report_path)], [p for p in (prompts, *seed_files, *against) if p], force)
    pricing = find_pricing(settings["model"], settings.get("provider"), settings.get("price-input"),
                           settings.get("price-output"))
    client = LLMClient(settings["model"], settings.get("base-url"),
                       cache=None if no_cache else CallCache(settings.get("cache") or default_cache_path()),
                       pricing=pricing, concurrency=settings.get("concurrency", 4),
                       requests_per_minute=settings.get("requests-per-minute"),
                       tokens_per_minute=settings.get("tokens-per-minute"),
                       max_retries=settings.get("max-retries", 6), timeout=settings.get("timeout", 120.0),
                       max_cost=settings.get("max-cost"),
                       progress=not no_progress and sys.stderr.isatty() and output_format == "text")
    report = generate(load_recipe(recipe), client, out, prompts=prompts, seed_files=list(seed_files),
                      against=list(against), n=count, seed=seed, schema=schema,
                      response_format=not no_response_format, rejected=rejected, config=config, force=force,
                      params=_params(params), keep_truncated=keep_truncated,
                      dry_run=dry_run, announce=_announce if output_format == "text" else None)
    data = report.to_json()
    if report_path:
        with atomic_writer(Path(report_path)) as f:
            f.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    if output_format == "json":
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    elif not dry_run:
        _summary(data, out, rejected, settings.get("max-cost"))
    sys.exit(EXIT_OK if dry_run or report.complete else EXIT_FINDINGS)


def _settings(table: dict, flags: dict) -> dict:
    """Flags over [tool.ftdata.generate], each key and type checked."""
    settings = {}
    for key, value in table.items():
        kind = _SETTINGS.get(key)
        if kind is None:
            raise UsageError(f"[tool.ftdata.generate]: unknown setting {key!r}; known: {', '.join(sorted(_SETTINGS))}")
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else kind):
            raise UsageError(f"[tool.ftdata.generate]: {key} must be a {kind.__name__}, not {value!r}")
        settings[key] = value
    for name, value in flags.items():
        if value is not None:
            settings[name.replace("_", "-").removesuffix("-path")] = value
    return settings


def _params(pairs: tuple[str, ...]) -> dict:
    """NAME=VALUE pairs, values read as TOML (a bare word is a string); extra_body.NAME=VALUE goes into
    the extra_body table (what the openai client sends as it is)."""
    params: dict = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or name.endswith("."):
            raise UsageError(f"--param takes NAME=VALUE, not {pair!r}")
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value
        head, dot, rest = name.partition(".")
        if dot and head == "extra_body":
            params.setdefault("extra_body", {})[rest] = parsed
        else:
            params[name] = parsed
    return params


def _announce(estimate: dict) -> None:
    cost = f", at most ${estimate['cost_usd_high']:.4f}" if "cost_usd_high" in estimate else ", no price known"
    rough = " (later steps estimated from max_tokens)" if estimate["approximate"] else ""
    click.echo(f"estimate: {estimate['calls']} calls to send ({estimate['cached']} cached), "
               f"~{estimate['prompt_tokens']:,} prompt tokens, up to {estimate['max_completion_tokens']:,} "
               f"completion tokens{cost}{rough}", err=True)


def _summary(data: dict, out: str, rejected: str, max_cost: float | None) -> None:
    calls = data["calls"]
    reasons = ", ".join(f"{code} {n}" for code, n in data["reasons"].items())
    share = f"{data['yield']:.0%}" if data["yield"] is not None else "n/a"
    click.echo(f"{data['recipe']} on {data['model']}: {data['items']} items, {data['generated']} records generated, "
               f"{data['kept']} kept (yield {share}), {data['rejected']} rejected{f' ({reasons})' if reasons else ''}")
    money = (f"; ${calls['cost_usd']:.6f} this run, ${calls['cost_usd_total']:.6f} in all"
             + (f", ${data['cost_per_kept_usd']:.6f} per kept record" if data["cost_per_kept_usd"] is not None else "")
             if calls.get("cost_usd") is not None else "; no price known for this model (--price-input/--price-output)")
    click.echo(f"calls: {calls.get('sent', 0)} sent, {calls.get('cached', 0)} cached, {calls.get('failed', 0)} failed, "
               f"{calls.get('retries', 0)} retries; {calls.get('prompt_tokens', 0) + calls.get('completion_tokens', 0):,} "
               f"tokens{money}")
    click.echo(f"wrote {out} ({data['kept']}) and {rejected} ({data['rejected']})")
    if calls.get("format_refused"):
        click.echo(f"the server refused response_format: {calls['format_refused']} calls were sent without it, "
                   "their replies checked against the schema only (--no-response-format skips the refused attempt)",
                   err=True)
    if data["unread"]:
        shown = "; ".join(terminal(u) for u in data["unread"][:5]) + ("; ..." if len(data["unread"]) > 5 else "")
        click.echo(f"{len(data['unread'])} input records had no usable prompt and were skipped: {shown}", err=True)
    if data["stopped_by_budget"]:
        click.echo(f"stopped at --max-cost ${max_cost}: {data['not_generated']} items not generated. To continue, run "
                   "the same command with a higher --max-cost and --force: calls already made come from the cache "
                   "and are not paid again.", err=True)
    elif data["reasons"].get("call-failed"):
        click.echo("some calls failed after their retries (see the rejected file); run the same command with --force "
                   "to retry them: the calls that succeeded come from the cache.", err=True)
