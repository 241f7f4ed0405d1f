"""Recorded episodes whose outcome is known: what the trajectory-preference filter scores
reward programs on (CARD's trajectory preference evaluation).

The parent plays the env's scripted expert (``TaskEnv.expert``), a uniformly random
policy, and the expert with its actions replaced by random ones from a random step of the
first half of the episode on (it gets part of the way, then loses it: the hard failures),
and labels each episode by the env's own ``info["success"]``. An episode counts as
successful when the env reported success at any of its steps: MetaWorld's experts reach
the goal and then push the door or lever past where the flag holds (DoorOpen, LeverPull
lose it ~20 steps later), and MetaWorld's benchmark counts such an episode as solved.
For CartPole (success only at step 500) and MountainCar (success ends the episode) it is
the flag at the episode's end.

Only what a reward program reads is kept (``reward_state`` per step and the actions),
with each episode's length, label and name, as an ``.npz`` without pickles, cached beside
``record_states``'s recordings per env id, TaskSpec, counts, step cap and seed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.sandbox.states import ACTION_KEY, STATE_PREFIX, cache_dir, task_spec_of

log = logging.getLogger(__name__)

LENGTH_KEY = "episode_length"
SUCCESS_KEY = "episode_success"
NAME_KEY = "episode_name"


@dataclass(frozen=True)
class Outcomes:
    """The labels of a recording, without its states (what the parent needs to judge)."""

    names: list[str]
    """One per episode, e.g. "expert #0", "random #2", "perturbed #1"."""
    success: list[bool]
    """Whether the env reported success during the episode."""
    lengths: list[int]

    @property
    def judgeable(self) -> bool:
        """Both outcomes were recorded, so a ranking of them means something."""
        return any(self.success) and not all(self.success)

    def counts(self) -> str:
        wins = sum(self.success)
        return f"{wins} successful and {len(self.success) - wins} failed episodes"


def _key(
    env_id: str, spec: Any, experts: int, randoms: int, perturbed: int, max_steps: int, seed: int
) -> str:
    digest = hashlib.sha256(
        json.dumps(
            [spec.to_dict(), experts, randoms, perturbed, max_steps, seed], sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', env_id)}-trajectories-{digest}.npz"


def _episode(
    env: Any, expert: Any, seed: int, max_steps: int, random_from: int | None
) -> tuple[dict[str, list[Any]], list[Any], bool]:
    """One episode: the expert's actions (None for no expert: random throughout) until
    step ``random_from``, random ones after it."""
    import gymnasium as gym

    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    box = isinstance(env.action_space, gym.spaces.Box)
    states: dict[str, list[Any]] = {}
    actions: list[Any] = []
    success = False
    for t in range(max_steps):
        if expert is not None and (random_from is None or t < random_from):
            action = expert.get_action(obs)
            if box:  # MetaWorld's scripted policies overshoot the action bounds
                low, high = env.action_space.low, env.action_space.high
                action = np.clip(action, low, high).astype(env.action_space.dtype)
        else:
            action = env.action_space.sample()
        obs, _, terminated, truncated, info = env.step(action)
        for name, value in info["reward_state"].items():
            states.setdefault(name, []).append(value)
        actions.append(action)
        success = success or bool(info.get("success", False))
        if terminated or truncated:
            break
    return states, actions, success


def record_trajectories(
    env_id: str,
    *,
    experts: int = 4,
    randoms: int = 4,
    perturbed: int = 4,
    max_steps: int | None = None,
    seed: int = 0,
    refresh: bool = False,
) -> Path:
    """Record labelled episodes of ``env_id`` (cached); return the ``.npz`` path.

    Episodes stop at ``max_steps`` (None: the env's ``TaskEnv.expert_steps``, else its
    time limit). ValueError naming ``env_id`` when the env has no scripted expert."""
    import gymnasium as gym

    from agentgym.catalog import env_class, expert_policy

    for name, value in (("experts", experts), ("randoms", randoms), ("perturbed", perturbed)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name}: expected an int >= 0, got {value!r}")
    spec = task_spec_of(env_id)
    if expert_policy(env_id) is None:
        raise ValueError(f"env_id: {env_id!r} has no scripted expert (TaskEnv.expert)")
    if max_steps is None:
        limit = gym.spec(env_id).max_episode_steps
        max_steps = env_class(env_id).expert_steps or limit
        if max_steps is None:
            raise ValueError(f"max_steps: {env_id!r} has no time limit; give a cap")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps: expected an int >= 1, got {max_steps!r}")
    path = cache_dir() / _key(env_id, spec, experts, randoms, perturbed, max_steps, seed)
    if path.is_file() and not refresh:
        return path
    log.info(
        "recording %d expert, %d random and %d perturbed episodes of %s (at most %d steps)",
        experts,
        randoms,
        perturbed,
        env_id,
        max_steps,
    )
    rng = np.random.default_rng(seed)
    plan: list[tuple[str, bool, int | None]] = [
        *((f"expert #{i}", True, None) for i in range(experts)),
        *((f"random #{i}", False, None) for i in range(randoms)),
        *(
            (f"perturbed #{i}", True, int(rng.integers(0, max(1, max_steps // 2))))
            for i in range(perturbed)
        ),
    ]
    env = gym.make(env_id)
    columns: dict[str, list[Any]] = {}
    actions: list[Any] = []
    lengths, labels = [], []
    try:
        for n, (_, use_expert, random_from) in enumerate(plan):
            # A fresh expert per episode: MetaWorld's policies keep no state, ours neither,
            # but a policy that did must not carry one episode into the next.
            expert = expert_policy(env_id) if use_expert else None
            states, acts, success = _episode(env, expert, seed + n, max_steps, random_from)
            for name, values in states.items():
                columns.setdefault(name, []).extend(values)
            actions.extend(acts)
            lengths.append(len(acts))
            labels.append(success)
    finally:
        env.close()
    arrays = {f"{STATE_PREFIX}{name}": np.asarray(values) for name, values in columns.items()}
    arrays[ACTION_KEY] = np.asarray(actions)
    missing = set(spec.state_names) - set(columns)
    if missing:
        raise ValueError(f"{env_id}: reward_state lacks the TaskSpec variables {sorted(missing)}")
    for key, arr in arrays.items():
        if arr.dtype == object:
            raise ValueError(f"reward_state {key!r} of {env_id} cannot be stored without pickles")
    arrays[LENGTH_KEY] = np.asarray(lengths, dtype=np.int64)
    arrays[SUCCESS_KEY] = np.asarray(labels, dtype=bool)
    arrays[NAME_KEY] = np.asarray([name for name, _, _ in plan], dtype=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


def load_outcomes(path: str | Path) -> Outcomes:
    """The episodes' names, labels and lengths of a recording; never unpickles."""
    with np.load(path, allow_pickle=False) as data:
        return Outcomes(
            names=[str(n) for n in data[NAME_KEY]],
            success=[bool(s) for s in data[SUCCESS_KEY]],
            lengths=[int(n) for n in data[LENGTH_KEY]],
        )


def load_episode_lengths(path: str | Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        return data[LENGTH_KEY]
