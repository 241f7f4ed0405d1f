"""Robotics tasks: a fast planar Reach, MuJoCo locomotion, MetaWorld manipulation and
VLM-RM pose tasks. Every register() call of the family is here."""

from __future__ import annotations

import os

from gymnasium.envs.registration import register

# Headless rendering: EGL works out of the box with Mesa (FACTS.md); glfw needs a display.
os.environ.setdefault("MUJOCO_GL", "egl")

register(
    id="agentgym/Reach-v0",
    entry_point="agentgym.envs.robotics.reach:ReachEnv",
    max_episode_steps=50,
)
