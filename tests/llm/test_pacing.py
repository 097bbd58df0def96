"""Requests and tokens per minute against the real local server, counted at the fault proxy.

The limits pace calls evenly: any window of k pacing intervals holds at most k + 1 arrivals (the limit
plus one call), across every run of one client. A loaded machine only spaces calls further apart, so the
assertions are ceilings on counts per window; nothing asserts how long a run took."""

import pytest

from ftdata.llm import LLMClient, Request, prompt_tokens

from .faultproxy import FaultProxy


@pytest.fixture
def proxy(llm_server):
    p = FaultProxy(llm_server[0].removesuffix("/v1"))
    yield p
    p.close()


def asks(n: int, tag: str) -> list[Request]:
    return [Request([{"role": "user", "content": f"Say {tag} {i}."}], {"temperature": 0, "max_tokens": 1}, "pace@1", str(i))
            for i in range(n)]


def most_in_a_window(arrivals: list[float], seconds: float) -> int:
    """The most arrivals in any half-open window [t, t + seconds) that starts at an arrival."""
    times = sorted(arrivals)
    return max(sum(t <= u < t + seconds for u in times) for t in times)


def assert_paced(arrivals: list[float], interval: float) -> None:
    for k in range(1, len(arrivals)):
        assert most_in_a_window(arrivals, k * interval) <= k + 1, (k, arrivals)


def test_requests_per_minute_are_paced_across_runs(proxy, llm_server):
    llm = LLMClient(llm_server[1], base_url=proxy.url, requests_per_minute=30, concurrency=4)  # one call per 2 s
    first, second = llm.run(asks(3, "red")), llm.run(asks(2, "blue"))  # a second run keeps the pace
    assert all(r.ok for r in first + second)
    arrivals = [t for t, what in proxy.log]
    assert len(arrivals) == 5
    assert_paced(arrivals, 2.0)
    assert most_in_a_window(arrivals, 2.0) <= 2  # unpaced, all five would arrive at once


def test_tokens_per_minute_are_paced_by_each_calls_tokens(proxy, llm_server):
    requests = asks(4, "green")
    tokens = {prompt_tokens(r.messages) + r.params["max_tokens"] for r in requests}
    assert len(tokens) == 1  # every call weighs the same: one call per 2 s at this limit
    llm = LLMClient(llm_server[1], base_url=proxy.url, tokens_per_minute=tokens.pop() * 30, concurrency=4)
    assert all(r.ok for r in llm.run(requests))
    arrivals = [t for t, what in proxy.log]
    assert len(arrivals) == 4
    assert_paced(arrivals, 2.0)
