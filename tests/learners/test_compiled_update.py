"""``PPOConfig.compile``: the compiled minibatch step (compiled.py) against the eager one."""

from __future__ import annotations

import pytest
import torch

from agentgym.learners.ppo import PPOConfig
from agentgym.learners.ppo.networks import StackedActorCritic
from agentgym.learners.ppo.optim import StackedAdam
from agentgym.learners.ppo.update import Batch, ppo_update


def _update(compile: bool, discrete: bool, members: int) -> tuple[torch.Tensor, dict]:
    config = PPOConfig(
        num_envs=4,
        num_steps=32,
        num_minibatches=4,
        update_epochs=3,
        clip_vloss=True,
        ent_coef=0.01,
        compile=compile,
    )
    obs_dim, act_dim, b = 5, 3, config.batch_size
    net = StackedActorCritic(obs_dim, act_dim, discrete, (16, 16), seeds=list(range(members)))
    optimizer = StackedAdam(net.flat, net.grad, net.row_member, members)
    data = torch.Generator().manual_seed(1)

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(members, b, *shape, generator=data)

    actions = torch.randint(0, act_dim, (members, b), generator=data) if discrete else draw(act_dim)
    valid = torch.rand(members, b, generator=data) > 0.1
    batch = Batch(draw(obs_dim), actions, draw() - 3, draw(), draw(), draw(), valid)
    generators = [torch.Generator().manual_seed(k) for k in range(members)]
    active = torch.ones(members, dtype=torch.bool)
    for _ in range(2):  # the second update starts from moved parameters and moments
        stats = ppo_update(net, optimizer, batch, config, 3e-4, active, generators)
    return net.flat.clone(), stats


@pytest.mark.parametrize(("discrete", "members"), [(False, 2), (True, 1)])
def test_compiled_update_matches_the_eager_one_up_to_rounding(discrete, members):
    eager_params, eager_stats = _update(False, discrete, members)
    params, stats = _update(True, discrete, members)
    start = StackedActorCritic(5, 3, discrete, (16, 16), seeds=list(range(members))).flat
    # The parameters moved (120 Adam steps at lr 3e-4), and moved the same way.
    assert (eager_params - start).abs().max() > 1e-3
    torch.testing.assert_close(params, eager_params, rtol=1e-4, atol=1e-5)
    assert stats.keys() == eager_stats.keys()
    for name, value in stats.items():
        torch.testing.assert_close(value, eager_stats[name], rtol=1e-3, atol=1e-5, msg=name)


def test_compile_without_a_cpp_compiler_names_the_setting_before_any_step(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no g++, c++ or clang++
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(RuntimeError, match=r"PPOConfig.compile.*C\+\+ compiler.*--no-compile"):
        _update(compile=True, discrete=False, members=1)
    monkeypatch.setenv("CXX", "no-such-compiler")
    with pytest.raises(RuntimeError, match=r"\$CXX=no-such-compiler"):
        _update(compile=True, discrete=False, members=1)
