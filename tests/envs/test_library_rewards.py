"""Every robotics id with a dense reward has a human reward program in
``reward_designers/library/`` that reproduces the env's own reward step by step.

No hand-kept list: the ids come from the registry, the program from the task's name,
and tasks without a dense reward are skipped by their ``dense_reward`` flag.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agentgym.catalog import env_ids
from agentgym.registry import load_target
from agentgym.reward_designers.library import program_path

ROBOTICS = "agentgym.envs.robotics."


def _robotics_ids() -> list[str]:
    out = []
    for env_id in env_ids():
        entry = gym.spec(env_id).entry_point
        if isinstance(entry, str) and entry.startswith(ROBOTICS):
            out.append(env_id)
    return out


IDS = _robotics_ids()


def _env_class(env_id: str):
    return load_target(gym.spec(env_id).entry_point)


def test_library_sweep_covers_the_family():
    dense = [i for i in IDS if getattr(_env_class(i), "dense_reward", True)]
    assert len(dense) >= 15, dense


@pytest.mark.parametrize("env_id", IDS)
def test_library_program_matches_env_reward(env_id: str):
    cls = _env_class(env_id)
    if not getattr(cls, "dense_reward", True):
        with pytest.raises(FileNotFoundError):
            program_path(cls.task_spec.name)
        pytest.skip(f"{env_id} has no dense reward (instruction-only task)")
    path = program_path(cls.task_spec.name)
    own = gym.make(env_id)
    prog = gym.make(env_id, reward=str(path))
    steps, seed = 120, 11
    try:
        own.reset(seed=seed)
        prog.reset(seed=seed)
        own.action_space.seed(seed)
        compared = 0
        for t in range(steps):
            action = own.action_space.sample()
            _, r_own, term, trunc, info_own = own.step(action)
            _, r_prog, term2, trunc2, info_prog = prog.step(action)
            assert (term, trunc) == (term2, trunc2)
            assert info_prog["env_reward"] == pytest.approx(r_own, abs=1e-9)
            assert r_prog == pytest.approx(r_own, abs=1e-5, rel=1e-5), f"step {t}"
            # the program's components are the env's components, by name and value
            assert info_prog["reward_terms"].keys() == info_own["reward_terms"].keys()
            for name, value in info_own["reward_terms"].items():
                assert info_prog["reward_terms"][name] == pytest.approx(
                    value, abs=1e-5, rel=1e-5
                ), name
            compared += 1
            if term or trunc:
                own.reset()
                prog.reset()
        assert compared == steps
    finally:
        own.close()
        prog.close()


def _devices() -> list:
    import torch

    cuda = pytest.param("cuda", marks=pytest.mark.gpu)
    return ["cpu", cuda] if torch.cuda.is_available() else ["cpu"]


@pytest.mark.parametrize("device", _devices())
def test_library_programs_run_batched_on_the_learners_device(device: str):
    """Each program scores a whole vector step at once (Gymnasium stacks reward_state)
    on the learner's device, and gives every sub-env its own env reward."""
    from agentgym.wrappers import VectorRewardWrapper

    dense = [i for i in IDS if getattr(_env_class(i), "dense_reward", True)]
    for env_id in dense:
        path = program_path(_env_class(env_id).task_spec.name)
        envs = gym.make_vec(env_id, num_envs=3, vectorization_mode="sync")
        scored = VectorRewardWrapper(envs, str(path), device=device)
        try:
            scored.reset(seed=[1, 2, 3])
            scored.action_space.seed(1)
            for _ in range(8):
                _, reward, _, _, infos = scored.step(scored.action_space.sample())
                assert reward.shape == (3,)
                np.testing.assert_allclose(
                    reward, infos["env_reward"], atol=1e-5, rtol=1e-5, err_msg=env_id
                )
            assert scored.last_output.reward.device.type == device
        finally:
            scored.close()
