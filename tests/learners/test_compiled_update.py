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


@pytest.mark.parametrize(
    ("discrete", "members", "envs"), [(False, 2, 6), (True, 3, 6), (False, 1, 1), (True, 2, 12)]
)
def test_compiled_policy_step_matches_the_eager_one_up_to_rounding(discrete, members, envs):
    """The compiled step normalises, samples and writes the rollout buffers' rows as the
    eager ObsNormalizer, sample_actions and log_prob_entropy do; with few rows a member
    (compiled.SMALL_BATCH_ROWS) its layers are multiply-and-sum loops, with more GEMMs."""
    from agentgym.learners.normalize import ObsNormalizer
    from agentgym.learners.ppo.compiled import compiled_act
    from agentgym.learners.ppo.networks import log_prob_entropy, policy_noise, sample_actions

    net = StackedActorCritic(5, 4, discrete, (16, 16), seeds=list(range(members)))
    raw = 3.0 * torch.randn(members, envs, 5, generator=torch.Generator().manual_seed(2))
    norm = ObsNormalizer(members, (5,), torch.device("cpu"), clip=1.5)
    norm.update(raw + torch.randn(members, envs, 5, generator=torch.Generator().manual_seed(3)))
    act = compiled_act(tuple(net.layer_shapes), members, discrete, "cpu", norm.clip)
    steps = 3
    bufs = [
        torch.full((steps, members, envs, 5), float("nan")),
        torch.full((steps, members, envs, 5), float("nan")),
        torch.zeros((steps, members, envs), dtype=torch.long)
        if discrete
        else torch.full((steps, members, envs, 4), float("nan")),
        torch.full((steps, members, envs), float("nan")),
        torch.full((steps, members, envs), float("nan")),
    ]
    bound = None
    for t in range(2):  # two observation batches, each path from the same generator states
        eager_gens = [torch.Generator().manual_seed(10 + k) for k in range(members)]
        gens = [torch.Generator().manual_seed(10 + k) for k in range(members)]
        with torch.no_grad():
            obs = norm(raw)
            out, value = net(obs)
            eager_action = sample_actions(net, out, eager_gens)
            eager_logp, _ = log_prob_entropy(net, out, eager_action)
            noise = policy_noise(net, (envs, 4), gens, raw.device)
            args = (net.flat, raw, *norm.affine(), noise, *(b[t] for b in bufs))
            bound = bound or act.bind(*args)  # views of other rows share the layout
            assert bound(*args) is None
        raw_row, obs_row, action, logp, compiled_value = (b[t] for b in bufs)
        assert torch.equal(raw_row, raw)
        assert obs.abs().max() == 1.5  # the clip is in play
        torch.testing.assert_close(obs_row, obs, rtol=1e-6, atol=1e-6)
        if discrete:
            torch.testing.assert_close(action, eager_action, rtol=0, atol=0)
        else:
            torch.testing.assert_close(action, eager_action, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(logp, eager_logp, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(compiled_value, value, rtol=1e-5, atol=1e-6)
        assert action.dtype == eager_action.dtype and action.shape == eager_action.shape
        raw = raw + 0.5
    assert torch.isnan(bufs[0][2]).all()  # rows not stepped stay untouched


def test_compiled_policy_step_without_normalisation_passes_observations_through():
    from agentgym.learners.ppo.compiled import compiled_act

    net = StackedActorCritic(3, 2, False, (8,), seeds=[0])
    raw = 50.0 * torch.randn(1, 2, 3, generator=torch.Generator().manual_seed(0))
    act = compiled_act(tuple(net.layer_shapes), 1, False, "cpu", None)
    outs = [torch.empty(1, 2, 3), torch.empty(1, 2, 3), torch.empty(1, 2, 2)]
    outs += [torch.empty(1, 2), torch.empty(1, 2)]
    stats = (torch.full((1, 1, 3), 7.0), torch.full((1, 1, 3), 0.1))  # would change obs
    with torch.no_grad():
        args = (net.flat, raw, *stats, torch.zeros(1, 2, 2), *outs)
        act.bind(*args)(*args)
        out, value = net(raw)
    assert torch.equal(outs[1], raw)  # not normalised, not clipped
    torch.testing.assert_close(outs[2], out, rtol=1e-5, atol=1e-6)  # zero noise: the mean
    torch.testing.assert_close(outs[4], value, rtol=1e-5, atol=1e-6)
