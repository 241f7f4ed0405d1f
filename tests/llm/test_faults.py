"""The client against a fault-injecting OpenAI-compatible server, through the real
openai client: bounded retries, immediate clear failures, fill-in, re-sampling, cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from agentgym.llm import (
    LLMContentError,
    LLMRequestError,
    RetriesExhaustedError,
    RetryPolicy,
    make_client,
    require_code,
)
from agentgym.testing.openai_server import FAULT_KINDS, Fault, FaultPlan, ScriptedOpenAIServer

FAST = dict(base_delay=0.002, max_delay=0.02, max_retry_after=0.2, seed=0)


def answer(request: dict) -> str:
    return f"answer:{request['messages'][-1]['content']}"


@dataclass
class FaultyRun:
    """1000 chat calls through a server that faults 30% of the time, then the same calls
    again with a new client on the same cache."""

    calls: list[tuple[str, int]]
    first: Any  # the client
    results: list
    served: int  # requests the server saw in the first pass
    faults: dict[str, int]  # faults the server served in the first pass
    second: Any
    results2: list
    served_after_rerun: int
    requests: list[dict]


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory) -> FaultyRun:
    cache = tmp_path_factory.mktemp("faults") / "llm_cache.sqlite"
    plan = FaultPlan(rate=0.3, seed=7, timeout_s=2.0, retry_after="0.05")
    calls = [(f"q{i}", 3 if i % 10 == 0 else 1) for i in range(1000)]
    with ScriptedOpenAIServer(answer, faults=plan) as srv:
        spec = f"openai:scripted-model@{srv.base_url};timeout=1.0;concurrency=16"

        def run_all():
            client = make_client(
                spec,
                cache=cache,
                max_resamples=4,
                retry=RetryPolicy(max_attempts=10, **FAST),
            )
            with ThreadPoolExecutor(16) as pool:
                results = list(
                    pool.map(lambda c: client.chat(c[0], n=c[1], temperature=0.8), calls)
                )
            return client, results

        first, results = run_all()
        served = len(srv.requests)
        faults = srv.fault_counts()
        second, results2 = run_all()
        return FaultyRun(
            calls,
            first,
            results,
            served,
            faults,
            second,
            results2,
            len(srv.requests),
            list(srv.requests),
        )


def test_every_call_completes_with_its_own_answer_despite_30_percent_faults(faulty_run):
    for (prompt, n), got in zip(faulty_run.calls, faulty_run.results, strict=True):
        assert [c.text for c in got] == [f"answer:{prompt}"] * n
        assert all(c.problem is None and c.finish_reason == "stop" for c in got)


def test_the_account_holds_every_round_trip_and_no_call_took_too_many_attempts(faulty_run):
    u = faulty_run.first.usage
    served = faulty_run.served
    # every round trip the server saw is in the account (a few more were attempted: a
    # pooled connection the server had dropped, or a timeout before the server read
    # the request, never reach its log), and none took more attempts than allowed
    assert served <= u.requests <= served + u.faults["connection"] + u.faults["timeout"]
    assert 1 <= u.max_attempts_seen <= 10
    assert u.samples == sum(n for _, n in faulty_run.calls) and u.cache_hits == 0


def test_the_server_faulted_about_30_percent_of_the_time_with_every_kind(faulty_run):
    faults = faulty_run.faults
    # the server really faulted ~30% of the time, with every kind of fault
    assert 0.24 <= sum(faults.values()) / faulty_run.served <= 0.36, faults
    # a server that once returns fewer choices than n is then asked one at a time, so
    # "fewer_choices" (and truncation, which also returns 1 of 3) shows up at most early
    assert set(faults) >= set(FAULT_KINDS) - {"fewer_choices"}, faults


def test_a_server_short_of_choices_is_then_asked_one_at_a_time(faulty_run):
    assert faulty_run.first.one_choice_per_request
    assert any(r["n"] == 3 for r in faulty_run.requests)


def test_the_account_counts_each_kind_of_fault_and_problem(faulty_run):
    u = faulty_run.first.usage
    assert u.faults["timeout"] and u.faults["connection"] and u.faults["malformed"]
    assert u.problems["TRUNCATED"] and u.problems["NO_CHOICES"]


def test_a_rerun_on_the_same_cache_makes_zero_calls(faulty_run):
    assert faulty_run.served_after_rerun == faulty_run.served  # zero new calls
    second = faulty_run.second.usage
    assert second.requests == 0
    assert second.cache_hits == second.samples == faulty_run.first.usage.samples
    assert second.cache_hit_rate == 1.0
    assert [[c.text for c in r] for r in faulty_run.results2] == [
        [c.text for c in r] for r in faulty_run.results
    ]
    assert all(c.cached for r in faulty_run.results2 for c in r)


def test_bad_key_fails_in_one_attempt_with_clear_message(monkeypatch):
    monkeypatch.setenv("TEST_WRONG_KEY", "sk-wrong")
    with ScriptedOpenAIServer(["never"], api_key="sk-right") as srv:
        client = make_client(
            f"openai:scripted-model@{srv.base_url};api_key_env=TEST_WRONG_KEY",
            cache=None,
            retry=RetryPolicy(**FAST),
        )
        with pytest.raises(LLMRequestError) as info:
            client.chat("hello")
        assert len(srv.requests) == 1
        assert info.value.status == 401 and info.value.cause == "bad_key"
        assert "bad API key" in str(info.value) and "Incorrect API key" in str(info.value)
        assert client.usage.retries == 0 and srv.remaining == 1


def test_an_unknown_model_fails_at_once_naming_the_served_ones():
    with ScriptedOpenAIServer(["never"], models=["scripted-model", "other-model"]) as srv:
        client = make_client(
            f"openai:scripted-modle@{srv.base_url}", cache=None, retry=RetryPolicy(**FAST)
        )
        with pytest.raises(LLMRequestError) as info:
            client.chat("hello")
        msg = str(info.value)
        assert info.value.cause == "unknown_model" and "unknown model 'scripted-modle'" in msg
        assert "Did you mean 'scripted-model'?" in msg and "other-model" in msg
        assert "does not exist" in msg  # the server's own words are kept
        assert len(srv.requests) == 1 and srv.model_list_calls == 1


def test_a_bad_url_fails_at_once_naming_the_route():
    with ScriptedOpenAIServer(["never"], models=["scripted-model", "other-model"]) as srv:
        bad_url = make_client(
            f"openai:scripted-model@{srv.base_url[:-3]}/api", cache=None, retry=RetryPolicy(**FAST)
        )
        with pytest.raises(LLMRequestError) as info:
            bad_url.chat("hello")
        assert info.value.status == 404 and info.value.cause == "bad_url"
        assert str(info.value).startswith("bad URL") and "/api/chat/completions" in str(info.value)
        assert len(srv.requests) == 0  # the bad route never reached the chat handler


def test_transient_faults_give_up_after_max_attempts():
    with ScriptedOpenAIServer([Fault.status(503)] * 5 + ["late"]) as srv:
        client = make_client(
            f"openai:scripted-model@{srv.base_url}",
            cache=None,
            retry=RetryPolicy(max_attempts=4, **FAST),
        )
        with pytest.raises(RetriesExhaustedError) as info:
            client.chat("hello")
        assert info.value.attempts == 4 and len(srv.requests) == 4
        assert "status_503" in str(info.value)


def test_retry_after_is_honoured_in_seconds_and_http_date():
    slept: list[float] = []
    script = [
        Fault.status(429, retry_after="3"),
        Fault.status(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),
        Fault.status(429),
        "ok",
    ]
    with ScriptedOpenAIServer(script) as srv:
        policy = RetryPolicy(
            max_attempts=5,
            base_delay=0.01,
            max_delay=0.02,
            max_retry_after=60,
            sleep=slept.append,
            seed=1,
        )
        client = make_client(f"openai:scripted-model@{srv.base_url}", cache=None, retry=policy)
        [reply] = client.chat("hello")
    assert reply.text == "ok"
    assert len(slept) == 3
    assert 3.0 <= slept[0] <= 3.01  # Retry-After: 3, plus at most base_delay of jitter
    assert 0.0 <= slept[1] <= 0.01  # an HTTP-date in the past: come back now
    assert 0.0 <= slept[2] <= 0.02  # no header: full-jitter backoff, capped at max_delay


def test_fewer_choices_than_n_are_filled_in_concurrently():
    texts = [f"sample {i}" for i in range(8)]
    with ScriptedOpenAIServer(texts, max_choices=1) as srv:
        client = make_client(
            f"openai:scripted-model@{srv.base_url};concurrency=4",
            cache=None,
            retry=RetryPolicy(**FAST),
        )
        got = client.chat("write", n=5, temperature=1.0)
    assert len(got) == 5 and sorted(c.text for c in got) == sorted(texts[:5])
    assert [c.index for c in got] == list(range(5))
    assert [r["n"] for r in srv.requests] == [5, 1, 1, 1, 1]  # one try at n, then one at a time


def test_content_checks_resample_truncated_and_codeless_replies():
    code = "```python\ndef compute_reward(state, action):\n    return -state['d'], {}\n```"
    script = [Fault.truncated(), "Sure! I'd be happy to help.", code]
    with ScriptedOpenAIServer(script) as srv:
        client = make_client(
            f"openai:scripted-model@{srv.base_url}",
            cache=None,
            retry=RetryPolicy(**FAST),
            max_resamples=2,
        )
        [reply] = client.chat("write a reward", check=require_code())
    assert reply.text == code and reply.problem is None
    assert client.usage.problems == {"TRUNCATED": 1, "NO_CODE": 1} and client.usage.resamples == 2
    assert len(srv.requests) == 3


def test_content_resampling_is_bounded_and_flags_the_problem():
    with ScriptedOpenAIServer(["no code here"] * 10) as srv:
        client = make_client(
            f"openai:scripted-model@{srv.base_url}",
            cache=None,
            retry=RetryPolicy(**FAST),
            max_resamples=2,
        )
        [reply] = client.chat("write a reward", check=require_code())
    assert reply.problem == "NO_CODE" and len(srv.requests) == 3


def test_replies_without_choices_fail_after_the_bounded_resamples():
    with ScriptedOpenAIServer([Fault.empty_choices()] * 10) as srv:
        client = make_client(
            f"openai:scripted-model@{srv.base_url}",
            cache=None,
            retry=RetryPolicy(**FAST),
            max_resamples=1,
        )
        with pytest.raises(LLMContentError, match="0 usable of 1"):
            client.chat("hello")
        assert len(srv.requests) == 2


def test_server_receives_the_prompt_and_sampling_params():
    with ScriptedOpenAIServer(["a", "b"]) as srv:
        client = make_client(f"openai:scripted-model@{srv.base_url}", cache=None)
        msgs = [
            {"role": "system", "content": "You write rewards."},
            {"role": "user", "content": "Reach the target."},
        ]
        client.chat(msgs, n=2, temperature=0.3, max_tokens=77, stop=["```\n\n"])
    req = srv.requests[-1]
    assert srv.last_user_message == "Reach the target."
    assert req["messages"] == msgs and req["n"] == 2 and req["temperature"] == 0.3
    assert req["max_tokens"] == 77 and req["stop"] == ["```\n\n"]


def test_seeded_fill_in_requests_get_distinct_seeds():
    with ScriptedOpenAIServer(["a", "b", "c"], max_choices=1) as srv:
        client = make_client(f"openai:scripted-model@{srv.base_url}", cache=None)
        client.chat("hi", n=3, seed=10)
    # one try at n=3 with the seed, then the two missing samples with seeds of their own
    assert [r["n"] for r in srv.requests] == [3, 1, 1]
    assert sorted(r["seed"] for r in srv.requests) == [10, 11, 12]
