"""Opt-in (``-m llm``): a real model writes a reward program for agentgym/Reach-v0 and
it goes through vetting. Start the model first:

    bash ../shared/tools/local-coder-llm.sh serve     # Qwen2.5-Coder-1.5B on 127.0.0.1:8011

The model may well write a program the sandbox rejects; what must hold is that the
outcome is a clean pass or a coded rejection, never a crash or a silent nothing.
"""

from __future__ import annotations

import json
import logging
import urllib.request

import gymnasium as gym
import pytest

from agentgym.llm import RetryPolicy, make_client, require_code
from agentgym.llm.extract import extract_code

pytestmark = pytest.mark.llm
BASE_URL = "http://127.0.0.1:8011/v1"
ENV_ID = "agentgym/Reach-v0"
MAX_TOKENS = 400
log = logging.getLogger(__name__)


def served_model() -> str:
    try:
        with urllib.request.urlopen(f"{BASE_URL}/models", timeout=5) as r:
            return json.load(r)["data"][0]["id"]
    except OSError as err:
        pytest.skip(
            f"no LLM server at {BASE_URL} ({err}); start it with "
            "`bash ../shared/tools/local-coder-llm.sh serve`"
        )


def reach_prompt() -> list[dict[str, str]]:
    env = gym.make(ENV_ID)
    spec = env.unwrapped.task_spec
    env.close()
    state = "\n".join(
        f"- state[{v.name!r}]: shape [num_envs, {', '.join(map(str, v.shape))}], "
        f"{v.dtype}, {v.units}: {v.meaning}"
        for v in spec.state
    )
    return [
        {
            "role": "system",
            "content": "You write reward functions for reinforcement learning "
            "in Python with torch. Reply with one ```python block.",
        },
        {
            "role": "user",
            "content": (
                f"Task: {spec.instruction}\nSuccess: {spec.success}\nAction: {spec.action_meaning}\n"
                f"State (torch tensors, batched):\n{state}\n\n"
                "Write `def compute_reward(state: dict[str, torch.Tensor], action: torch.Tensor) -> "
                "tuple[torch.Tensor, dict[str, torch.Tensor]]` returning the reward of shape "
                "[num_envs] and a dict of named reward components, each of shape [num_envs]. "
                "Use only torch. Keep it under 15 lines, with no explanation."
            ),
        },
    ]


def test_real_model_writes_a_reward_that_vetting_passes_or_rejects_with_a_code(tmp_path):
    from agentgym.sandbox import vet

    model = served_model()
    # ~5 tokens/s on 2 idle cores, far less when they are shared: a long timeout, and
    # few attempts (llama.cpp keeps generating for a client that gave up)
    client = make_client(
        f"openai:{model}@{BASE_URL};timeout=1800;concurrency=1",
        cache=tmp_path / "llm_cache.sqlite",
        max_resamples=0,
        retry=RetryPolicy(max_attempts=2),
    )
    # no re-sampling: one reply, flagged (TRUNCATED, NO_CODE) rather than asked again
    [reply] = client.chat(
        reach_prompt(), temperature=0.2, max_tokens=MAX_TOKENS, check=require_code()
    )
    assert reply.problem in (None, "TRUNCATED", "NO_CODE")
    usage = client.usage.to_dict()
    assert usage["successful_requests"] >= 1 and usage["completion_tokens"] > 0
    extraction = extract_code(reply.text)
    outcome: dict = {
        "model": model,
        "finish_reason": reply.finish_reason,
        "problem": reply.problem,
        "latency_s": reply.latency_s,
        "extraction": extraction.kind,
        "program": extraction.code,
        "usage": usage,
    }
    if not extraction.ok:
        assert reply.problem in ("NO_CODE", "TRUNCATED") and extraction.code_name == "NO_CODE"
        outcome["verdict"] = "NO_CODE"
    else:
        result = vet(extraction.code, ENV_ID, run_dir=tmp_path / "vet")
        outcome.update(
            verdict="PASS" if result.ok else str(result.code),
            message=result.message,
            terms=result.terms,
            stage=result.stage,
        )
        if result.ok:
            assert result.code is None and result.terms
        else:
            assert result.code is not None and result.message.strip()
    log.warning(
        "real LLM outcome: %s\n--- program ---\n%s",
        json.dumps(outcome, default=str),
        extraction.code,
    )
    (tmp_path / "outcome.json").write_text(json.dumps(outcome, default=str, indent=2))
    # a rerun is served by the cache: no new request
    [again] = client.chat(
        reach_prompt(), temperature=0.2, max_tokens=MAX_TOKENS, check=require_code()
    )
    assert again.cached and again.text == reply.text
    assert client.usage.requests == usage["requests"]
