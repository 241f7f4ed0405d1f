"""The retry policy's arithmetic and the usage account, without a server."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from agentgym.llm import (
    RetryPolicy,
    TransientLLMError,
    UsageAccount,
    cost_of,
    parse_retry_after,
    price_of,
)
from agentgym.llm.errors import RetriesExhaustedError


def test_parse_retry_after_forms():
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"Retry-After": "Sun, 22 Nov 2026 12:00:30 GMT"}, now=now) == 30.0
    assert parse_retry_after({"Retry-After": "Sun, 22 Nov 2026 11:00:00 GMT"}, now=now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


def test_backoff_is_full_jitter_within_an_exponential_capped_ceiling():
    p = RetryPolicy(base_delay=1.0, max_delay=10.0, seed=3)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        delays = [p.delay(attempt) for _ in range(200)]
        assert 0 <= min(delays) and max(delays) <= ceiling
        assert max(delays) > 0.8 * ceiling  # spread over the whole range, not a fixed step


def test_retry_after_is_capped():
    p = RetryPolicy(base_delay=0.1, max_retry_after=5.0, seed=0)
    assert 5.0 <= p.delay(1, retry_after=3600) <= 5.1
    assert 2.0 <= p.delay(1, retry_after=2.0) <= 2.1


def test_call_retries_transient_only():
    slept: list[float] = []
    p = RetryPolicy(max_attempts=3, base_delay=0.01, sleep=slept.append, seed=0)
    outcomes = iter([TransientLLMError("x", kind="timeout"), "done"])

    def flaky():
        o = next(outcomes)
        if isinstance(o, Exception):
            raise o
        return o

    assert p.call(flaky) == ("done", 2) and len(slept) == 1

    def always():
        raise TransientLLMError("down", kind="status_503")

    with pytest.raises(RetriesExhaustedError) as info:
        p.call(always)
    assert info.value.attempts == 3 and len(slept) == 3  # two more sleeps, none after the last

    def fatal():
        raise ValueError("bad")

    with pytest.raises(ValueError):
        p.call(fatal)
    assert len(slept) == 3


def test_prices_and_cost():
    assert price_of("gpt-4o-mini") == (0.15, 0.60)
    assert price_of("gpt-4o-2024-08-06") == (2.50, 10.00)  # a dated snapshot is its family
    assert price_of("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price_of("qwen2.5-coder-1.5b") is None
    assert cost_of("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_of("llama", 10, 10) is None


def test_usage_account_totals_and_json(tmp_path):
    u = UsageAccount()
    u.record_fault("timeout")
    u.record_response("gpt-4o-mini", 1000, 500, attempts=2)
    u.record_samples(3, cache_hits=2)
    assert u.cost_usd == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)
    u.record_response("local-model", 10, 10, attempts=1)
    assert u.cost_usd is None  # one unpriced request makes the total unknown, not wrong
    data = json.loads(u.write(tmp_path / "run" / "llm_usage.json").read_text())
    assert data["requests"] == 3 and data["retries"] == 1 and data["faults"] == {"timeout": 1}
    assert data["cache_hit_rate"] == pytest.approx(2 / 3) and data["max_attempts_seen"] == 2
    assert data["by_model"]["gpt-4o-mini"]["cost_usd"] == pytest.approx(0.00045)
    assert data["by_model"]["local-model"]["cost_usd"] is None
