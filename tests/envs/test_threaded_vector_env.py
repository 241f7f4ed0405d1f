"""``ThreadedVectorEnv`` (agentgym.vector.threaded) equals Gymnasium's ``SyncVectorEnv`` of
the same per-env envs step by step, bit for bit, in every autoreset mode, and a learner on
``vectorization="threads"`` trains exactly as on ``sync``."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from agentgym.learners.ppo import PPO, PPOConfig
from agentgym.vector import ThreadedVectorEnv

ENV_ID, NUM_ENVS, STEPS = "HalfCheetah-v5", 4, 60


def _fns(max_episode_steps: int) -> list:
    # Truncation every 13..16 steps, staggered, so autoresets happen mid-batch.
    return [
        (lambda t=max_episode_steps + i: gym.make(ENV_ID, max_episode_steps=t))
        for i in range(NUM_ENVS)
    ]


def _assert_same(a: object, b: object, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, np.ndarray) and a.dtype == object:  # final_obs: one entry per sub-env
        assert isinstance(b, np.ndarray) and a.shape == b.shape, where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)


@pytest.mark.parametrize(
    "mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED]
)
def test_threaded_equals_sync_step_by_step_across_autoresets(mode):
    sync = SyncVectorEnv(_fns(13), autoreset_mode=mode)
    threaded = ThreadedVectorEnv(_fns(13), num_threads=3, autoreset_mode=mode)
    assert threaded.num_threads == 3
    rng = np.random.default_rng(0)
    for env in (sync, threaded):
        env.action_space.seed(0)
    obs_s, info_s = sync.reset(seed=7)
    obs_t, info_t = threaded.reset(seed=7)
    _assert_same(obs_s, obs_t, "reset obs")
    finished = 0
    for t in range(STEPS):
        actions = rng.uniform(-1, 1, size=sync.action_space.shape)
        out_s, out_t = sync.step(actions), threaded.step(actions)
        for name, a, b in zip(
            ("obs", "reward", "terminated", "truncated"), out_s, out_t, strict=False
        ):
            _assert_same(a, b, f"step {t} {name}")
        _assert_same(out_s[4], out_t[4], f"step {t} info")
        done = out_s[2] | out_s[3]
        finished += int(done.sum())
        if mode == AutoresetMode.DISABLED and done.any():
            # Each reset gets its own options: SyncVectorEnv.reset pops reset_mask from them.
            reset_s = sync.reset(options={"reset_mask": done})[0]
            reset_t = threaded.reset(options={"reset_mask": done.copy()})[0]
            _assert_same(reset_s, reset_t, f"step {t} reset")
    assert finished >= NUM_ENVS * 3  # the comparison crossed several autoresets per sub-env
    sync.close()
    threaded.close()


def test_an_exception_in_a_helper_thread_reaches_the_caller():
    threaded = ThreadedVectorEnv(_fns(13), num_threads=NUM_ENVS)
    threaded.reset(seed=0)
    with pytest.raises((AssertionError, ValueError)):
        # A wrong action shape fails inside each sub-env's step, on whichever thread ran it.
        threaded.step(np.zeros((NUM_ENVS, 2)))
    threaded.close()


def test_num_threads_below_one_names_the_argument():
    with pytest.raises(ValueError, match="num_threads must be >= 1"):
        ThreadedVectorEnv(_fns(13), num_threads=0)


def test_ppo_on_threads_trains_as_on_sync():
    config = PPOConfig(
        env_id=ENV_ID,
        num_envs=NUM_ENVS,
        num_steps=32,
        num_minibatches=2,
        update_epochs=2,
        total_steps=256,
        hidden_sizes=(16, 16),
        eval_episodes=0,
        checkpoint_every=0,
        device="cpu",
        vectorization="sync",
    )
    digests = []
    for vectorization in ("threads", "sync"):
        agent = PPO(dataclasses.replace(config, vectorization=vectorization))
        if vectorization == "threads":
            assert isinstance(agent.batch.envs, ThreadedVectorEnv)
        agent.learn()
        digests.append(agent.parameters_digest())
        agent.close()
    assert digests[0] == digests[1]
