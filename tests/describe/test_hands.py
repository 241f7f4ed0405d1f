"""Gymnasium-Robotics' Shadow Hand manipulations and Adroit tasks through agentgym.describe:
the ids pass the contract checks, and each library program equals the env's own dense
reward to 1e-5 on random rollouts and on states placed at the goal (neither family has a
cheap expert: Adroit's come from downloaded demonstrations)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip(
    "gymnasium_robotics", reason="the robotics extra is not installed (make installs it)"
)

from agentgym.catalog import task_spec  # noqa: E402
from agentgym.reward_designers.library import program_path  # noqa: E402

SHADOW = [
    "agentgym/HandManipulateBlock-v0",
    "agentgym/HandManipulateEgg-v0",
    "agentgym/HandManipulatePen-v0",
]
ADROIT = [
    "agentgym/AdroitHandDoor-v0",
    "agentgym/AdroitHandHammer-v0",
    "agentgym/AdroitHandPen-v0",
    "agentgym/AdroitHandRelocate-v0",
]


@pytest.mark.parametrize("env_id", SHADOW + ADROIT)
def test_hand_tasks_describe_their_state_and_fitness(env_id):
    """The registry sweep (tests/envs/test_registry_sweep.py) runs the contract checks on
    these ids; here, what the describe path made of them."""
    spec = task_spec(env_id)
    assert spec.robot == ("Shadow Hand" if env_id in SHADOW else "Adroit Hand")
    assert {"qpos", "palm_pos", "th_tip_pos"} <= set(spec.state_names)
    assert "joint" in spec.var("qpos").meaning  # the layout of qpos, joint by joint
    env = gym.make(env_id)
    env.action_space.seed(0)
    env.reset(seed=0)
    fitness = set()
    for t in range(5):
        if env_id == "agentgym/AdroitHandHammer-v0" and t == 4:
            # random actions never reach the nail: drive it in by hand
            _set_qpos(env.unwrapped.base, "nail_dir", 0.05)
        *_, info = env.step(env.action_space.sample())
        fitness.add(env.unwrapped._fitness(info))
    env.close()
    assert len(fitness) > 1  # continuous: it moves with the state, not only on success


@pytest.mark.parametrize("env_id", [SHADOW[0], ADROIT[0]])
def test_hand_tasks_render(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    env.close()
    assert frame.ndim == 3 and frame.shape[2] == 3
    assert frame.std() > 1.0  # a scene, not a blank image


def _compare(env_id, steps, seed, place=None):
    """Step the env with its own reward and with the library program on the same actions;
    ``place(base, t)`` may move both simulations alike before step t. The successes seen."""
    path = program_path(task_spec(env_id).name)
    own, prog = gym.make(env_id), gym.make(env_id, reward=str(path))
    own.action_space.seed(seed)
    _, info = own.reset(seed=seed)
    prog.reset(seed=seed)
    successes = 0
    try:
        for t in range(steps):
            if place is not None:
                for env in (own, prog):
                    place(env.unwrapped.base, t)
            action = own.action_space.sample()
            _, r_own, _, trunc, info = own.step(action)
            _, r_prog, _, _, info_prog = prog.step(action)
            assert r_prog == pytest.approx(r_own, abs=1e-5)
            assert info_prog["env_reward"] == pytest.approx(r_own, abs=1e-12)
            successes += info["success"]
            if trunc:
                break
    finally:
        own.close()
        prog.close()
    return successes


@pytest.mark.parametrize("env_id", SHADOW + ADROIT)
def test_library_program_equals_the_env_reward_on_random_actions(env_id):
    _compare(env_id, steps=60, seed=5)


def _set_qpos(base, joint, value):
    import mujoco

    j = mujoco.mj_name2id(base.model, mujoco.mjtObj.mjOBJ_JOINT, joint)
    start = base.model.jnt_qposadr[j]
    qpos = base.data.qpos.copy()
    qpos[start : start + np.size(value)] = value
    base.data.qpos[:] = qpos
    mujoco.mj_forward(base.model, base.data)


def _rotated(quat, angle, axis):
    """``quat`` turned by ``angle`` about ``axis`` (world frame)."""
    axis = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    w, v = np.cos(angle / 2), np.sin(angle / 2) * axis
    w2, v2 = quat[0], quat[1:]
    return np.concatenate([[w * w2 - v @ v2], w * v2 + w2 * v + np.cross(v, v2)])


@pytest.mark.parametrize("env_id", SHADOW)
def test_shadow_hand_program_equals_the_env_reward_at_the_goal(env_id):
    """The object is put at the target pose (turned by a few hundredths of a radian) before
    each step: the rotation term near zero, where arccos is ill-conditioned, and successes."""

    def place(base, t):
        rng = np.random.default_rng(t)
        goal = base.goal.copy()
        quat = _rotated(goal[3:], rng.uniform(0.0, 0.05), rng.normal(size=3))
        _set_qpos(base, "object:joint", np.concatenate([goal[:3], quat]))

    assert _compare(env_id, steps=20, seed=3, place=place) > 0


ADROIT_GOALS = {
    # the door opened past the 1.35 rad success angle (and its bonus thresholds)
    "agentgym/AdroitHandDoor-v0": [("door_hinge", 1.5)],
    # the nail driven fully in
    "agentgym/AdroitHandHammer-v0": [("nail_dir", 0.088)],
    # the ball lifted onto the target
    "agentgym/AdroitHandRelocate-v0": [],
}


@pytest.mark.parametrize("env_id", sorted(ADROIT_GOALS))
def test_adroit_program_equals_the_env_reward_at_the_goal(env_id):
    import mujoco

    def place(base, _t):
        for joint, value in ADROIT_GOALS[env_id]:
            _set_qpos(base, joint, value)
        if env_id.endswith("Relocate-v0"):
            # the ball's slide joints hold its offset from its body's rest position
            target = base.data.site_xpos[base.target_obj_site_id]
            body = base.model.body_pos[base.obj_body_id]
            for joint, value in zip(("OBJTx", "OBJTy", "OBJTz"), target - body, strict=True):
                _set_qpos(base, joint, value)
        mujoco.mj_forward(base.model, base.data)

    assert _compare(env_id, steps=10, seed=3, place=place) > 0


def test_adroit_pen_program_equals_the_env_reward_at_the_goal():
    """The pen's two rotation joints are set, before each step, to the angles that align it
    with the target, found by a grid search in each env (the same search in both, so that
    MuJoCo's warm start, which every forward pass updates, stays the same too)."""
    import mujoco

    found = {}

    def axes_cos(base):
        d = base.data
        pen = d.site_xpos[base.obj_t_site_id] - d.site_xpos[base.obj_b_site_id]
        target = d.site_xpos[base.tar_t_site_id] - d.site_xpos[base.tar_b_site_id]
        return pen @ target / np.linalg.norm(pen) / np.linalg.norm(target)

    def place(base, _t):
        if id(base) not in found:
            grid = np.linspace(-3.1, 3.1, 24)
            scores = {}
            for a in grid:
                for b in grid:
                    _set_qpos(base, "OBJRx", a)
                    _set_qpos(base, "OBJRy", b)
                    scores[a, b] = axes_cos(base)
            found[id(base)] = max(scores, key=scores.get)
        for joint, value in zip(("OBJRx", "OBJRy"), found[id(base)], strict=True):
            _set_qpos(base, joint, value)
        mujoco.mj_forward(base.model, base.data)

    assert _compare("agentgym/AdroitHandPen-v0", steps=10, seed=3, place=place) > 0
