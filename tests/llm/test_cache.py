"""The SQLite cache: keys, sample-index reuse, several processes on one file."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from agentgym.llm import Completion, LLMCache, RetryPolicy, make_client
from agentgym.llm.cache import request_hash
from agentgym.testing.openai_server import ScriptedOpenAIServer


def counting_script():
    count = {"n": 0}

    def script(request):
        count["n"] += 1
        return f"reply {count['n']}"

    return script


def test_more_samples_reuse_the_cached_ones(tmp_path):
    with ScriptedOpenAIServer(counting_script()) as srv:
        client = make_client(f"openai:scripted-model@{srv.base_url}", cache=tmp_path / "c.sqlite")
        four = client.chat("hi", n=4, temperature=0.7)
        eight = client.chat("hi", n=8, temperature=0.7)
        assert [c.text for c in eight[:4]] == [c.text for c in four]
        assert all(c.cached for c in eight[:4]) and not any(c.cached for c in eight[4:])
        assert srv.requests[-1]["n"] == 4  # only the 4 missing samples were asked for
        assert client.usage.cache_hits == 4 and client.usage.samples == 12


def test_sampling_params_and_the_prompt_change_the_key(tmp_path):
    with ScriptedOpenAIServer(counting_script()) as srv:
        client = make_client(f"openai:scripted-model@{srv.base_url}", cache=tmp_path / "c.sqlite")
        client.chat("hi", n=4, temperature=0.7)
        client.chat("hi", n=8, temperature=0.7)
        before = len(srv.requests)
        client.chat("hi", n=1, temperature=0.8)  # other temperature: new key
        client.chat("hi", n=1, temperature=0.7, max_tokens=10)  # other max_tokens: new key
        client.chat("hello", n=1, temperature=0.7)  # other prompt: new key
        client.chat("hi", n=1, temperature=0.7, use_cache=False)  # asked not to read it
        assert len(srv.requests) == before + 4
        client.chat("hi", n=2, temperature=0.7)
        assert len(srv.requests) == before + 4


def test_cache_is_keyed_on_the_model(tmp_path):
    with ScriptedOpenAIServer(counting_script(), models=["a", "b"]) as srv:
        a = make_client(f"openai:a@{srv.base_url}", cache=tmp_path / "c.sqlite")
        b = make_client(f"openai:b@{srv.base_url}", cache=tmp_path / "c.sqlite")
        assert a.chat("hi")[0].text != b.chat("hi")[0].text
        assert a.chat("hi")[0].cached and len(srv.requests) == 2


def _cache_with_samples_0_and_2(path):
    cache = LLMCache(path)
    req = {
        "backend": "x",
        "model": "m",
        "messages": [{"role": "user", "content": "q"}],
        "params": {},
    }
    h = request_hash(req)
    cache.put(
        req,
        h,
        [
            Completion("t0", "length", 5, 7, "m", index=0, problem="TRUNCATED"),
            Completion("t2", "stop", 5, 3, "m", index=2),
        ],
    )
    return cache, req, h


def test_cache_stores_completion_fields_and_problem(tmp_path):
    cache, _, h = _cache_with_samples_0_and_2(tmp_path / "c.sqlite")
    got = cache.get(h, [0, 1, 2])
    assert set(got) == {0, 2}
    assert got[0] == Completion(
        "t0", "length", 5, 7, "m", index=0, cached=True, problem="TRUNCATED"
    )


def test_the_first_writer_of_a_sample_wins(tmp_path):
    cache, req, h = _cache_with_samples_0_and_2(tmp_path / "c.sqlite")
    cache.put(req, h, [Completion("other", "stop", 1, 1, "m", index=0)])  # first writer wins
    assert cache.get(h, [0])[0].text == "t0" and len(cache) == 2


def test_the_cache_file_is_in_wal_mode_for_concurrent_writers(tmp_path):
    LLMCache(tmp_path / "c.sqlite")
    mode = sqlite3.connect(tmp_path / "c.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _writer(path: str, worker: int, rounds: int) -> None:
    cache = LLMCache(path)
    req = {"shared": True}
    h = request_hash(req)
    for i in range(rounds):
        # every worker writes the same keys (a race for the first write) and its own keys
        cache.put(req, h, [Completion(f"w{worker}", "stop", 1, 1, "m", index=i)])
        own = {"worker": worker}
        cache.put(
            own, request_hash(own), [Completion(f"w{worker}-{i}", "stop", 1, 1, "m", index=i)]
        )


def test_several_processes_share_one_cache_file(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    LLMCache(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 40)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    cache = LLMCache(path)
    assert len(cache) == 40 + 3 * 40
    shared = cache.get(request_hash({"shared": True}), range(40))
    assert len(shared) == 40 and {c.text for c in shared.values()} <= {"w0", "w1", "w2"}
    for w in range(3):
        own = cache.get(request_hash({"worker": w}), range(40))
        assert [own[i].text for i in range(40)] == [f"w{w}-{i}" for i in range(40)]


def test_resumed_run_with_a_new_client_makes_zero_calls(tmp_path):
    """A rerun (new client, same cache file) pays for nothing twice and counts the hits."""
    with ScriptedOpenAIServer(counting_script()) as srv:
        spec = f"openai:scripted-model@{srv.base_url}"
        first = make_client(spec, cache=tmp_path / "run" / "llm_cache.sqlite")
        texts = [c.text for c in first.chat("reward for Reach", n=3)]
        again = make_client(
            spec, cache=tmp_path / "run" / "llm_cache.sqlite", retry=RetryPolicy(max_attempts=1)
        )
        assert [c.text for c in again.chat("reward for Reach", n=3)] == texts
        assert len(srv.requests) == 1 and again.usage.requests == 0
        assert again.usage.to_dict()["cache_hit_rate"] == 1.0


def test_price_of_served_model_reaches_the_account():
    with ScriptedOpenAIServer(["one two three"], models=["gpt-4o-mini"]) as srv:
        client = make_client(f"openai:gpt-4o-mini@{srv.base_url}", cache=None)
        client.chat("a b c d")
    # the scripted server counts words as tokens: 4 in, 3 out
    assert client.usage.prompt_tokens == 4 and client.usage.completion_tokens == 3
    assert client.usage.cost_usd == pytest.approx((4 * 0.15 + 3 * 0.60) / 1e6)
