"""Shared test set-up: headless rendering and the agentgym registry."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import agentgym  # noqa: E402,F401  (registers the envs)
