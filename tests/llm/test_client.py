"""The LLM client against the real local server, through a fault-injecting proxy."""

import sqlite3
import threading

import pytest

from ftdata.errors import UsageError
from ftdata.llm import CallCache, LLMClient, Pricing, Request, call_key, check_params

from .faultproxy import FaultProxy

PRICE = Pricing(1.0, 2.0, "user price")  # USD per million prompt / completion tokens


@pytest.fixture
def proxy(llm_server):
    url, _ = llm_server
    p = FaultProxy(url.removesuffix("/v1"))
    yield p
    p.close()


def requests(n: int, tag: str = "fruit", max_tokens: int = 8) -> list[Request]:
    return [Request([{"role": "user", "content": f"Name one {tag}, number {i}."}],
                    {"temperature": 0, "max_tokens": max_tokens}, "test@1", str(i)) for i in range(n)]


def client(proxy, model, tmp_path, **options) -> LLMClient:
    options.setdefault("cache", CallCache(tmp_path / "calls.sqlite"))
    options.setdefault("pricing", PRICE)
    return LLMClient(model, base_url=proxy.url, **options)


def test_runs_opening_a_new_cache_file_at_once_all_open_it(tmp_path):
    # Turning a new file to WAL answers "database is locked" at once to the loser of the race (CI saw it).
    for round_ in range(40):
        path, errors = tmp_path / f"new{round_}.sqlite", []
        start = threading.Barrier(4)

        def open_it():
            start.wait()
            try:
                CallCache(path).close()
            except Exception as e:  # noqa: BLE001 - the assertion below names it
                errors.append(e)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors


def test_the_cache_key_covers_what_decides_the_reply_and_not_the_key():
    base = call_key("http://h/v1", "m", [{"role": "user", "content": "a"}], {"temperature": 0}, "r@1")
    assert base == call_key("http://h/v1/", "m", [{"role": "user", "content": "a"}], {"temperature": 0}, "r@1")
    for changed in (call_key("http://other/v1", "m", [{"role": "user", "content": "a"}], {"temperature": 0}, "r@1"),
                    call_key("http://h/v1", "m2", [{"role": "user", "content": "a"}], {"temperature": 0}, "r@1"),
                    call_key("http://h/v1", "m", [{"role": "user", "content": "b"}], {"temperature": 0}, "r@1"),
                    call_key("http://h/v1", "m", [{"role": "user", "content": "a"}], {"temperature": 1}, "r@1"),
                    call_key("http://h/v1", "m", [{"role": "user", "content": "a"}], {"temperature": 0}, "r@2")):
        assert changed != base


def test_calls_are_priced_from_reported_usage_and_never_sent_twice(proxy, llm_server, tmp_path):
    model = llm_server[1]
    first = client(proxy, model, tmp_path)
    results = first.run(requests(3))
    assert [r.status for r in results] == ["sent"] * 3 and [r.request.id for r in results] == ["0", "1", "2"]
    assert all(r.content for r in results)
    reported = sum(PRICE.cost(u["prompt_tokens"], u["completion_tokens"]) for u in proxy.usage)
    assert first.stats.cost_usd == pytest.approx(reported) and reported > 0
    assert first.stats.prompt_tokens == sum(u["prompt_tokens"] for u in proxy.usage)

    again = client(proxy, model, tmp_path).run(requests(3))
    assert [r.status for r in again] == ["cached"] * 3
    assert [r.content for r in again] == [r.content for r in results]
    assert sum(proxy.delivered.values()) == 3  # nothing re-sent

    changed = requests(3)
    changed[1].messages[0]["content"] = "Name one vegetable."
    third = client(proxy, model, tmp_path)
    assert [r.status for r in third.run(changed)] == ["cached", "sent", "cached"]
    assert third.stats.cost_usd_total == pytest.approx(sum(PRICE.cost(u["prompt_tokens"], u["completion_tokens"])
                                                           for u in proxy.usage[:1] + proxy.usage[2:]))
    assert max(proxy.delivered.values()) == 1


def test_429_500_timeouts_and_dropped_connections_are_retried_and_counted(proxy, llm_server, tmp_path):
    proxy.faults.extend(["429", "500", "slow", "drop"])
    proxy.slow_seconds = 8
    # a timeout a real reply meets even on a loaded machine; should one still miss it, it is one more retry
    llm = client(proxy, llm_server[1], tmp_path, timeout=6, concurrency=1)
    [result] = llm.run(requests(1))
    assert result.status == "sent" and result.attempts >= 5 and llm.stats.retries == result.attempts - 1
    reasons = llm.stats.retry_reasons
    assert reasons["HTTP 429"] == 1 and reasons["HTTP 500"] == 1 and reasons["no response"] >= 2
    assert set(reasons) == {"HTTP 429", "HTTP 500", "no response"}
    (t429, _), (t_next, _) = proxy.log[0], proxy.log[1]
    assert t_next - t429 >= 0.95  # Retry-After: 1 was honoured (a lower bound: sleeping never ends early)


def test_a_call_failing_after_its_retries_is_a_result_not_an_exception(proxy, llm_server, tmp_path):
    proxy.faults.extend(["500"] * 3)
    llm = client(proxy, llm_server[1], tmp_path, max_retries=2, concurrency=1)
    [failed, fine] = llm.run(requests(2))
    assert failed.status == "failed" and "HTTP 500 after 3 attempt(s)" in failed.error
    assert fine.status == "sent"
    assert llm.stats.failed == 1 and llm.stats.retries == 2
    assert len(CallCache(tmp_path / "calls.sqlite")) == 1  # a failure is not cached: the next run tries again


def test_max_cost_is_a_hard_stop_and_a_higher_limit_continues(proxy, llm_server, tmp_path):
    price = Pricing(1000.0, 1000.0, "user price")  # a call of ~40 tokens costs ~$0.04
    batch = requests(6)
    llm = client(proxy, llm_server[1], tmp_path, pricing=price, max_cost=0.12, concurrency=2)
    first = llm.run(batch)
    stopped = [r for r in first if r.status == "over-budget"]
    assert stopped and llm.stats.sent + len(stopped) == 6
    assert llm.stats.cost_usd <= 0.12
    later = llm.run(requests(3, tag="bird"))  # the limit holds over every run of one client
    assert llm.spent_usd <= 0.12 and any(r.status == "over-budget" for r in later)
    more = client(proxy, llm_server[1], tmp_path, pricing=price, max_cost=10.0)
    second = more.run(batch)
    assert all(r.ok for r in second)
    assert more.stats.sent == len(stopped) and more.stats.cached == 6 - len(stopped)
    assert max(proxy.delivered.values()) == 1


def test_the_api_key_never_reaches_the_cache_or_an_error(proxy, llm_server, tmp_path):
    secret = "sk-test-SECRET-0123456789"
    llm = client(proxy, llm_server[1], tmp_path, api_key=secret)
    assert all(r.ok for r in llm.run(requests(2)))
    database = tmp_path / "calls.sqlite"
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in stored and sqlite3.connect(database).execute("SELECT COUNT(*) FROM calls").fetchone() == (2,)
    proxy.faults.append("500")
    llm = client(proxy, llm_server[1], tmp_path, api_key=secret, max_retries=0)
    [result] = llm.run(requests(1, tag="colour"))
    assert result.status == "failed" and secret not in result.error


def test_authentication_failure_stops_the_run_with_one_line(llm_server, tmp_path):
    # a server that wants a key answers 401; the message must not echo the key it was given
    p = FaultProxy(llm_server[0].removesuffix("/v1"))
    p.faults.extend(["401"])
    try:
        llm = client(p, llm_server[1], tmp_path, api_key="sk-wrong-KEY-987654321", max_retries=0)
        with pytest.raises(UsageError) as caught:
            llm.run(requests(1))
        message = str(caught.value)
        assert "HTTP 401" in message and "OPENAI_API_KEY" in message and "sk-wrong" not in message
    finally:
        p.close()


def test_two_runs_at_once_share_one_cache_file(proxy, llm_server, tmp_path):
    outcomes = []

    def one_run():
        llm = client(proxy, llm_server[1], tmp_path, cache=CallCache(tmp_path / "shared.sqlite"), progress=True)
        outcomes.append(llm.run(requests(3, tag="tree")))

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and all(r.ok for run in outcomes for r in run)
    assert len(CallCache(tmp_path / "shared.sqlite")) == 3


def test_a_refused_response_format_is_answered_by_the_fallback_once_learnt(proxy, llm_server, tmp_path):
    proxy.refuse_format = True  # a server without structured output: HTTP 400 to any response_format
    schema = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    asked = [Request(r.messages, {**r.params, "response_format": schema}, r.version, r.id, fallback=r)
             for r in requests(3, tag="cheese")]
    llm = client(proxy, llm_server[1], tmp_path, concurrency=1)
    results = llm.run(asked)
    assert all(r.status == "sent" and r.request is a.fallback for r, a in zip(results, asked))
    assert llm.stats.format_refused == 3
    # refused once; once a fallback has succeeded, the others go straight to theirs
    assert [what for _, what in proxy.log] == ["refuse-format", "forward", "forward", "forward"]
    assert ["response_format" in body for body in proxy.bodies] == [True, False, False, False]
    again = client(proxy, llm_server[1], tmp_path)
    assert [r.status for r in again.run(asked)] == ["cached"] * 3 and again.stats.format_refused == 3
    [alone] = client(proxy, llm_server[1], tmp_path, max_retries=0).run(
        [Request(asked[0].messages, {**asked[0].params, "max_tokens": 9}, "test@1")])  # no fallback to send
    assert alone.status == "failed" and "HTTP 400" in alone.error


def test_an_unknown_request_parameter_is_a_usage_error_naming_the_known_ones():
    with pytest.raises(UsageError) as caught:
        check_params({"temperature": 0, "max_token": 5}, "--param")
    message = str(caught.value)
    assert "'max_token'" in message and "did you mean max_tokens?" in message and "top_p" in message
    assert "extra_body" in message
    check_params({"max_tokens": 5, "seed": 1, "extra_body": {"top_k": 40}}, "--param")  # known, and passed through
    with pytest.raises(UsageError):
        check_params({"extra_body": 3}, "--param")
