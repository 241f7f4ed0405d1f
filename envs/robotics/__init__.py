"""Robotics tasks: a fast planar Reach, MuJoCo locomotion, MetaWorld manipulation, VLM-RM
pose tasks and the classic-control tasks VLM-RM scores from frames. Every register()
call of the family is here."""

from __future__ import annotations

import importlib.util
import os

from gymnasium.envs.registration import register

# Headless rendering: EGL works out of the box with Mesa (FACTS.md); glfw needs a display.
os.environ.setdefault("MUJOCO_GL", "egl")
# Classic control renders with pygame; without a display it needs SDL's dummy driver.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

_ROBOTICS = "agentgym.envs.robotics"

# vector_entry_point: the natively batched env that gym.make_vec(id, num_envs=N) returns
# by default (agentgym.vector; equal to a SyncVectorEnv of the per-env env step by step).
register(
    id="agentgym/Reach-v0",
    entry_point=f"{_ROBOTICS}.reach:ReachEnv",
    vector_entry_point=f"{_ROBOTICS}.reach:ReachVectorEnv",
    max_episode_steps=50,
)

# Locomotion: Gymnasium's v5 MuJoCo robots inside, Gymnasium's episode length.
for _name, _module in (
    ("Ant", "ant"),
    ("HalfCheetah", "half_cheetah"),
    ("Hopper", "hopper"),
    ("Walker2d", "walker2d"),
    ("Humanoid", "humanoid"),
):
    register(
        id=f"agentgym/{_name}-v0",
        entry_point=f"{_ROBOTICS}.{_module}:{_name}Env",
        vector_entry_point=f"{_ROBOTICS}.{_module}:{_name}VectorEnv",
        max_episode_steps=1000,
    )

# VLM-RM: humanoid poses (instruction only) and classic control scored from frames.
for _pose in ("Kneel", "Splits", "Lotus"):
    register(
        id=f"agentgym/Humanoid{_pose}-v0",
        entry_point=f"{_ROBOTICS}.vlm_poses:Humanoid{_pose}Env",
        max_episode_steps=1000,
    )
register(
    id="agentgym/CartPole-v0",
    entry_point=f"{_ROBOTICS}.classic_control:CartPoleEnv",
    max_episode_steps=500,
)
register(
    id="agentgym/MountainCar-v0",
    entry_point=f"{_ROBOTICS}.classic_control:MountainCarEnv",
    max_episode_steps=200,
)

# Manipulation: MetaWorld v3 (MT1 configurations); MetaWorld truncates at 500 steps.
for _task in (
    "Reach",
    "Push",
    "PickPlace",
    "DoorOpen",
    "DrawerOpen",
    "DrawerClose",
    "ButtonPress",
    "WindowOpen",
    "WindowClose",
    "LeverPull",
    "PegInsertSide",
):
    register(
        id=f"agentgym/MetaWorld-{_task}-v0",
        entry_point=f"{_ROBOTICS}.metaworld_tasks:MetaWorld{_task}Env",
        max_episode_steps=500,
    )

# Training presets (agentgym.presets): learner, settings and budget per task.
from agentgym.envs.robotics import presets as _presets  # noqa: E402, F401

# Gymnasium-Robotics' Fetch, Shadow Hand and Adroit tasks, through agentgym.describe (no
# hand-written env class); only where the optional dependency is installed, so every
# registered id can be made.
if importlib.util.find_spec("gymnasium_robotics") is not None:
    from agentgym.envs.robotics.fetch import FETCH_TASKS

    for _id, _task in FETCH_TASKS.items():
        register(
            id=_id,
            entry_point="agentgym.describe.env:DescribedEnv",
            kwargs={"task": _task},
            max_episode_steps=50,
        )
    from agentgym.envs.robotics.adroit import ADROIT_TASKS
    from agentgym.envs.robotics.shadow_hand import SHADOW_HAND_TASKS

    for _id, _task in {**SHADOW_HAND_TASKS, **ADROIT_TASKS}.items():
        register(
            id=_id,
            entry_point="agentgym.describe.env:DescribedEnv",
            kwargs={"task": _task},
            max_episode_steps=_task["max_episode_steps"],
        )
