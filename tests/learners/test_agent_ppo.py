"""Agent PPO: a tiny transformer policy (built from a config, behaviour-cloned on expert
demonstrations) acting in a real BabyAI-text env, on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agentgym.learners.agent import AgentPPO, AgentPPOConfig, LMPolicy, bc_examples, behaviour_clone
from agentgym.learners.logger import read_metrics
from agentgym.reward_designers.progress import SPAReward
from tests.learners.babyai_agent import FMT, agent_config, expert_demos


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and the cores are shared
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def demos() -> list[dict]:
    return expert_demos(60, first_seed=10_000)


@pytest.fixture(scope="module")
def bc_policy(tiny_lm, demos, tmp_path_factory) -> Path:
    torch.manual_seed(0)
    policy = LMPolicy.from_pretrained(f"hf:{tiny_lm}", FMT)
    behaviour_clone(policy, demos, epochs=10, lr=3e-3, batch_size=32, seed=0)
    return policy.save_pretrained(tmp_path_factory.mktemp("bc") / "policy")


def test_action_log_probs_are_padding_invariant_and_match_a_plain_forward(tiny_lm, demos):
    policy = LMPolicy.from_pretrained(f"hf:{tiny_lm}", FMT)
    examples = bc_examples(policy, demos[:2])[:5]
    prompts, actions = [p for p, _ in examples], [a for _, a in examples]
    assert len({len(p) for p in prompts}) > 1 and len({len(a) for a in actions}) >= 1
    batched = policy.evaluate(prompts, actions)
    for i, (p, a) in enumerate(examples):
        ids = torch.tensor([p + a])
        with torch.no_grad():
            logits = policy.model(input_ids=ids).logits[0]
        logp = torch.log_softmax(logits.float(), -1)
        expected = sum(float(logp[len(p) - 1 + j, tok]) for j, tok in enumerate(a))
        assert abs(float(batched.logprob[i].detach()) - expected) < 1e-4
    assert batched.features.shape == (5, policy.model.config.hidden_size)


def test_batched_cached_greedy_generation_equals_a_step_by_step_argmax(tiny_lm, demos):
    policy = LMPolicy.from_pretrained(f"hf:{tiny_lm}", FMT)
    prompts = [p for p, _ in bc_examples(policy, demos[:3])[:6]]
    generated = policy.generate(prompts, greedy=True)
    for p, g in zip(prompts, generated, strict=True):
        ids = list(p)
        expected = []
        with torch.no_grad():
            for _ in range(FMT.max_action_tokens):
                tok = int(policy.model(input_ids=torch.tensor([ids])).logits[0, -1].argmax())
                expected.append(tok)
                ids.append(tok)
                if tok == policy.eos:
                    break
        assert g == expected


def test_behaviour_cloning_learns_the_expert_commands(bc_policy, demos):
    policy = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT)
    examples = bc_examples(policy, demos[:20])
    generated = policy.generate([p for p, _ in examples], greedy=True)
    agree = sum(g == a for g, (_, a) in zip(generated, examples, strict=True)) / len(examples)
    assert agree > 0.6, agree


def test_behaviour_cloning_trains_no_value_head(bc_policy):
    policy = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT)
    assert (policy.value_head.weight == 0).all()


def test_agent_ppo_raises_the_success_of_a_bc_policy(bc_policy):
    # A small task: four BabyAI GoToLocal layouts (task_seeds=4), sparse success reward.
    cfg = agent_config(
        bc_policy,
        total_steps=3000,
        num_envs=16,
        episodes_per_update=32,
        learning_rate=1e-3,
        update_epochs=4,
        kl_coef=0.0,
        task_seeds=4,
        eval_episodes=64,
    )
    rows: list[dict] = []
    agent = AgentPPO(cfg)
    agent.learn(callback=rows.append)
    agent.close()
    assert agent.updates >= 8
    # On-policy success of the first and last three rollouts (96 episodes each) ...
    train = [r["success_rate"] for r in rows if "success_rate" in r]
    early, late = sum(train[:3]) / 3, sum(train[-3:]) / 3
    assert late >= early + 0.15, train
    # ... and the evaluation episodes (fixed sampling seed) before and after PPO.
    assert rows[-1]["eval/success_rate"] > rows[0]["eval/success_rate"]


def test_spa_reward_explores_trains_the_estimator_and_relabels(bc_policy, tmp_path):
    agent = AgentPPO(
        agent_config(bc_policy, reward="spa:epochs=5;min_episodes=4", total_steps=300),
        run_dir=tmp_path,
    )
    assert isinstance(agent.relabel, SPAReward)
    agent.learn()
    spa = agent.relabel
    assert spa.trainings >= 2  # after exploration, then online on every rollout
    assert spa.estimator.norm.normalized_shape[0] == 32  # on the policy's hidden state
    rows = read_metrics(tmp_path)
    assert any("reward_terms/progress" in r for r in rows)
    assert rows[1]["step"] > 0 and "spa/explore_success" in rows[1]  # exploration counts env steps
    assert (tmp_path / "policy" / "config.json").is_file()


def test_checkpoint_resume_continues_where_it_stopped(bc_policy, tmp_path):
    agent = AgentPPO(
        agent_config(bc_policy, total_steps=120, reward="spa:epochs=2;min_episodes=4"),
        run_dir=tmp_path,
    )
    agent.learn()
    saved = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    step, estimator = agent.global_step, agent.relabel.state_dict()
    agent.close()
    resumed = AgentPPO.resume(tmp_path)
    assert resumed.global_step == step and resumed.updates == agent.updates
    for k, v in resumed.policy.state_dict().items():
        torch.testing.assert_close(v, saved[k])
    for a, b in zip(
        resumed.relabel.state_dict()["estimator"].values(),
        estimator["estimator"].values(),
        strict=True,
    ):
        torch.testing.assert_close(a, b)
    resumed.config = AgentPPOConfig(**{**resumed.config.__dict__, "total_steps": step + 100})
    resumed.learn()
    assert resumed.global_step >= step + 100
    assert max(r["step"] for r in read_metrics(tmp_path)) == resumed.global_step


def ppo_update_metric_names() -> set[str]:
    """The names PPO's update logs, from one update of a tiny network on a random batch."""
    from agentgym.learners.ppo import PPOConfig
    from agentgym.learners.ppo.networks import StackedActorCritic
    from agentgym.learners.ppo.optim import StackedAdam
    from agentgym.learners.ppo.update import Batch, ppo_update

    ppo = PPOConfig(num_envs=2, num_steps=4, num_minibatches=2, update_epochs=1)
    net = StackedActorCritic(3, 2, True, (4,), seeds=[0])
    adam = StackedAdam(net.flat, net.grad, net.row_member, 1)
    b = ppo.batch_size
    batch = Batch(
        torch.randn(1, b, 3),
        torch.randint(0, 2, (1, b)),
        torch.zeros(1, b),
        torch.randn(1, b),
        torch.randn(1, b),
        torch.zeros(1, b),
        torch.ones(1, b, dtype=torch.bool),
    )
    stats = ppo_update(net, adam, batch, ppo, 1e-3, torch.tensor([True]), [torch.Generator()])
    return set(stats) | {"learning_rate"}  # the learner adds the learning rate


def test_agent_rows_carry_the_metric_names_ppo_logs_and_the_report_reads(bc_policy, tmp_path):
    from agentgym.runs.sections.losses import PANELS

    agent = AgentPPO(agent_config(bc_policy, total_steps=40), run_dir=tmp_path)
    agent.learn()
    agent.close()
    rows = [r for r in read_metrics(tmp_path) if "loss/policy" in r]
    assert rows
    names = ppo_update_metric_names()
    assert {"approx_kl", "clipfrac", "grad_norm", "epochs"} <= names
    ppo_panels = {key for _, key in PANELS} & names  # the report's panels of PPO's metrics
    assert {"approx_kl", "clipfrac", "loss/policy"} <= ppo_panels
    for row in rows:
        assert names <= set(row), names - set(row)
        assert ppo_panels <= set(row)
        assert not {"loss/approx_kl", "loss/clip_frac"} & set(row)


def test_lora_trains_the_adapters_and_the_value_head_only(bc_policy):
    policy = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT, lora_rank=4)
    trainable = {n for n, p in policy.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("value_head") for n in trainable)


def test_lora_reference_log_probs_are_the_base_models(bc_policy, demos):
    policy = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT, lora_rank=4)
    base = LMPolicy.from_pretrained(f"hf:{bc_policy}", FMT)
    examples = bc_examples(base, demos[:2])[:4]
    prompts, actions = [p for p, _ in examples], [a for _, a in examples]
    with torch.no_grad():
        for p in policy.parameters():
            if p.requires_grad:
                p.add_(0.05)  # move the adapters away from the identity
        moved = policy.evaluate(prompts, actions).logprob
        reference = policy.evaluate(prompts, actions, reference=True).logprob
        expected = base.evaluate(prompts, actions).logprob
    torch.testing.assert_close(reference, expected)
    assert not torch.allclose(moved, expected)


def test_vllm_rollouts_need_vllm(bc_policy):
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="rollout_backend='vllm' cannot run here: vllm is"):
            AgentPPO(agent_config(bc_policy, rollout_backend="vllm"))
    else:
        pytest.skip("vllm is installed here")


def test_config_errors_name_the_field(bc_policy):
    with pytest.raises(ValueError, match="AgentPPOConfig.policy: expected hf:PATH"):
        AgentPPOConfig(policy="")
    with pytest.raises(
        ValueError, match="AgentPPOConfig.episodes_per_update: expected a positive int, got 0"
    ):
        agent_config(bc_policy, episodes_per_update=0)
    with pytest.raises(ValueError, match="transformers model folder"):
        AgentPPO(agent_config(Path("/nonexistent/model")))
