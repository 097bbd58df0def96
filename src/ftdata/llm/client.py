"""`LLMClient`: many chat calls to one OpenAI-compatible endpoint, cached, priced, limited and retried.

Retries are the `openai` client's own (exponential backoff with jitter on 408/409/429/5xx, timeouts and
dropped connections, honouring `Retry-After`); an httpx event hook counts every attempt of every call
so that the run can say how many retries it took and why. Budget: a call is dispatched only if what
has been spent, plus the worst case of the calls in flight and of this one (its prompt and its
`max_tokens`), stays within `max_cost`; what was not sent is reported as `over-budget` and is sent by
the next run with a higher limit (the rest comes from the cache). Prompt tokens are estimated with
cl100k, which undercounts what a server's chat template adds (SmolLM2's adds a system prompt: 2-3x),
so with a budget the first call goes alone and the largest reported/estimated ratio seen so far,
plus a quarter, scales every later estimate.

Requests and tokens per minute are paced, not burst: each call waits until the one before it has used up
its share of the minute (60/rpm seconds; its tokens x 60/tpm), so no minute ever holds more than the limit
plus one call, across every run of the client. (A bucket as deep as the limit would let a full minute's
calls through at once and as many again while it drains: up to twice the limit in the first minute.)

A server without structured output refuses `response_format` (HTTP 400 or 422): a request that carries a
`fallback` (the same question asked without it) is then answered by its fallback, and once a fallback has
succeeded, later requests of the client go straight to theirs.
"""

import asyncio
import contextvars
import difflib
import functools
import inspect
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai

from ..errors import UsageError
from .cache import CallCache, call_key
from .pricing import Pricing, prompt_tokens

DEFAULT_MAX_TOKENS = 4096  # the worst case assumed for the budget when a request sets no max_tokens
_FIRST_CALL_MARGIN = 3.0  # prompt tokens a server counts per estimated one, assumed until a call reports
_MARGIN = 1.25
_FATAL_STATUS = {401: "authentication failed: check OPENAI_API_KEY", 403: "access denied: check OPENAI_API_KEY",
                 404: "not found: check --base-url and --model"}
_FORMAT_REFUSED = {400, 422}  # how servers without structured output answer a response_format
# create()'s arguments that are not request parameters a caller sets per call
_NOT_PARAMS = {"self", "messages", "model", "stream", "stream_options", "timeout", "extra_headers", "extra_query"}


@dataclass
class Request:
    """One chat call: `messages` as the API takes them, sampling `params` (temperature, max_tokens,
    response_format, seed...), the caller's `version` (a recipe's name and version: part of the cache
    key, so that a changed recipe re-sends) and an `id` the caller chooses."""

    messages: list[dict]
    params: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    id: str = ""
    fallback: "Request | None" = None  # sent instead when the server refuses response_format


@functools.cache
def known_params() -> tuple[str, ...]:
    """The chat completions API's request parameters, as the installed `openai` client knows them."""
    from openai.resources.chat.completions import AsyncCompletions

    return tuple(sorted(set(inspect.signature(AsyncCompletions.create).parameters) - _NOT_PARAMS))


def check_params(params: dict[str, Any], where: str) -> None:
    """A usage error for a parameter the API does not know (a typo the server would silently ignore);
    a server's own parameters go under `extra_body`, which is sent as it is."""
    known = known_params()
    for name in params:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"{where}: unknown request parameter {name!r}{hint}; known: {', '.join(known)}; "
                             f"a server's own parameter goes under extra_body (e.g. extra_body.top_k=40), sent as it is")
    if "extra_body" in params and not isinstance(params["extra_body"], dict):
        raise UsageError(f"{where}: extra_body must be a table of parameters, not {params['extra_body']!r}")


@dataclass
class Result:
    request: Request
    key: str  # the call's cache key
    status: str  # "sent" (answered in this run), "cached", "failed" or "over-budget" (not sent)
    content: str | None = None  # the first choice's message text
    response: dict | None = None  # the whole chat completion as the server sent it
    prompt_tokens: int = 0  # as the server reported them
    completion_tokens: int = 0
    cost_usd: float = 0.0  # paid in this run (0 for a cached call)
    call_cost_usd: float = 0.0  # what the call cost when it was made (a cached call's original cost)
    attempts: int = 0  # HTTP attempts in this run (retries = attempts - 1)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("sent", "cached")


@dataclass
class RunStats:
    requests: int = 0
    sent: int = 0
    cached: int = 0
    failed: int = 0
    over_budget: int = 0
    retries: int = 0
    retry_reasons: Counter = field(default_factory=Counter)  # "HTTP 429", "no response" -> attempts
    format_refused: int = 0  # requests answered by their fallback: the server refused response_format
    prompt_tokens: int = 0  # of the calls answered in this run
    completion_tokens: int = 0
    cost_usd: float = 0.0  # paid in this run
    cost_usd_total: float = 0.0  # of every answered call, cached ones at their original cost
    seconds: float = 0.0
    priced: bool = False

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("retry_reasons", "priced")}
        out["retry_reasons"] = dict(self.retry_reasons)
        for key in ("cost_usd", "cost_usd_total"):
            out[key] = round(out[key], 6) if self.priced else None
        out["seconds"] = round(self.seconds, 3)
        return out


@dataclass
class Estimate:
    calls: int  # calls to send (not in the cache)
    cached: int
    prompt_tokens: int  # estimated (cl100k) for the calls to send
    max_completion_tokens: int  # their max_tokens summed: the most they can produce
    cost_usd_high: float | None  # prompts plus max_tokens at the price; None without a price


_attempts: contextvars.ContextVar[list] = contextvars.ContextVar("ftdata_llm_attempts")


async def _on_request(request) -> None:
    if (log := _attempts.get(None)) is not None:
        log.append(None)  # an attempt with no response yet


async def _on_response(response) -> None:
    if (log := _attempts.get(None)) is not None and log:
        log[-1] = response.status_code


def redact_url(url: str) -> str:
    """The URL without user, password or query (which may hold a key), for reports and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class LLMClient:
    """See the package docstring (`ftdata.llm`) for the API."""

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, *,
                 cache: CallCache | None = None, pricing: Pricing | None = None, concurrency: int = 4,
                 requests_per_minute: float | None = None, tokens_per_minute: float | None = None,
                 max_retries: int = 6, timeout: float = 120.0, max_cost: float | None = None,
                 progress: bool = False):
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "").rstrip("/")
        if not self.base_url:
            raise UsageError("no endpoint: pass --base-url or set OPENAI_BASE_URL")
        if concurrency < 1:
            raise UsageError(f"concurrency must be at least 1, not {concurrency}")
        if max_cost is not None and pricing is None:
            raise UsageError(f"--max-cost needs a price for {model!r}: none in rules/prices.toml; give your own "
                             "(--price-input and --price-output, USD per million tokens)")
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "unused"  # local servers want none
        self.cache, self.pricing, self.concurrency = cache, pricing, concurrency
        self.max_cost, self.max_retries, self.timeout, self.progress = max_cost, max_retries, timeout, progress
        self._requests_pace = _Pace(requests_per_minute) if requests_per_minute else None
        self._tokens_pace = _Pace(tokens_per_minute) if tokens_per_minute else None
        self._format_refused = False  # a fallback has succeeded: send fallbacks straight away
        self.stats = RunStats()
        self.spent_usd = 0.0  # by every run of this client: max_cost bounds them all together
        self._ratio: float | None = None  # reported / estimated prompt tokens, the largest seen

    # -- the API -------------------------------------------------------------------------------------------

    def key(self, request: Request) -> str:
        return call_key(self.base_url, self.model, request.messages, request.params, request.version)

    def estimate(self, requests: Iterable[Request]) -> Estimate:
        """What a run of these requests will send and cost at most (cached calls cost nothing)."""
        calls = cached = prompt = completion = 0
        for request in requests:
            if self.cache is not None and self.cache.get(self.key(request)) is not None:
                cached += 1
                continue
            calls += 1
            prompt += prompt_tokens(request.messages)
            completion += request.params.get("max_tokens") or DEFAULT_MAX_TOKENS
        high = self.pricing.cost(prompt, completion) if self.pricing else None
        return Estimate(calls, cached, prompt, completion, high)

    def run(self, requests: Iterable[Request], on_result: Callable[[Result], None] | None = None) -> list[Result]:
        """Every request's result, in request order. `on_result` is called as each one settles."""
        return asyncio.run(self.arun(requests, on_result))

    async def arun(self, requests: Iterable[Request],
                   on_result: Callable[[Result], None] | None = None) -> list[Result]:
        requests = list(requests)
        self.stats = stats = RunStats(requests=len(requests), priced=self.pricing is not None)
        started = time.monotonic()
        results: list[Result | None] = [None] * len(requests)
        display = _Display(len(requests), stats) if self.progress else None

        def settle(i: int, result: Result) -> None:
            results[i] = result
            self._count(result)
            if display:
                display.update()
            if on_result:
                on_result(result)

        pending = []
        for i, request in enumerate(requests):
            for asked in (request, request.fallback) if self.cache is not None else ():
                hit = self.cache.get(self.key(asked)) if asked is not None else None
                if hit is not None:
                    stats.format_refused += asked is not request
                    settle(i, Result(asked, hit.key, "cached", _content(hit.response), hit.response,
                                     hit.prompt_tokens, hit.completion_tokens, 0.0, hit.cost_usd))
                    break
            else:
                pending.append((i, request, self.key(request)))

        http = openai.DefaultAsyncHttpxClient(event_hooks={"request": [_on_request], "response": [_on_response]})
        api = openai.AsyncOpenAI(base_url=self.base_url, api_key=self._api_key, max_retries=self.max_retries,
                                 timeout=self.timeout, http_client=http)
        slots = asyncio.Semaphore(self.concurrency)
        self._reserved = 0.0
        calibrated = asyncio.Event()
        if self._ratio is not None:
            calibrated.set()
        fatal: list[BaseException] = []
        tasks = []
        try:
            for i, request, key in pending:
                if self.max_cost is not None and tasks and not calibrated.is_set():
                    await calibrated.wait()
                await slots.acquire()
                worst = self._worst_case(request)
                if fatal or (self.max_cost is not None and self.spent_usd + self._reserved + worst > self.max_cost):
                    slots.release()
                    settle(i, Result(request, key, "over-budget" if not fatal else "failed",
                                     error=None if not fatal else "not sent: the run stopped on an error"))
                    continue
                self._reserved += worst
                tasks.append(asyncio.create_task(
                    self._call(api, request, key, worst, slots, fatal, calibrated, lambda r, i=i: settle(i, r))))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await api.close()
            stats.seconds = time.monotonic() - started
            if display:
                display.close()
        if fatal:
            raise fatal[0]
        return results  # type: ignore[return-value]

    # -- one call ------------------------------------------------------------------------------------------

    def _worst_case(self, request: Request) -> float:
        if self.pricing is None:
            return 0.0
        scale = self._ratio * _MARGIN if self._ratio else _FIRST_CALL_MARGIN
        return self.pricing.cost(math.ceil(prompt_tokens(request.messages) * scale),
                                 request.params.get("max_tokens") or DEFAULT_MAX_TOKENS)

    async def _call(self, api, request, key, reserved, slots, fatal, calibrated, settle) -> None:
        attempts: list = []
        try:
            if self._format_refused and request.fallback is not None:
                request, key = request.fallback, self.key(request.fallback)
                self.stats.format_refused += 1
            _attempts.set(attempts)
            try:
                try:
                    completion = await self._create(api, request)
                except openai.APIStatusError as e:
                    if e.status_code not in _FORMAT_REFUSED or request.fallback is None \
                            or "response_format" not in request.params:
                        raise
                    request, key = request.fallback, self.key(request.fallback)
                    self.stats.format_refused += 1
                    completion = await self._create(api, request)
                    self._format_refused = True
                finally:
                    self._note_retries(attempts)
            except openai.APIStatusError as e:
                if e.status_code in _FATAL_STATUS:
                    fatal.append(UsageError(f"{redact_url(self.base_url)}: HTTP {e.status_code}, "
                                            f"{_FATAL_STATUS[e.status_code]}"))
                settle(Result(request, key, "failed", attempts=len(attempts),
                              error=self._redact(f"HTTP {e.status_code} after {len(attempts)} attempt(s): {e.message}")))
                return
            except openai.APIError as e:  # timeouts and dropped connections, after the retries
                settle(Result(request, key, "failed", attempts=len(attempts),
                              error=self._redact(f"{redact_url(self.base_url)}: {type(e).__name__} after "
                                                 f"{len(attempts)} attempt(s): {e}")))
                return
            response, problem = _reply(completion)
            if response is None:  # an HTML page, a proxy's error body: nothing was answered, nothing is kept
                settle(Result(request, key, "failed", attempts=len(attempts),
                              error=self._redact(f"{redact_url(self.base_url)} did not answer with a chat completion: "
                                                 f"{problem}")))
                return
            usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
            p, c = (n if isinstance(n := usage.get(k), int) else 0 for k in ("prompt_tokens", "completion_tokens"))
            self._ratio = max(self._ratio or 0.0, p / prompt_tokens(request.messages))
            cost = self.pricing.cost(p, c) if self.pricing else 0.0
            if problem:  # paid for but empty: counted, never cached, so a run after the server is fixed asks again
                settle(Result(request, key, "failed", None, response, p, c, cost, cost, len(attempts),
                              error=self._redact(problem)))
                return
            if self.cache is not None:  # before anything else: a reply once received is never paid for again
                self.cache.put(key, self.model, {"messages": request.messages, "params": request.params,
                                                 "version": request.version}, response, p, c, cost)
            settle(Result(request, key, "sent", _content(response), response, p, c, cost, cost, len(attempts)))
        finally:
            self._reserved -= reserved
            calibrated.set()
            slots.release()

    async def _create(self, api, request: Request):
        if self._requests_pace:
            await self._requests_pace.wait(1)
        if self._tokens_pace:
            await self._tokens_pace.wait(prompt_tokens(request.messages) + (request.params.get("max_tokens") or 0))
        return await api.chat.completions.create(model=self.model, messages=request.messages, **request.params)

    def _note_retries(self, attempts: list) -> None:
        """Why each attempt but a successful last one failed: its HTTP status, or no response at all."""
        failed = attempts if not attempts or attempts[-1] is None or attempts[-1] >= 400 else attempts[:-1]
        for status in failed:
            self.stats.retry_reasons["no response" if status is None else f"HTTP {status}"] += 1

    def _count(self, result: Result) -> None:
        s = self.stats
        if result.status == "sent":
            s.sent += 1
            s.prompt_tokens += result.prompt_tokens
            s.completion_tokens += result.completion_tokens
            s.cost_usd += result.cost_usd
            self.spent_usd += result.cost_usd
        elif result.status == "cached":
            s.cached += 1
        elif result.status == "failed":
            s.failed += 1
            s.prompt_tokens += result.prompt_tokens  # an empty reply is still paid for
            s.completion_tokens += result.completion_tokens
            s.cost_usd += result.cost_usd
            self.spent_usd += result.cost_usd
        else:
            s.over_budget += 1
        s.cost_usd_total += result.call_cost_usd
        s.retries += max(0, result.attempts - 1)

    def _redact(self, text: str) -> str:
        if self._api_key and self._api_key != "unused":
            text = text.replace(self._api_key, "***")
        return text.replace(self.base_url, redact_url(self.base_url))


class _Pace:
    """At most `per_minute` units a minute, spread evenly: a call of n units takes the next n x 60/per_minute
    seconds, and the call after it starts when they are over (a monotonic clock: it holds across event loops)."""

    def __init__(self, per_minute: float):
        self.seconds_per_unit = 60.0 / per_minute
        self.free_at = 0.0

    async def wait(self, units: float) -> None:
        now = time.monotonic()
        start = max(now, self.free_at)
        self.free_at = start + units * self.seconds_per_unit
        if start > now:
            await asyncio.sleep(start - now)


def _reply(completion: Any) -> tuple[dict | None, str | None]:
    """The chat completion as a dict and what makes it unusable, if anything: (None, why) when the server
    sent something else (an HTML page, a JSON body without choices); (response, why) for a reply with no
    content and no tool calls."""
    if not hasattr(completion, "model_dump"):
        return None, f"found {type(completion).__name__} {str(completion)[:80]!r}"
    response = completion.model_dump(mode="json", exclude_unset=True)
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict) \
            or not isinstance(choices[0].get("message"), dict):
        return None, f"its choices are {str(choices)[:80]!r}"
    message = choices[0]["message"]
    if not message.get("content") and not message.get("tool_calls"):
        return response, f"the reply is empty (finish_reason {choices[0].get('finish_reason')!r}); not cached"
    return response, None


def _content(response: dict) -> str | None:
    choices = response.get("choices") or []
    return (choices[0].get("message") or {}).get("content") if choices else None


class _Display:
    """A rich progress bar on stderr: calls, tokens, dollars and the time left."""

    def __init__(self, total: int, stats: RunStats):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.stats = stats
        self.bar = Progress(TextColumn("calls"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[line]}"),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task("calls", total=total, line="")

    def update(self) -> None:
        s = self.stats
        done = s.sent + s.cached + s.failed + s.over_budget
        money = f" ${s.cost_usd:.4f}" if s.priced else ""
        line = f"{s.prompt_tokens + s.completion_tokens} tokens{money} {s.cached} cached {s.retries} retries"
        self.bar.update(self.task, completed=done, line=line)

    def close(self) -> None:
        self.bar.__exit__(None, None, None)
