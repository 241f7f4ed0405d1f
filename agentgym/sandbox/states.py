"""Recorded ``reward_state`` batches: what a reward program is dry-run on.

The parent steps the real env (a seeded rollout with random actions), stacks
``info["reward_state"]`` and the actions, and saves them as an ``.npz`` (no pickles, so
the worker loads it with ``allow_pickle=False``). The file is cached per env id and
TaskSpec, so vetting the K candidates of every iteration costs one rollout in all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.spec import TaskSpec

log = logging.getLogger(__name__)

STATE_PREFIX = "state/"
ACTION_KEY = "action"


def cache_dir() -> Path:
    """``$AGENTGYM_CACHE/states`` (default ``~/.cache/agentgym/states``)."""
    root = os.environ.get("AGENTGYM_CACHE") or Path.home() / ".cache" / "agentgym"
    return Path(root) / "states"


def task_spec_of(env_id: str) -> TaskSpec:
    """The TaskSpec of a registered env, without constructing the env."""
    import gymnasium as gym

    import agentgym  # noqa: F401  (registers the envs)
    from agentgym.registry import load_target, suggest

    try:
        env_spec = gym.spec(env_id)
    except gym.error.Error as err:
        ids = [i for i in gym.registry if i.startswith("agentgym/")]
        raise ValueError(f"env_id: unknown env {env_id!r}.{suggest(env_id, ids)}") from err
    entry = env_spec.entry_point
    cls = load_target(entry) if isinstance(entry, str) else entry
    from agentgym.core import TaskEnv

    if isinstance(cls, type) and issubclass(cls, TaskEnv):
        spec = cls.task_spec_for(dict(env_spec.kwargs))
    else:
        spec = getattr(cls, "task_spec", None)
    if not isinstance(spec, TaskSpec):
        raise ValueError(
            f"env_id: {env_id!r} has no TaskSpec; reward programs need an agentgym env"
        )
    return spec


def _key(env_id: str, spec: TaskSpec, steps: int, seed: int) -> str:
    digest = hashlib.sha256(
        json.dumps([spec.to_dict(), steps, seed], sort_keys=True).encode()
    ).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', env_id)}-{digest}.npz"


def _rollout(env_id: str, steps: int, seed: int) -> dict[str, np.ndarray]:
    import gymnasium as gym

    env = gym.make(env_id)
    try:
        _, info = env.reset(seed=seed)
        env.action_space.seed(seed)
        states: dict[str, list[Any]] = {}
        actions: list[Any] = []
        for _ in range(steps):
            action = env.action_space.sample()
            _, _, terminated, truncated, info = env.step(action)
            for name, value in info["reward_state"].items():
                states.setdefault(name, []).append(value)
            actions.append(action)
            if terminated or truncated:
                _, info = env.reset()
    finally:
        env.close()
    out = {f"{STATE_PREFIX}{name}": np.asarray(values) for name, values in states.items()}
    out[ACTION_KEY] = np.asarray(actions)
    for key, arr in out.items():
        if arr.dtype == object:
            raise ValueError(f"reward_state {key!r} of {env_id} cannot be stored without pickles")
    return out


def record_states(env_id: str, *, steps: int = 256, seed: int = 0, refresh: bool = False) -> Path:
    """Record ``steps`` transitions of ``env_id`` (cached); return the ``.npz`` path."""
    spec = task_spec_of(env_id)
    path = cache_dir() / _key(env_id, spec, steps, seed)
    if path.is_file() and not refresh:
        return path
    log.info("recording %d reward_state steps of %s (seed %d)", steps, env_id, seed)
    arrays = _rollout(env_id, steps, seed)
    missing = set(spec.state_names) - {k.removeprefix(STATE_PREFIX) for k in arrays}
    if missing:
        raise ValueError(f"{env_id}: reward_state lacks the TaskSpec variables {sorted(missing)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


def load_states(path: str | Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(reward_state arrays [T, ...], actions [T, ...]) from a recording; never unpickles."""
    with np.load(path, allow_pickle=False) as data:
        states = {
            k.removeprefix(STATE_PREFIX): data[k] for k in data.files if k.startswith(STATE_PREFIX)
        }
        return states, data[ACTION_KEY]


def state_names(path: str | Path) -> list[str]:
    with np.load(path, allow_pickle=False) as data:
        return [k.removeprefix(STATE_PREFIX) for k in data.files if k.startswith(STATE_PREFIX)]
