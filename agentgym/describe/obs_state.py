"""State variables read from an env's observation: ``obs`` (a Box observation) or
``obs:KEY`` (one entry of a Dict observation, e.g. Gymnasium-Robotics' ``desired_goal``,
which lives in the env and not in the MuJoCo model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from agentgym.registry import suggest
from agentgym.spec import StateVar


def is_obs_selector(selector: str) -> bool:
    return selector == "obs" or selector.startswith("obs:")


def select_obs(
    space: gym.Space, selector: str, alias: str = ""
) -> tuple[StateVar, Callable[[Any], np.ndarray]]:
    """The StateVar of ``selector`` and how to read it from an observation."""
    key = selector.partition(":")[2]
    if not key:
        if not isinstance(space, gym.spaces.Box):
            raise ValueError(
                f"state: 'obs' needs a Box observation, the env's is {space}; "
                "name one entry (obs:KEY)"
            )
        var = StateVar(
            alias or "obs",
            tuple(space.shape),
            "float64",
            "-",
            "the env's observation vector (the policy sees the same)",
        )
        return var, lambda obs: np.asarray(obs, dtype=np.float64).copy()
    if not isinstance(space, gym.spaces.Dict):
        raise ValueError(f"state: {selector!r}: the env's observation is not a Dict ({space})")
    keys = list(space.spaces)
    if key not in keys:
        raise ValueError(
            f"state: {selector!r}: the observation has no key {key!r}.{suggest(key, keys)} "
            f"Its keys: {', '.join(keys)}"
        )
    sub = space.spaces[key]
    if not isinstance(sub, gym.spaces.Box):
        raise ValueError(f"state: {selector!r} is not a Box ({sub})")
    var = StateVar(
        alias or key,
        tuple(sub.shape),
        "float64",
        "-",
        f"the {key!r} entry of the env's observation",
    )
    return var, lambda obs: np.asarray(obs[key], dtype=np.float64).copy()
