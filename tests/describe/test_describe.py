"""Describing an existing Gymnasium env (no subclass): state read from its MuJoCo model,
success and fitness as batched expressions or info keys, Gymnasium registration."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agentgym.catalog import task_spec
from agentgym.describe import DescribedTask, register
from agentgym.env_checker import check
from tests.describe.point_mass import ENTRY_POINT, ENV_ID

PUCK_AT_GOAL = 'torch.linalg.vector_norm(state["puck"] - state["goal"], dim=-1) < 0.05'
SLIDER_SUCCESS = 'torch.abs(state["block_pos"][:, 0] - state["target_pos"][:, 0]) < 0.05'


@pytest.fixture(scope="module")
def slider_id() -> str:
    if ENV_ID not in gym.registry:
        gym.register(ENV_ID, entry_point=ENTRY_POINT, max_episode_steps=100)
    return register(
        DescribedTask(
            base=ENV_ID,
            instruction="Slide the block to the target.",
            success=SLIDER_SUCCESS,
            fitness='-torch.abs(state["block_pos"][:, 0] - state["target_pos"][:, 0])',
            state=(("", "body:block"), ("", "site:target"), ("x", "joint:slide_x")),
            robot="slider",
        )
    )


def pusher(**fields) -> DescribedTask:
    return DescribedTask(
        **{
            "base": "Pusher-v5",
            "instruction": "Push the puck to the goal.",
            "success": PUCK_AT_GOAL,
            "state": (("puck", "body:object"), ("goal", "body:goal"), ("tip", "body:tips_arm")),
            **fields,
        }
    )


def test_pusher_state_is_read_from_the_model_and_success_from_the_expression():
    env_id = register(pusher())
    assert env_id == "described/Pusher-v5"
    spec = task_spec(env_id)
    assert spec.state_names == ("puck", "goal", "tip")
    assert spec.var("tip").units == "m" and "tips_arm" in spec.var("tip").meaning
    env = gym.make(env_id)
    _, info = env.reset(seed=3)
    data = env.unwrapped.base.data
    model = env.unwrapped.base.model
    for _ in range(5):
        _, reward, _, _, info = env.step(env.action_space.sample())
    assert np.allclose(info["reward_state"]["tip"], data.xpos[model.body("tips_arm").id])
    distance = np.linalg.norm(info["reward_state"]["puck"] - info["reward_state"]["goal"])
    assert info["success"] == bool(distance < 0.05)
    # Pusher's own reward parts add up to its reward, so they are the env's terms
    assert set(info["reward_terms"]) == {"dist", "ctrl", "near"}
    assert sum(info["reward_terms"].values()) == pytest.approx(reward, abs=1e-5)
    env.close()


def test_a_success_rule_true_at_the_start_is_reported_true():
    env_id = register(pusher(id="described/PusherAlways-v0", success="state['tip'][:, 0] > -10"))
    env = gym.make(env_id)
    _, info = env.reset(seed=0)
    assert info["success"] is True and info["fitness"] == 1.0
    env.close()


def test_the_slider_passes_every_contract_check(slider_id):
    report = check(slider_id)
    assert report.ok, [(r.name, r.detail) for r in report.results if not r.ok]


def test_units_and_meanings_come_from_the_joint_type(slider_id):
    spec = task_spec(slider_id)
    assert spec.var("x").units == "m" and "slide joint 'slide_x'" in spec.var("x").meaning
    assert "limits [-1, 1]" in spec.var("x").meaning
    assert spec.var("target_pos").shape == (3,) and spec.robot == "slider"
    assert "push [-1, 1]" in spec.action_meaning


def test_fitness_is_the_expression_at_the_current_step(slider_id):
    env = gym.make(slider_id)
    env.reset(seed=0)
    for _ in range(3):
        _, _, _, _, info = env.step(np.ones(1, dtype=np.float32))
    gap = abs(info["reward_state"]["block_pos"][0] - 0.5)
    assert info["fitness"] == pytest.approx(-gap, abs=1e-6)
    env.close()


def test_default_state_is_every_named_body_and_joint():
    env_id = register(pusher(id="described/PusherAll-v0", state=(), success="info:never_there"))
    names = task_spec(env_id).state_names
    assert "tips_arm_pos" in names and "r_shoulder_pan_joint_qpos" in names
    assert "obj_slidex_qvel" in names and len(names) == 12 + 2 * 11  # 12 bodies, 11 joints
    env = gym.make(env_id)
    _, info = env.reset(seed=0)  # envs report info flags on steps only: not done yet
    assert info["success"] is False
    with pytest.raises(KeyError, match="success: the env's info has no key 'never_there'"):
        env.step(env.action_space.sample())
    env.close()


def test_qpos_and_qvel_select_the_whole_vectors_with_their_layout():
    env_id = register(
        pusher(
            id="described/PusherWhole-v0",
            state=(("", "qpos"), ("v", "qvel"), ("", "ctrl")),
            success="info:reward_near",
        )
    )
    spec = task_spec(env_id)
    assert spec.var("qpos").shape == (11,) and spec.var("v").shape == (11,)
    assert "r_shoulder_pan_joint [0]" in spec.var("qpos").meaning
    assert "goal_slidex [10]" in spec.var("v").meaning
    env = gym.make(env_id)
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    data = env.unwrapped.base.data
    assert np.array_equal(info["reward_state"]["qpos"], data.qpos)
    assert np.array_equal(info["reward_state"]["v"], data.qvel)
    env.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"state": (("", "body:tip_arm"),)}, r"no body named 'tip_arm'\. Did you mean 'tips_arm'"),
        ({"state": (("", "bodie:object"),)}, r"'bodie:object' is not a selector KIND:NAME"),
        ({"state": (("a", "body:object"), ("a", "body:goal"))}, r"both named 'a'; rename one"),
        ({"state": (("", "qpos:object"),)}, r"'qpos' is the whole vector and takes no name"),
        ({"success": 'state["puk"][:, 0] > 0'}, r"success: .* is rejected: .*puk"),
        ({"success": "__import__('os').system('true')"}, r"success: .* is rejected"),
    ],
)
def test_a_bad_task_is_refused_naming_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        register(pusher(id="described/PusherBad-v0", **fields))
    assert "described/PusherBad-v0" not in gym.registry


def test_from_dict_names_unknown_and_missing_fields():
    with pytest.raises(
        ValueError, match=r"unknown field 'instructions'\. Did you mean 'instruction'"
    ):
        DescribedTask.from_dict({"base": "Pusher-v5", "instructions": "x", "success": "y"})
    with pytest.raises(ValueError, match="the field 'success' is missing"):
        DescribedTask.from_dict({"base": "Pusher-v5", "instruction": "x"})
    task = DescribedTask.from_dict(
        {"base": "Pusher-v5", "instruction": "x", "success": "y", "state": {"puck": "body:object"}}
    )
    assert task.state == (("puck", "body:object"),)
    assert DescribedTask.from_dict(task.to_dict()) == task


def test_another_task_under_a_taken_id_is_refused():
    register(pusher(id="described/PusherTaken-v0"))
    register(pusher(id="described/PusherTaken-v0"))  # the same task again: a no-op
    with pytest.raises(ValueError, match="already registered for another env"):
        register(pusher(id="described/PusherTaken-v0", instruction="Something else."))


def test_a_tasks_expressions_run_in_a_sandbox_worker_unless_trusted_in_code():
    from agentgym.rewards.program import ProgramReward
    from agentgym.sandbox.program_worker import SandboxedReward

    env = gym.make(register(pusher(id="described/PusherSandboxed-v0")))
    assert isinstance(env.unwrapped.success_rule.program, SandboxedReward)
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())  # served by the worker
    distance = np.linalg.norm(info["reward_state"]["puck"] - info["reward_state"]["goal"])
    assert info["success"] == bool(distance < 0.05)
    env.close()
    trusted = gym.make(register(pusher(id="described/PusherTrusted-v0", trusted_rules=True)))
    assert isinstance(trusted.unwrapped.success_rule.program, ProgramReward)
    trusted.close()


def test_a_task_file_cannot_trust_its_own_expressions(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text(
        f"base: Pusher-v5\ninstruction: Push.\nsuccess: '{PUCK_AT_GOAL}'\ntrusted_rules: true\n"
    )
    with pytest.raises(ValueError, match="trusted_rules cannot be set in a task file"):
        DescribedTask.from_yaml(path)
