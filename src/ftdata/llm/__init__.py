"""The one LLM client of ftdata: chat calls to any OpenAI-compatible endpoint, used by `ftdata generate`
and by the judge.

    from ftdata.llm import CallCache, LLMClient, Request, find_pricing

    client = LLMClient(
        "gpt-4o-mini",                      # the model name the endpoint knows
        base_url="http://127.0.0.1:8080/v1", # default: $OPENAI_BASE_URL
        api_key=None,                        # default: $OPENAI_API_KEY; never logged, cached or reported
        cache=CallCache(default_cache_path()),  # or None: no cache (--no-cache)
        pricing=find_pricing("gpt-4o-mini"),    # or Pricing(input_per_million, output_per_million, "user price")
        concurrency=4, requests_per_minute=None, tokens_per_minute=None,
        max_retries=6, timeout=120.0,        # seconds per attempt
        max_cost=None,                       # USD: a hard stop over every run() of this client (needs a price)
        progress=False,                      # a rich bar on stderr: calls, tokens, dollars, ETA
    )
    client.estimate(requests)   -> Estimate(calls, cached, prompt_tokens, max_completion_tokens, cost_usd_high)
    results = client.run([Request(messages=[...], params={"temperature": 0, "max_tokens": 256},
                                   version="judge@1", id="r1",
                                   fallback=None)])  # or the Request to send if response_format is refused
    results[i]  -> Result: request, key, status ("sent" | "cached" | "failed" | "over-budget"), content,
                   response (the completion's JSON), prompt_tokens, completion_tokens (server-reported),
                   cost_usd (paid now), call_cost_usd (what the call cost when made), attempts, error
    client.spent_usd -> USD paid by every run() of this client so far
    client.stats -> RunStats of the last run(): sent, cached, failed, over_budget, retries, retry_reasons,
                   format_refused (answered by their fallback), tokens,
                   cost_usd (this run), cost_usd_total (every answered call), seconds; .to_json()

Results come back in request order. A call is cached the moment it succeeds, keyed by
(base URL, model, messages, params, version), so a killed run re-sends only what had not come back.
`check_params(params, where)` is the usage error for a parameter the chat completions API does not know
(a server's own ones go under `extra_body`). Failed calls are results, not exceptions; only what would
fail every call (HTTP 401/403/404, a bad setting) raises a `UsageError`. `await client.arun(...)` is the same from async code.
"""

from .cache import CallCache, call_key, default_cache_path
from .client import Estimate, LLMClient, Request, Result, RunStats, check_params, redact_url
from .pricing import Pricing, find_pricing, prompt_tokens

__all__ = ["CallCache", "Estimate", "LLMClient", "Pricing", "Request", "Result", "RunStats", "call_key", "check_params",
           "default_cache_path", "find_pricing", "prompt_tokens", "redact_url"]
