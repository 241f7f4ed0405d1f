"""The hf backend with a tiny Llama built from a config (random weights), saved to a
temp dir and loaded back through ``hf:PATH``."""

from __future__ import annotations

import pytest

from agentgym.llm import make_client
from agentgym.llm.hf_backend import LOADS
from agentgym.testing.tiny import build_tiny_llama


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-llama")
    return path, build_tiny_llama(path)


MESSAGES = [
    {"role": "system", "content": "You write reward functions."},
    {"role": "user", "content": "Move the fingertip to the target."},
]


def test_hf_generates_n_samples_in_one_call_from_the_chat_template(tiny_model):
    path, tokenizer = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=None, checks=())
    out = client.chat(MESSAGES, n=3, temperature=1.0, max_tokens=12, seed=1)
    assert len(out) == 3 and [c.index for c in out] == [0, 1, 2]
    prompt_ids = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True)
    if isinstance(prompt_ids, dict) or hasattr(prompt_ids, "input_ids"):
        prompt_ids = prompt_ids["input_ids"]
    assert all(c.prompt_tokens == len(prompt_ids) for c in out)
    assert all(1 <= c.completion_tokens <= 12 for c in out)
    assert all(c.finish_reason in ("stop", "length") for c in out)
    assert len({c.text for c in out}) > 1  # sampled, not one greedy answer three times
    assert client.usage.successful_requests == 1  # n samples in one generate call


def test_a_second_hf_client_reuses_the_loaded_model(tiny_model):
    path, _ = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=None, checks=())
    out = client.chat(MESSAGES, n=3, temperature=1.0, max_tokens=12, seed=1)
    # a second client on the same path reuses the loaded model
    again = make_client(f"hf:{path};device=cpu", cache=None, checks=())
    same = again.chat(MESSAGES, n=3, temperature=1.0, max_tokens=12, seed=1)
    assert [c.text for c in same] == [c.text for c in out]  # the seed fixes the samples
    assert LOADS[(str(path.resolve()), "cpu", "auto")] == 1


def test_hf_greedy_is_deterministic_and_max_tokens_truncates(tiny_model):
    path, _ = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=None, checks=())
    a = client.chat("Move the fingertip.", temperature=0.0, max_tokens=5)[0]
    b = client.chat("Move the fingertip.", temperature=0.0, max_tokens=5)[0]
    assert a.text == b.text and a.completion_tokens == 5 and a.finish_reason == "length"
    three = client.chat("Move the fingertip.", n=3, temperature=0.0, max_tokens=5)
    assert [c.text for c in three] == [a.text] * 3  # greedy: n equal samples


def test_hf_default_checks_flag_a_truncated_reply(tiny_model, tmp_path):
    path, _ = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=tmp_path / "c.sqlite", max_resamples=1)
    first = client.chat("Move the fingertip.", temperature=1.0, max_tokens=3, seed=0)[0]
    # random weights almost never emit <|im_end|> within 3 tokens: truncated and flagged
    # after one re-sample, and the flagged sample is what the cache keeps
    assert first.finish_reason == "length"  # seeded: the same draw every run
    assert first.problem == "TRUNCATED" and client.usage.resamples == 1


def test_the_cache_serves_a_flagged_hf_reply_on_a_rerun(tiny_model, tmp_path):
    path, _ = tiny_model
    client = make_client(f"hf:{path};device=cpu", cache=tmp_path / "c.sqlite", max_resamples=1)
    first = client.chat("Move the fingertip.", temperature=1.0, max_tokens=3, seed=0)[0]
    again = client.chat("Move the fingertip.", temperature=1.0, max_tokens=3, seed=0)[0]
    assert again.cached and again.text == first.text and again.problem == first.problem


@pytest.mark.gpu
def test_hf_runs_on_cuda_when_present(tmp_path):
    import torch

    assert torch.cuda.is_available(), "the gpu marker needs a CUDA device"
    build_tiny_llama(tmp_path)
    client = make_client(f"hf:{tmp_path}", cache=None, checks=())
    assert client.backend.device == "cuda"
    out = client.chat(MESSAGES, n=4, temperature=1.0, max_tokens=8, seed=0)
    assert len(out) == 4 and all(1 <= c.completion_tokens <= 8 for c in out)
