"""The population learner: K=1 is the single learner, members never share data, a bad
reward program stops only its own member."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from agentgym.learners.ppo import PPO, Population, train_population
from agentgym.testing.tiny import tiny_ppo_config

BASE = tiny_ppo_config(total_steps=1024, num_minibatches=4, seed=5)

NAN_AFTER_A_WHILE = """
import torch

def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    bad = state["joint_vel"].abs().sum(-1) > 3.0  # happens within a few steps of random actions
    return torch.where(bad, torch.full_like(d, float("nan")), -d), {"distance": -d}
"""

RAISES = """
import torch

def compute_reward(state, action):
    return state["no_such_variable"].sum(-1), {}
"""


def _params(agent: PPO, k: int) -> torch.Tensor:
    return agent.net.flat.detach()[[k, agent.k + k]].clone()


def test_population_of_one_equals_the_single_learner():
    single = PPO(BASE)
    single.learn()
    pop = Population(BASE, ["env"], seeds=[BASE.seed])
    results = pop.learn_all()
    torch.testing.assert_close(_params(pop, 0), _params(single, 0), atol=1e-6, rtol=0)
    assert results[0]["status"] == "DONE" and results[0]["step"] == single.global_step
    single.close()
    pop.close()


@pytest.fixture(scope="module")
def mixed_population(reach_program, tmp_path_factory) -> tuple[Population, list[dict]]:
    """A finished population of four members, seeds 5 to 8: the env's reward, one that
    turns NaN, Reach's library program, one that raises. (population, results)"""
    work = tmp_path_factory.mktemp("population")
    nan_program = work / "nan_reward.py"
    nan_program.write_text(NAN_AFTER_A_WHILE)
    broken = work / "broken.py"
    broken.write_text(RAISES)
    # The test's own programs, run in process (trust:): the one that raises reads a key the
    # vetter would refuse before training, and this is about a member failing mid-training.
    rewards = ["env", f"trust:{nan_program}", reach_program, f"trust:{broken}"]
    pop = Population(BASE, rewards, seeds=[5, 6, 7, 8])
    results = pop.learn_all()
    pop.close()
    return pop, results


def test_a_nonfinite_or_raising_reward_stops_only_its_member(mixed_population):
    _, results = mixed_population
    assert [r["status"] for r in results] == ["DONE", "NONFINITE", "DONE", "ERROR"]
    assert 0 < results[1]["step"] <= BASE.batch_size  # the first rollout already hits it
    assert "no_such_variable" in results[3]["error"]


def test_a_member_trains_as_a_lone_learner_beside_failing_members(mixed_population):
    pop, _ = mixed_population
    # Member 0 trained exactly as a lone learner with its seed: no data crossed over from
    # the failing members (a NaN anywhere in a shared buffer or gradient would show here).
    alone = PPO(dataclasses.replace(BASE, seed=5))
    alone.learn()
    torch.testing.assert_close(_params(pop, 0), _params(alone, 0), atol=1e-5, rtol=0)
    alone.close()
    assert torch.isfinite(pop.net.flat).all()


def test_members_of_equal_rewards_differ_by_their_own_seeds(mixed_population):
    pop, _ = mixed_population
    # The library program equals the env's reward, but member 2 has its own seed: it
    # must differ from member 0 (its own envs, init and sampling).
    assert not torch.allclose(_params(pop, 2), _params(pop, 0))


def test_train_population_validates_its_arguments():
    with pytest.raises(ValueError, match="seeds has 1 entries, expected 2"):
        train_population(BASE, ["env", "env"], seeds=[1])
    with pytest.raises(ValueError, match="at least one"):
        train_population(BASE, [])


@pytest.mark.slow
def test_population_of_four_all_learn_reach(reach_ppo_config, reach_program, tmp_path):
    rewards = ["env", "env", reach_program, reach_program]
    results = train_population(
        dataclasses.replace(reach_ppo_config, eval_episodes=20),
        rewards,
        seeds=[0, 1, 2, 3],
        run_dirs=[tmp_path / f"m{i}" for i in range(4)],
    )
    rates = [r["eval/success_rate"] for r in results]
    assert all(r["status"] == "DONE" for r in results)
    assert min(rates) >= 0.8, rates
    for i in range(4):
        assert (tmp_path / f"m{i}" / "checkpoints" / "latest.pt").is_file()
