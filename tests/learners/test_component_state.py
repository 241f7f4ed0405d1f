"""Each stateful part of PPO saves and loads its own state exactly, whole and per member,
and the checkpoint assembled from them resumes a population bit-identically."""

from __future__ import annotations

import dataclasses

import torch

from agentgym.learners.normalize import ObsNormalizer, RewardNormalizer
from agentgym.learners.ppo import PPO, Population, PPOConfig
from agentgym.learners.ppo.networks import StackedActorCritic
from agentgym.learners.ppo.optim import StackedAdam
from agentgym.learners.ppo.rng import MemberGenerators

CPU = torch.device("cpu")


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        pairs = zip(a[key], b[key], strict=True) if isinstance(a[key], list) else [(a[key], b[key])]
        for x, y in pairs:
            assert torch.equal(x, y), key


def feed(obs_norm: ObsNormalizer, reward_norm: RewardNormalizer, members: slice) -> None:
    """Three rollouts of fixed data (members 0..2), of which the normalisers see ``members``."""
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        obs = torch.randn(3, 5, 3, generator=gen) * 2 + 1
        rewards = torch.randn(6, 3, 4, generator=gen)
        dones = torch.rand(6, 3, 4, generator=gen) > 0.8
        obs_norm.update(obs[members])
        reward_norm(rewards[:, members], dones[:, members], torch.ones_like(dones[:, members]))


def normalizers(members: int) -> tuple[ObsNormalizer, RewardNormalizer]:
    return ObsNormalizer(members, (3,), CPU), RewardNormalizer(members, 4, 0.99, CPU)


def test_normalizers_round_trip_whole_and_per_member():
    trained = normalizers(3)
    feed(*trained, slice(None))
    whole, per_member = normalizers(3), normalizers(3)
    for norm, a, b in zip(trained, whole, per_member, strict=True):
        a.load_state_dict(norm.state_dict())
        b.load_member_state_dicts([norm.member_state_dict(k) for k in range(3)])
        assert_same_state(a.state_dict(), norm.state_dict())
        assert_same_state(b.state_dict(), norm.state_dict())
    x = torch.randn(3, 7, 3)
    assert torch.equal(per_member[0](x), trained[0](x))  # the cached mean and std follow a load


def test_a_members_normalizer_state_is_a_one_member_normalizers():
    three, one = normalizers(3), normalizers(1)
    feed(*three, slice(None))
    feed(*one, slice(1, 2))
    for norm3, norm1 in zip(three, one, strict=True):
        got, expected = norm3.member_state_dict(1), norm1.state_dict()
        assert got.keys() == expected.keys()
        for key in got:
            torch.testing.assert_close(got[key], expected[key])


def test_stacked_adam_round_trips_whole_and_per_member():
    torch.manual_seed(0)
    rows = torch.arange(6) % 3
    param, grad = torch.randn(6, 4), torch.zeros(6, 4)
    adam = StackedAdam(param, grad, rows, 3)
    for active in ([True, True, True], [True, False, True], [False, True, True]):
        grad.copy_(torch.randn(6, 4))
        adam.step(0.01, torch.tensor(active))
    assert adam.steps.tolist() == [2.0, 2.0, 3.0]  # no longer in lockstep
    next_grad, restored = torch.randn(6, 4), []
    for load in ("whole", "per member"):
        other = StackedAdam(param.clone(), torch.zeros(6, 4), rows, 3)
        if load == "whole":
            other.load_state_dict(adam.state_dict())
        else:
            other.load_member_state_dicts([adam.member_state_dict(k) for k in range(3)])
        assert_same_state(other.state_dict(), adam.state_dict())
        other.grad.copy_(next_grad)
        other.step(0.01, torch.tensor([True, True, True]))
        restored.append(other.param)
    grad.copy_(next_grad)
    adam.step(0.01, torch.tensor([True, True, True]))
    for other_param in restored:  # the restored optimisers took the original's next step
        assert torch.equal(other_param, adam.param)


def test_network_member_parameters_round_trip():
    net = StackedActorCritic(3, 2, False, (8,), seeds=[0, 1, 2], init_log_std=-0.5)
    other = StackedActorCritic(3, 2, False, (8,), seeds=[5, 6, 7])
    other.load_member_parameters([net.member_parameters(k) for k in range(3)])
    assert torch.equal(other.flat, net.flat)
    x = torch.randn(3, 4, 3)
    for a, b in zip(other(x), net(x), strict=True):
        assert torch.equal(a, b)  # the per-layer views see the loaded values
    one = StackedActorCritic(3, 2, False, (8,), seeds=[1], init_log_std=-0.5)
    assert torch.equal(net.member_parameters(1), one.member_parameters(0))


def test_member_generators_round_trip_whole_and_per_member():
    generators = MemberGenerators([1, 2], CPU)
    for g in generators:
        torch.rand(3, generator=g)
    whole = generators.state_dict()
    members = [generators.member_state_dict(k) for k in range(2)]
    expected = [torch.rand(4, generator=g) for g in generators] + [torch.rand(4)]
    for load in ("whole", "per member"):
        fresh = MemberGenerators([8, 9], CPU)
        if load == "whole":
            fresh.load_state_dict(whole)
        else:
            fresh.load_member_state_dicts(members)
        got = [torch.rand(4, generator=g) for g in fresh] + [torch.rand(4)]
        for a, b in zip(got, expected, strict=True):
            assert torch.equal(a, b), load
    assert torch.equal(
        MemberGenerators([2], CPU)[0].get_state(), MemberGenerators([1, 2], CPU)[1].get_state()
    )


BASE = PPOConfig(
    total_steps=1024,
    num_envs=4,
    num_steps=64,
    num_minibatches=4,
    update_epochs=2,
    eval_episodes=0,
    checkpoint_every=512,
    seed=5,
)


def test_checkpoint_keeps_the_format_1_keys():
    population = Population(BASE, ["env", "sparse"], seeds=[5, 6])
    state = population.member_state(1)
    population.close()
    assert set(state) == {
        "format",
        "config",
        "global_step",
        "resets",
        "elapsed",
        "status",
        "params",
        "adam",
        "obs_norm",
        "reward_norm",
        "rng",
        "env_seeds",
    }
    assert state["format"] == 1 and state["config"]["seed"] == 6
    assert set(state["adam"]) == {"exp_avg", "exp_avg_sq", "steps"}
    assert set(state["obs_norm"]) == {"mean", "var", "count"}
    assert set(state["reward_norm"]) == {"mean", "var", "count", "returns"}
    assert set(state["rng"]) == {"sampling", "torch"}
    assert state["params"].shape[0] == 2 and state["reward_norm"]["returns"].shape == (1, 4)


def test_population_resumed_from_member_checkpoints_is_bit_identical(tmp_path):
    rewards, seeds = ["env", "sparse"], [5, 6]
    straight = Population(BASE, rewards, seeds=seeds)
    straight.learn_all()
    expected = [straight.parameters_digest(k) for k in range(2)]
    straight.close()
    dirs = [tmp_path / "m0", tmp_path / "m1"]
    first = Population(BASE, rewards, seeds=seeds, run_dirs=dirs)
    first.learn_all(callback=lambda row: row["step"] < 512)  # stop at the first checkpoint
    assert first.global_step == 512
    first.close()
    resumed = Population.resume_all(dirs)
    assert resumed.global_step == 512
    resumed.learn_all()
    assert [resumed.parameters_digest(k) for k in range(2)] == expected
    resumed.close()


def test_collector_state_round_trips_and_a_loaded_learner_collects_the_same_rollout():
    config = dataclasses.replace(BASE, total_steps=512, checkpoint_every=0)
    agent = PPO(config)
    agent.learn()
    assert agent.collector.state_dict() == {"resets": 1}
    fresh = PPO(config)
    fresh.load_member_states([agent.member_state(0)])
    assert fresh.collector.state_dict() == agent.collector.state_dict()
    # A loaded collector starts from a reset with the next reset's seeds; so does the
    # original once asked to (a checkpoint is a reset point), so both collect the same.
    agent.collector.reset_at_next_rollout()
    a = agent.collector.collect(agent.alive, agent.global_step)
    b = fresh.collector.collect(fresh.alive, fresh.global_step)
    assert a.stops == b.stops == []
    for x, y in zip(a.batch, b.batch, strict=True):
        assert torch.equal(x, y)
    assert agent.collector.state_dict() == {"resets": 2}
    agent.close()
    fresh.close()
