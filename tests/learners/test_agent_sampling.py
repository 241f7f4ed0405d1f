"""Rollout samplers of agent PPO: the transformers one on CPU, and the in-process vLLM
engine synced to the policy (``gpu``: needs a CUDA device and vllm installed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agentgym.learners.agent import AgentPPO, LMPolicy, bc_examples, behaviour_clone
from agentgym.learners.agent.sampling import (
    TransformersSampler,
    finish_action,
    make_sampler,
    vllm_lora_rank,
)
from agentgym.testing.tiny import build_tiny_lm_for_env
from tests.learners.babyai_agent import ENV, FMT, agent_config, expert_demos

EOS = 3


@pytest.mark.parametrize(
    ("ids", "stopped", "expected"),
    [
        ([5, 6, EOS], True, [5, 6, EOS]),  # the engine kept the stop token
        ([5, 6], True, [5, 6, EOS]),  # the engine dropped it
        ([EOS], True, [EOS]),
        ([], True, [EOS]),
        ([5, 6, 7, 8], False, [5, 6, 7, 8]),  # ran out of tokens: no EOS
        ([5, 6, 7, 8, 9], False, [5, 6, 7, 8]),
        ([5, 6, 7, 8], True, [5, 6, 7, EOS]),  # stopped at the cap: EOS takes the last slot
    ],
)
def test_engine_outputs_become_actions_as_the_policy_writes_them(ids, stopped, expected):
    assert finish_action(ids, stopped, EOS, max_tokens=4) == expected


@pytest.mark.parametrize(("rank", "expected"), [(1, 1), (4, 8), (8, 8), (9, 16), (300, 320)])
def test_lora_ranks_round_up_to_what_vllm_takes(rank, expected):
    assert vllm_lora_rank(rank) == expected


def test_unknown_backend_is_named(tmp_path):
    with pytest.raises(ValueError, match="rollout_backend must be transformers or vllm"):
        make_sampler("sglang", policy=None, model="")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bc_policy(tmp_path_factory) -> Path:
    # head_dim 64: vLLM's attention kernels do not take the 16 of the CPU tests' model
    torch.manual_seed(0)
    lm = build_tiny_lm_for_env(
        tmp_path_factory.mktemp("lm") / "tiny", ENV, hidden_size=128, heads=2
    )
    policy = LMPolicy.from_pretrained(f"hf:{lm}", FMT)
    behaviour_clone(
        policy, expert_demos(40, first_seed=10_000), epochs=4, lr=3e-3, batch_size=32, seed=0
    )
    out = policy.save_pretrained(tmp_path_factory.mktemp("bc") / "policy")
    return out


def test_transformers_sampler_samples_from_the_policy_it_was_synced_to(bc_policy):
    first = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT)
    second = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT)
    with torch.no_grad():
        second.model.get_input_embeddings().weight.normal_(
            0, 1.0, generator=torch.Generator().manual_seed(1)
        )
    prompts = [p for p, _ in bc_examples(first, expert_demos(1, first_seed=3))]
    sampler = TransformersSampler(first)
    before = sampler.generate(prompts, greedy=True)
    sampler.sync(second)
    after = sampler.generate(prompts, greedy=True)
    assert before == first.generate(prompts, greedy=True)
    assert after == second.generate(prompts, greedy=True) and after != before


# -- vLLM (GPU) ---------------------------------------------------------------------------
def _vllm_next_token_logprobs(sampler, prompts: list[list[int]], k: int = 8) -> list[dict]:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    params = SamplingParams(temperature=1.0, max_tokens=1, logprobs=k, detokenize=False, seed=0)
    outs = sampler.llm.generate(
        [TokensPrompt(prompt_token_ids=p) for p in prompts],
        params,
        use_tqdm=False,
        lora_request=sampler.lora_request,
    )
    return [{t: lp.logprob for t, lp in o.outputs[0].logprobs[0].items()} for o in outs]


def _hf_next_token_logprobs(policy: LMPolicy, prompts: list[list[int]]) -> list[torch.Tensor]:
    with torch.no_grad():
        return [
            torch.log_softmax(
                policy.model(input_ids=torch.tensor([p], device=policy.device))
                .logits[0, -1]
                .float(),
                -1,
            ).cpu()
            for p in prompts
        ]


def _max_gap(engine: list[dict], hf: list[torch.Tensor]) -> float:
    return max(
        abs(lp - float(ref[t])) for e, ref in zip(engine, hf, strict=True) for t, lp in e.items()
    )


def _prompts(policy: LMPolicy) -> list[list[int]]:
    return [p for p, _ in bc_examples(policy, expert_demos(3, first_seed=500))][:12]


@pytest.mark.gpu
@pytest.mark.parametrize("lora_rank", [0, 4])
def test_vllm_engine_follows_the_policy_through_weight_syncs(bc_policy, lora_rank):
    pytest.importorskip("vllm", reason="vllm rollouts need vllm installed (its own GPU env)")
    if not torch.cuda.is_available():
        pytest.skip("vllm rollouts need a CUDA device")
    policy = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT, "cuda", lora_rank=lora_rank)
    sampler = make_sampler(
        "vllm", policy, f"hf:{bc_policy}", gpu_memory_utilization=0.2, dtype="float32"
    )
    try:
        prompts = _prompts(policy)
        old = _hf_next_token_logprobs(policy, prompts)
        assert _max_gap(_vllm_next_token_logprobs(sampler, prompts), old) < 0.02
        # Greedy actions are the policy's own.
        assert sampler.generate(prompts, greedy=True) == policy.generate(prompts, greedy=True)
        with torch.no_grad():  # a large move: every next-token distribution changes
            g = torch.Generator(device="cuda").manual_seed(1)
            for p in policy.parameters():
                if p.requires_grad and p.dim() == 2:
                    p.add_(torch.randn(p.shape, generator=g, device="cuda") * 0.3)
        new = _hf_next_token_logprobs(policy, prompts)
        assert max(float((a - b).abs().max()) for a, b in zip(old, new, strict=True)) > 0.5
        stale = _vllm_next_token_logprobs(sampler, prompts)
        assert _max_gap(stale, new) > 0.5  # not yet synced: still the old weights
        sampler.sync(policy)
        assert _max_gap(_vllm_next_token_logprobs(sampler, prompts), new) < 0.02
        assert sampler.generate(prompts, greedy=True) == policy.generate(prompts, greedy=True)
        # Sampling is reproducible from a torch.Generator, and temperature matters.
        one = sampler.generate(prompts, generator=torch.Generator().manual_seed(7))
        two = sampler.generate(prompts, generator=torch.Generator().manual_seed(7))
        assert one == two
        assert all(len(a) <= FMT.max_action_tokens for a in one)
    finally:
        sampler.close()


@pytest.mark.gpu
def test_agent_ppo_trains_with_vllm_rollouts(bc_policy, tmp_path):
    pytest.importorskip("vllm", reason="vllm rollouts need vllm installed (its own GPU env)")
    if not torch.cuda.is_available():
        pytest.skip("vllm rollouts need a CUDA device")
    cfg = agent_config(
        bc_policy,
        reward="spa:epochs=2;min_episodes=4",
        eval_episodes=16,
        device="cuda",
        rollout_backend="vllm",
        vllm_gpu_memory_utilization=0.2,
        vllm_dtype="float32",
    )
    agent = AgentPPO(cfg, run_dir=tmp_path)
    row = agent.learn()
    assert agent.updates >= 2 and agent.sampler.version == agent.updates + 1
    assert 0.0 <= row["eval/success_rate"] <= 1.0 and row["grounding_accuracy"] > 0.0
    agent.close()
    resumed = AgentPPO.resume(tmp_path)  # a fresh engine, synced to the checkpoint's weights
    prompts = _prompts(resumed.policy)
    assert resumed.sampler.generate(prompts, greedy=True) == resumed.policy.generate(
        prompts, greedy=True
    )
    resumed.close()
