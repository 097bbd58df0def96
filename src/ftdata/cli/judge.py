"""`ftdata judge IN --out scored.jsonl`: an LLM scores every record against a rubric (rules/rubrics/).

Calls go through the one LLM client (`ftdata.llm`), with its cache, budget, retries and cost tally.
Exit 0: every record was judged; 1: some were not (failed calls, budget, unparsed replies: run again,
answered calls come from the cache); 2: usage or I/O error.
"""

import sys

import click
import orjson

from ..errors import EXIT_FINDINGS, EXIT_OK, UsageError
from ..printable import terminal
from . import force_option, main


@main.command("judge")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The records with their judgement (JSON Lines).")
@click.option("--rubric", default="general", show_default=True, help="A shipped rubric (general, format-compliance) or a .toml path.")
@click.option("--output-schema", type=click.Path(exists=True, dir_okay=False),
              help="JSON Schema the answers must satisfy (the format-compliance rubric shows it to the judge).")
@click.option("--format", "profile", help="The answers' format in words, for the format-compliance rubric.")
@click.option("--keep-at", type=click.FloatRange(1, 5), help="Overall score from which the verdict is keep (rubric's default).")
@click.option("--discard-below", type=click.FloatRange(1, 5), help="Overall score below which the verdict is discard.")
@click.option("--reply", type=click.Choice(["json", "tagged"]), default="json", show_default=True,
              help="json: structured output (a server that refuses it gets the tagged format); tagged: <dim>N</dim> lines.")
@click.option("--max-chars", type=click.IntRange(min=500), default=6000, show_default=True,
              help="The longest record text shown to the judge; longer turns are cut in the middle.")
@click.option("--max-tokens", type=click.IntRange(min=16), default=200, show_default=True,
              help="The longest reply; a reply cut here does not parse and gets no scores.")
@click.option("--seed", type=int, help="Sent with every call (servers that honour it sample reproducibly); part of "
              "the cache key, so another seed asks again.")
@click.option("--model", required=True, help="Model name at the endpoint.")
@click.option("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL). The key: $OPENAI_API_KEY.")
@click.option("--provider", help="Whose prices in rules/prices.toml to use for the model.")
@click.option("--price-input", type=click.FloatRange(min=0), help="Your price: USD per million prompt tokens.")
@click.option("--price-output", type=click.FloatRange(min=0), help="Your price: USD per million completion tokens.")
@click.option("--max-cost", type=click.FloatRange(min=0), help="USD: a hard stop; what was judged is kept.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False),
              help="The call cache (default: $FTDATA_CACHE_DIR or ~/.cache/ftdata/llm-calls.sqlite).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the call cache.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@force_option
def judge_command(source, out, rubric, output_schema, profile, keep_at, discard_below, reply, max_chars, max_tokens, seed, model,
                  base_url, provider, price_input, price_output, max_cost, concurrency, cache_path, no_cache,
                  output_format, force):
    """Score every record of SOURCE with an LLM judge; write them with scores, rationale and a verdict."""
    from ..judge.rubric import load_rubric
    from ..judge.run import judge
    from ..llm import CallCache, LLMClient, default_cache_path, find_pricing

    if output_schema and profile:
        raise UsageError("give the output format once: --output-schema or --format")
    chosen = load_rubric(rubric, schema=output_schema, profile=profile, keep=keep_at, discard=discard_below)
    client = LLMClient(model, base_url, cache=None if no_cache else CallCache(cache_path or default_cache_path()),
                       pricing=find_pricing(model, provider, price_input, price_output), concurrency=concurrency,
                       max_cost=max_cost, progress=sys.stderr.isatty() and output_format == "text")
    summary = judge(source, out, chosen, client, structured=reply == "json", max_chars=max_chars,
                    max_tokens=max_tokens, seed=seed, force=force)
    if output_format == "json":
        click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    else:
        v = summary["verdicts"]
        calls = summary["calls"]
        cost = f", ${calls['cost_usd']:.4f}" if client.pricing else ""
        click.echo(f"{summary['judged']} of {summary['records']} records judged with the {chosen.name} rubric into "
                   f"{terminal(out)}: {v.get('keep', 0)} keep, {v.get('review', 0)} review, {v.get('discard', 0)} discard "
                   f"({calls.get('sent', 0)} calls sent, {calls.get('cached', 0)} cached{cost})")
        for key, what in (("unparsed_reply", "replies did not parse (kept raw, no scores)"),
                          ("call_failed", "calls failed"), ("over_budget", "records not judged: the budget ran out"),
                          ("unreadable", "records are not JSON ftdata can read (written unchanged)"),
                          ("tagged_fallback", "records asked in the tagged format: the server refused structured output")):
            if summary[key]:
                click.echo(f"{summary[key]} {what}", err=True)
    complete = summary["judged"] == summary["records"] - summary["unreadable"]
    sys.exit(EXIT_OK if complete else EXIT_FINDINGS)
