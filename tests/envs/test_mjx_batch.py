"""``physics="mjx"``: the locomotion vector envs with MuJoCo XLA physics (agentgym/vector/
mjx.py), here on CPU JAX, against the same envs on MuJoCo's CPU physics.

MJX steps in float32 where MuJoCo steps in float64, so the two agree to float32 tolerance,
not bit for bit; the resets draw from the same numpy generators, so every episode starts
from the same state on both."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("mujoco.mjx", reason="needs the mjx extra: pip install 'agentgym[mjx]'")

ENV_ID, N, EPISODE = "agentgym/HalfCheetah-v0", 4, 8


def _pair(env_id: str):
    cpu = gym.make_vec(env_id, num_envs=N, max_episode_steps=EPISODE)
    mjx = gym.make_vec(env_id, num_envs=N, max_episode_steps=EPISODE, physics="mjx")
    return cpu, mjx


@pytest.mark.parametrize(
    "env_id, device",
    [
        (ENV_ID, "default"),
        # ~30 s each, most of it compiling their step: make test-slow.
        pytest.param("agentgym/Hopper-v0", "default", marks=pytest.mark.slow),
        pytest.param("agentgym/Walker2d-v0", "default", marks=pytest.mark.slow),
        pytest.param(ENV_ID, "gpu", marks=pytest.mark.gpu),
    ],
)
def test_mjx_physics_equals_the_cpu_env_step_by_step_across_autoresets(env_id, device):
    """Three 8-step episodes (two autoresets): observations, rewards, reward terms,
    fitness equal to float32 tolerance after contact-rich steps; terminations,
    truncations and the reset observations exactly as on the CPU physics. ``gpu``: the
    same with JAX's default device a GPU (``make test-gpu``, scripts/device-check.sh)."""
    import jax

    if device == "gpu" and jax.devices()[0].platform != "gpu":
        pytest.skip(f"JAX has no GPU here (default device {jax.devices()[0]})")
    cpu, mjx = _pair(env_id)
    try:
        assert mjx.unwrapped.batch.backend == "mjx"
        assert cpu.unwrapped.batch.backend != "mjx"
        obs_cpu, _ = cpu.reset(seed=3)
        obs_mjx, _ = mjx.reset(seed=3)
        np.testing.assert_allclose(obs_mjx, obs_cpu, atol=1e-6)
        shape = (3 * EPISODE + 1, N, *cpu.single_action_space.shape)
        actions = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        for t, action in enumerate(actions):
            o_c, r_c, term_c, trunc_c, info_c = cpu.step(action)
            o_m, r_m, term_m, trunc_m, info_m = mjx.step(action)
            at = f"step {t}"
            np.testing.assert_array_equal(term_m, term_c, err_msg=at)
            np.testing.assert_array_equal(trunc_m, trunc_c, err_msg=at)
            if t % (EPISODE + 1) == EPISODE:  # NEXT_STEP autoreset: this step resets
                np.testing.assert_allclose(o_m, o_c, atol=1e-6, err_msg=at)
                continue
            # Positions and velocities (up to ~15 in magnitude) after up to 8 steps of
            # contact dynamics in float32: HalfCheetah's measured up to ~4e-3 apart.
            np.testing.assert_allclose(o_m, o_c, rtol=1e-3, atol=2e-2, err_msg=at)
            np.testing.assert_allclose(r_m, r_c, rtol=1e-3, atol=5e-3, err_msg=at)
            for name, value in info_c["reward_terms"].items():
                np.testing.assert_allclose(
                    info_m["reward_terms"][name], value, rtol=1e-3, atol=5e-3, err_msg=name
                )
            np.testing.assert_allclose(info_m["fitness"], info_c["fitness"], atol=5e-3)
        # Not trivially equal: the physics differ in the last float bits.
        assert not np.array_equal(o_m, o_c)
    finally:
        cpu.close()
        mjx.close()


def test_a_masked_mjx_step_leaves_the_other_sub_envs_as_they_were():
    from agentgym.vector.mjx import MjxBatch

    env = gym.make("HalfCheetah-v5").unwrapped
    batch = MjxBatch(env.model, N, frame_skip=5)
    rng = np.random.default_rng(1)
    for i in range(N):
        batch.reset(i, env.init_qpos + rng.uniform(-0.1, 0.1, 9), env.init_qvel)
    before = {k: v.copy() for k, v in batch.fields.items()}
    mask = np.array([True, False, True, False])
    batch.step(rng.uniform(-1, 1, (N, 6)), mask)
    after = batch.fields
    for name in ("qpos", "qvel"):
        np.testing.assert_array_equal(after[name][~mask], before[name][~mask])
        assert np.all(np.any(after[name][mask] != before[name][mask], axis=1)), name
    batch.close()
    env.close()


def test_ppo_steps_mjx_physics_and_bad_choices_are_named():
    from agentgym.learners.ppo import PPO, PPOConfig

    config = PPOConfig(
        env_id=ENV_ID,
        num_envs=N,
        num_steps=16,
        num_minibatches=2,
        update_epochs=1,
        total_steps=128,
        vectorization="mjx",
        eval_episodes=0,
        checkpoint_every=0,
        device="cpu",
    )
    agent = PPO(config)
    try:
        assert agent.batch.envs.unwrapped.batch.backend == "mjx"
        result = agent.learn()
        assert result["status"] == "DONE"
        assert agent.global_step == 128
    finally:
        agent.close()
    with pytest.raises(ValueError, match="no MuJoCo physics to put on MJX"):
        PPO(dataclasses.replace(config, env_id="agentgym/Reach-v0")).close()
    with pytest.raises(ValueError, match="'mjx', but 'CartPole-v1' has no native vector env"):
        PPO(dataclasses.replace(config, env_id="CartPole-v1")).close()
    with pytest.raises(ValueError, match="physics must be one of"):
        gym.make_vec(ENV_ID, num_envs=2, physics="warp")
    with pytest.raises(ValueError, match="leave num_threads out"):
        gym.make_vec(ENV_ID, num_envs=2, physics="mjx", num_threads=2)


@pytest.mark.parametrize(
    "env_id, reason",
    [("agentgym/Ant-v0", "contact forces"), ("agentgym/Humanoid-v0", "PGS solver")],
)
def test_robots_that_mjx_does_not_match_are_refused_with_the_reason(env_id, reason):
    with pytest.raises(ValueError, match=f"physics='mjx' is not supported: .*{reason}"):
        gym.make_vec(env_id, num_envs=2, physics="mjx")


def test_without_mjx_the_error_names_what_to_install(monkeypatch):
    import sys

    import mujoco

    monkeypatch.delattr(mujoco, "mjx", raising=False)
    monkeypatch.setitem(sys.modules, "mujoco.mjx", None)
    with pytest.raises(
        ImportError, match=r"physics='mjx' needs mujoco-mjx and jax .*agentgym\[mjx\]"
    ):
        gym.make_vec(ENV_ID, num_envs=2, physics="mjx")


@pytest.mark.gpu
def test_ppo_with_physics_on_jax_s_gpu_and_the_learner_on_cuda():
    """The GPU path end to end (``make test-gpu``, scripts/device-check.sh): MJX on JAX's
    GPU, PPO's networks and update on torch's, one short run."""
    import jax
    import torch

    from agentgym.learners.ppo import PPO, PPOConfig

    if jax.devices()[0].platform != "gpu" or not torch.cuda.is_available():
        pytest.skip(f"needs a GPU for JAX ({jax.devices()[0]}) and for torch")
    config = PPOConfig(
        env_id=ENV_ID,
        num_envs=256,
        num_steps=16,
        num_minibatches=4,
        update_epochs=2,
        total_steps=256 * 16 * 4,
        vectorization="mjx",
        eval_episodes=0,
        checkpoint_every=0,
        device="cuda",
    )
    agent = PPO(config)
    try:
        assert agent.device.type == "cuda"
        batch = agent.batch.envs.unwrapped.batch
        assert batch.backend == "mjx" and batch.device.platform == "gpu"
        result = agent.learn()
        assert result["status"] == "DONE" and agent.global_step == config.total_steps
        assert np.isfinite(result["loss/value"])
    finally:
        agent.close()
