"""Native vector envs (agentgym.vector) equal a SyncVectorEnv of the per-env env step by
step: observations, rewards, terminations, truncations and every info key with its
``_key`` mask, across autoresets, for the same seeds and actions."""

from __future__ import annotations

import inspect
import os
import re
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator
from gymnasium.vector import AutoresetMode, VectorEnv

from agentgym.catalog import env_ids
from agentgym.envs.robotics.locomotion import SpeedWindow
from agentgym.reward_designers.library import program_path
from agentgym.vector import MujocoBatch, NativeVectorEnv, stack_infos
from agentgym.wrappers import VectorRewardWrapper

NATIVE_IDS = [i for i in env_ids() if gym.spec(i).vector_entry_point is not None]
# (steps, max_episode_steps): long enough for each robot to terminate (random actions topple
# Hopper, Walker2d, Ant and Humanoid) and to be truncated, short enough for the default suite.
RUNS = {
    "agentgym/Reach-v0": (120, 50),
    "agentgym/HalfCheetah-v0": (150, 60),
    "agentgym/Hopper-v0": (150, 20),
    "agentgym/Walker2d-v0": (150, 30),
    "agentgym/Ant-v0": (300, 100),
    "agentgym/Humanoid-v0": (100, 18),
}
TERMINATING = {
    "agentgym/Hopper-v0",
    "agentgym/Walker2d-v0",
    "agentgym/Ant-v0",
    "agentgym/Humanoid-v0",
}
ATOL = 1e-6  # float64 physics; measured: bit-identical (0.0) on every id


def assert_same(ours: Any, theirs: Any, where: str) -> None:
    """Same keys, shapes, dtypes and masks; numbers within ATOL."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert sorted(ours) == sorted(theirs), f"{where}: keys {sorted(ours)} != {sorted(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]")
        return
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} != {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} != {theirs.dtype}"
    if theirs.dtype == object:  # final_obs: one array or None per sub-env
        for i, (x, y) in enumerate(zip(ours, theirs, strict=True)):
            assert (x is None) == (y is None), f"{where}[{i}]"
            if y is not None:
                assert_same(x, y, f"{where}[{i}]")
    elif theirs.dtype == bool:
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL, err_msg=where)


def run_both(
    env_id: str,
    num_envs: int,
    steps: int,
    max_episode_steps: int,
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
    seed: int = 5,
) -> tuple[int, int]:
    """Step the native env and a SyncVectorEnv side by side; (terminations, truncations)."""
    sync = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": autoreset_mode},
        max_episode_steps=max_episode_steps,
    )
    threads = {}
    if (
        "num_threads"
        in inspect.signature(load_env_creator(gym.spec(env_id).vector_entry_point)).parameters
    ):
        threads = {"num_threads": 2}  # MuJoCo envs: the thread pool runs even on one core
    native = gym.make_vec(
        env_id,
        num_envs=num_envs,
        max_episode_steps=max_episode_steps,
        autoreset_mode=autoreset_mode,
        **threads,
    )
    terminations = truncations = 0
    try:
        assert isinstance(native, NativeVectorEnv)
        assert native.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"]
        assert native.single_observation_space == sync.single_observation_space
        assert native.action_space == sync.action_space
        for where, a, b in zip(
            ("obs", "info"), native.reset(seed=seed), sync.reset(seed=seed), strict=True
        ):
            assert_same(a, b, f"reset {where}")
        space = sync.single_action_space
        rng = np.random.default_rng(seed)
        for t in range(steps):
            actions = rng.uniform(space.low, space.high, (num_envs, *space.shape))
            actions = actions.astype(space.dtype)
            theirs = sync.step(actions)
            ours = native.step(actions)
            for where, a, b in zip(
                ("obs", "reward", "terminated", "truncated", "info"), ours, theirs, strict=True
            ):
                assert_same(a, b, f"step {t} {where}")
            terminations += int(theirs[2].sum())
            truncations += int(theirs[3].sum())
    finally:
        sync.close()
        native.close()
    return terminations, truncations


def test_every_robotics_id_with_a_native_env_is_tested_here():
    assert sorted(RUNS) == NATIVE_IDS


@pytest.mark.parametrize("env_id", NATIVE_IDS)
def test_native_vector_env_equals_sync_vector_env(env_id: str):
    steps, max_episode_steps = RUNS[env_id]
    terminations, truncations = run_both(env_id, 3, steps, max_episode_steps)
    assert truncations > 0, "the run never reached max_episode_steps"
    if env_id in TERMINATING:
        assert terminations > 0, "the run never terminated"


def test_same_step_autoreset_equals_sync_vector_env():
    """SAME_STEP autoreset: final_obs and final_info as SyncVectorEnv gives them."""
    terminations, truncations = run_both(
        "agentgym/Hopper-v0", 3, 80, 15, autoreset_mode=AutoresetMode.SAME_STEP
    )
    assert terminations > 0 and truncations > 0


def test_disabled_autoreset_with_reset_mask_equals_sync_vector_env():
    """DISABLED autoreset: the caller resets ended sub-envs itself with a reset_mask."""
    kwargs = {"num_envs": 3, "max_episode_steps": 15}
    mode = AutoresetMode.DISABLED
    sync = gym.make_vec(
        "agentgym/Hopper-v0",
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": mode},
        **kwargs,
    )
    native = gym.make_vec("agentgym/Hopper-v0", autoreset_mode=mode, **kwargs)
    names = ("obs", "reward", "terminated", "truncated", "info")
    resets = 0
    try:
        for name, a, b in zip(names[::4], native.reset(seed=1), sync.reset(seed=1), strict=True):
            assert_same(a, b, f"reset {name}")
        rng = np.random.default_rng(1)
        actions = np.zeros((3, 3), dtype=np.float32)
        for t in range(60):
            actions = rng.uniform(-1, 1, (3, 3)).astype(np.float32)
            theirs = sync.step(actions)
            for name, a, b in zip(names, native.step(actions), theirs, strict=True):
                assert_same(a, b, f"step {t} {name}")
            ended = theirs[2] | theirs[3]
            if ended.any():
                resets += 1
                options = {"reset_mask": ended}
                for name, a, b in zip(
                    names[::4],
                    native.reset(options=dict(options)),
                    sync.reset(options=dict(options)),
                    strict=True,
                ):
                    assert_same(a, b, f"reset at {t} {name}")
        for _ in range(100):  # step until a sub-env ends: the next step must refuse
            _, _, terminated, truncated, _ = native.step(actions)
            if (terminated | truncated).any():
                break
        with pytest.raises(RuntimeError, match="reset_mask"):
            native.step(actions)
    finally:
        sync.close()
        native.close()
    assert resets > 0


def test_seed_list_and_partial_reset_equal_sync_vector_env():
    """reset(seed=[...]) and options["reset_mask"]; sub-env 1 draws an unseeded start, so
    only sub-envs 0 and 2 are compared."""
    sync = gym.make_vec("agentgym/Ant-v0", num_envs=3, vectorization_mode="sync")
    native = gym.make_vec("agentgym/Ant-v0", num_envs=3)
    seeded = [0, 2]
    try:
        assert_same(
            native.reset(seed=[7, None, 3])[0][seeded],
            sync.reset(seed=[7, None, 3])[0][seeded],
            "obs",
        )
        actions = np.zeros((3, 8), dtype=np.float32)
        for _ in range(3):
            native.step(actions)
            sync.step(actions)
        mask = np.array([True, False, True])
        obs, info = native.reset(seed=[1, 2, 3], options={"reset_mask": mask})
        obs_sync, info_sync = sync.reset(seed=[1, 2, 3], options={"reset_mask": mask.copy()})
        assert_same(obs[seeded], obs_sync[seeded], "obs")
        assert_same(info, info_sync, "info")  # rows outside the mask are absent in both
        ours, theirs = native.step(actions), sync.step(actions)
        for where, a, b in zip(("obs", "reward", "terminated"), ours[:3], theirs[:3], strict=True):
            assert_same(a[seeded], b[seeded], where)
    finally:
        sync.close()
        native.close()


def test_reward_program_on_the_native_env_equals_it_on_sync():
    """VectorRewardWrapper scores the native env's state arrays as it scores SyncVectorEnv's,
    and Gymnasium's reward written as a program equals the env reward."""
    program = str(program_path("HalfCheetah"))
    sync = VectorRewardWrapper(
        gym.make_vec("agentgym/HalfCheetah-v0", num_envs=4, vectorization_mode="sync"), program
    )
    native = VectorRewardWrapper(gym.make_vec("agentgym/HalfCheetah-v0", num_envs=4), program)
    try:
        sync.reset(seed=2)
        native.reset(seed=2)
        rng = np.random.default_rng(2)
        for _ in range(30):
            actions = rng.uniform(-1, 1, (4, 6)).astype(np.float32)
            _, r_sync, _, _, i_sync = sync.step(actions)
            _, r_native, _, _, i_native = native.step(actions)
            np.testing.assert_allclose(r_native, r_sync, atol=1e-6)
            np.testing.assert_allclose(r_native, i_native["env_reward"], atol=1e-4)
            assert_same(i_native["reward_terms"], i_sync["reward_terms"], "reward_terms")
    finally:
        sync.close()
        native.close()


def test_speed_window_equals_the_per_env_success():
    env = gym.make("agentgym/HalfCheetah-v0").unwrapped
    try:
        env.reset(seed=0)
        window = SpeedWindow(2, env._window.maxlen, env.target_speed)
        live = np.array([True, True])
        rng = np.random.default_rng(0)
        for velocity in np.concatenate([rng.normal(3.0, 0.4, 120), np.full(50, 3.0)]):
            single = env._success({}, {"x_velocity": float(velocity)})
            batch = window.push(np.array([velocity, -1.0]), live)
            assert batch.tolist() == [single, False]
    finally:
        env.close()


def test_stack_infos_lays_out_infos_as_sync_vector_env_does():
    num_envs = 4
    per_env = [
        {
            "state": {"x": np.float32(i), "v": np.full(2, i, np.float32)},
            "success": i == 1,
            "r": 0.5 * i,
        }
        if i % 2
        else {"state": {"x": np.float32(i), "v": np.full(2, i, np.float32)}, "success": False}
        for i in range(num_envs)
    ]
    sync_layout = VectorEnv()
    sync_layout.num_envs = num_envs
    expected: dict[str, Any] = {}
    for i, info in enumerate(per_env):
        expected = sync_layout._add_info(expected, info, i)
    odd = np.array([False, True, False, True])
    stepped = {
        "state": {
            "x": np.arange(4, dtype=np.float32),
            "v": np.repeat(np.arange(4, dtype=np.float32), 2).reshape(4, 2),
        },
        "success": np.array([False, True, False, False]),
        "r": 0.5 * np.arange(4),
    }
    reset = {"state": stepped["state"], "success": np.zeros(4, dtype=bool)}
    assert_same(stack_infos([(stepped, odd), (reset, ~odd)], num_envs), expected, "info")


def test_mujoco_batch_threads_step_like_one_thread():
    env = gym.make("HalfCheetah-v5").unwrapped
    ctrl = np.random.default_rng(1).uniform(-1, 1, (5, 6))
    one = MujocoBatch(env.model, 5, frame_skip=5, num_threads=1)
    many = MujocoBatch(env.model, 5, frame_skip=5, num_threads=4)
    try:
        mask = np.array([True, False, True, True, True])
        for _ in range(20):
            one.step(ctrl, mask)
            many.step(ctrl, mask)
        np.testing.assert_array_equal(many.fields["qpos"], one.fields["qpos"])
        assert one.data[1].time == 0.0, "a masked-out sub-env must not step"
    finally:
        one.close()
        many.close()
        env.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"reward": "sparse"}, "VectorRewardWrapper"), ({"render_mode": "rgb_array"}, "sync")],
)
def test_native_env_names_what_it_does_not_do(kwargs: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        gym.make_vec("agentgym/Hopper-v0", num_envs=2, **kwargs)


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs an affinity mask of at least two cores to narrow",
)
def test_default_thread_counts_follow_the_affinity_mask_not_the_host():
    """In a cpuset narrower than the host (a container, ``taskset``), the physics pools
    and the local executor size themselves to the cores the process may use; with
    ``os.cpu_count()`` a 4-core container on a 64-core host ran 64 threads a pool."""
    from agentgym.executors.local import default_workers
    from agentgym.vector import ThreadedVectorEnv

    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(saved)})
    try:
        batch = gym.make_vec("agentgym/HalfCheetah-v0", num_envs=4)
        threaded = ThreadedVectorEnv([lambda: gym.make("HalfCheetah-v5")] * 4)
        try:
            assert batch.unwrapped.batch.num_threads == 1
            assert threaded.num_threads == 1
            assert default_workers() == 1
        finally:
            batch.close()
            threaded.close()
    finally:
        os.sched_setaffinity(0, saved)
    wide = gym.make_vec("agentgym/HalfCheetah-v0", num_envs=4)
    try:
        assert wide.unwrapped.batch.num_threads == min(4, len(saved))
    finally:
        wide.close()


@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="needs two cores to cap the pools below"
)
def test_agentgym_num_threads_caps_the_default_pools_and_a_bad_value_names_it(monkeypatch):
    """What an executor sets for a worker that shares the machine (Limits.pool_threads):
    the physics batch and the threaded vector env take that many threads by default,
    never more than the cores, and an explicit ``num_threads`` still wins."""
    from agentgym.vector import ThreadedVectorEnv
    from agentgym.vector.threads import thread_budget, usable_cores

    monkeypatch.setenv("AGENTGYM_NUM_THREADS", "1")
    batch = gym.make_vec("agentgym/HalfCheetah-v0", num_envs=4)
    threaded = ThreadedVectorEnv([lambda: gym.make("CartPole-v1")] * 4)
    explicit = ThreadedVectorEnv([lambda: gym.make("CartPole-v1")] * 4, num_threads=2)
    try:
        assert batch.unwrapped.batch.num_threads == 1
        assert threaded.num_threads == 1
        assert explicit.num_threads == 2
    finally:
        batch.close()
        threaded.close()
        explicit.close()
    monkeypatch.setenv("AGENTGYM_NUM_THREADS", str(usable_cores() + 7))
    assert thread_budget() == usable_cores()
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("AGENTGYM_NUM_THREADS", bad)
        with pytest.raises(ValueError, match=f"AGENTGYM_NUM_THREADS='{re.escape(bad)}': expected"):
            gym.make_vec("agentgym/HalfCheetah-v0", num_envs=2)
    monkeypatch.setenv("AGENTGYM_NUM_THREADS", "")
    assert thread_budget() == usable_cores()
