"""Env instances of one env id, created, reset, stepped and closed by number, from many
threads at once.

``EnvPool`` is the server's state without any HTTP: the pool lock guards the table of
instances, and each instance has its own lock, so two clients step two instances in
parallel while two requests to the same instance run one after the other.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from agentgym.text_env import observation_text


class PoolError(Exception):
    """A request the pool refuses; ``status`` is the HTTP status it maps to."""

    status = 400


class UnknownInstance(PoolError):
    status = 404


class EpisodeState(PoolError):
    """Step before reset, or after the episode ended."""

    status = 409


class PoolFull(PoolError):
    status = 503


def to_jsonable(value: Any) -> Any:
    """numpy scalars and arrays, tuples, sets and nested dicts -> plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def observation_view(obs: Any) -> Any:
    """What the server sends as ``observation``: the text of a text env (a Dict
    observation's ``"text"`` view), the JSON form of any other observation."""
    if isinstance(obs, str) or (isinstance(obs, dict) and "text" in obs):
        return observation_text(obs)
    return to_jsonable(obs)


def coerce_action(space: gym.Space, action: Any) -> Any:
    """A JSON action -> what ``space`` expects. Text actions pass through unchanged (a
    text env answers malformed ones itself); a Box or Discrete action that does not fit
    is refused with a PoolError naming the space."""
    if isinstance(space, gym.spaces.Box):
        try:
            arr = np.asarray(action, dtype=space.dtype)
        except (TypeError, ValueError) as err:
            raise PoolError(
                f"'action' must be numbers for the action space {space}: {err}"
            ) from None
        if arr.shape != space.shape:
            raise PoolError(
                f"'action' has shape {list(arr.shape)}, the action space {space} needs {list(space.shape)}"
            )
        return arr
    if isinstance(space, gym.spaces.Discrete):
        if isinstance(action, bool) or not isinstance(action, int) or not space.contains(action):
            raise PoolError(f"'action' must be an integer in {space}, got {action!r}")
        return action
    return action


@dataclass
class Instance:
    env: gym.Env
    lock: threading.Lock = field(default_factory=threading.Lock)
    observation: Any = None
    info: dict[str, Any] = field(default_factory=dict)
    done: bool = True
    reset_done: bool = False
    score: float = 0.0
    steps: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    """What the last reset was asked for beyond a seed (an AgentGym game index, world type)."""


class EnvPool:
    """Instances of ``env_id``, numbered from 0 and never reused within a pool."""

    def __init__(self, env_id: str, max_instances: int = 64, **make_kwargs: Any) -> None:
        gym.spec(env_id)  # an unknown id fails here, with Gymnasium's did-you-mean
        self.env_id = env_id
        self.max_instances = max_instances
        self.make_kwargs = make_kwargs
        self._instances: dict[int, Instance] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()

    # -- the table --------------------------------------------------------------------
    def create(self, wrapper: Callable[[gym.Env], gym.Env] | None = None) -> int:
        """A new instance (wrapped by ``wrapper``, e.g. a protocol's command layer); its id."""
        with self._lock:
            if len(self._instances) >= self.max_instances:
                raise PoolFull(
                    f"the server holds {self.max_instances} instances (its --max-instances); "
                    "close one with /close first"
                )
            idx = next(self._ids)
        # Building an env can be slow (a browser, a MuJoCo model): outside the pool lock.
        env = gym.make(self.env_id, **self.make_kwargs)
        instance = Instance(env if wrapper is None else wrapper(env))
        with self._lock:
            self._instances[idx] = instance
        return idx

    def get(self, idx: int) -> Instance:
        with self._lock:
            instance = self._instances.get(idx)
            live = sorted(self._instances)
        if instance is None:
            raise UnknownInstance(f"unknown env instance id {idx}; live ids: {live}")
        return instance

    def ids(self) -> list[int]:
        with self._lock:
            return sorted(self._instances)

    def close(self, idx: int) -> None:
        with self._lock:
            instance = self._instances.pop(idx, None)
            live = sorted(self._instances)
        if instance is None:
            raise UnknownInstance(f"unknown env instance id {idx}; live ids: {live}")
        with instance.lock:
            instance.env.close()

    def close_all(self) -> None:
        for idx in self.ids():
            self.close(idx)

    # -- one instance ---------------------------------------------------------------
    def call(self, idx: int, fn: Callable[[gym.Env], Any]) -> Any:
        """``fn(env)`` under the instance's lock: a protocol reading what only the env knows."""
        instance = self.get(idx)
        with instance.lock:
            return fn(instance.env)

    def reset(self, idx: int, seed: int | None = None, **meta: Any) -> dict[str, Any]:
        instance = self.get(idx)
        with instance.lock:
            obs, info = instance.env.reset(seed=seed)
            instance.meta = dict(meta)
            instance.observation = observation_view(obs)
            instance.info = info
            instance.done, instance.reset_done = False, True
            instance.score, instance.steps = 0.0, 0
            return {
                "id": idx,
                "env_idx": idx,
                "observation": instance.observation,
                "reward": 0.0,
                "score": 0.0,
                "done": False,
                "available_actions": to_jsonable(info.get("admissible_actions", [])),
                "info": to_jsonable(info),
            }

    def step(self, idx: int, action: Any) -> dict[str, Any]:
        instance = self.get(idx)
        with instance.lock:
            if not instance.reset_done:
                raise EpisodeState(f"env instance {idx} has not been reset; call /reset first")
            if instance.done:
                raise EpisodeState(
                    f"the episode of env instance {idx} is over; call /reset to start another"
                )
            action = coerce_action(instance.env.action_space, action)
            obs, reward, terminated, truncated, info = instance.env.step(action)
            instance.observation = observation_view(obs)
            instance.info = info
            instance.done = bool(terminated or truncated)
            instance.score += float(reward)
            instance.steps += 1
            return {
                "id": idx,
                "env_idx": idx,
                "observation": instance.observation,
                "reward": float(reward),
                "score": instance.score,
                "done": instance.done,
                "terminated": bool(terminated),
                "truncated": bool(truncated),
                "available_actions": to_jsonable(info.get("admissible_actions", [])),
                "info": to_jsonable(info),
            }

    def observation(self, idx: int) -> Any:
        instance = self.get(idx)
        with instance.lock:
            if instance.observation is None:
                raise EpisodeState(f"env instance {idx} has not been reset; call /reset first")
            return instance.observation

    def available_actions(self, idx: int) -> list[str]:
        instance = self.get(idx)
        with instance.lock:
            return to_jsonable(instance.info.get("admissible_actions", []))

    def detail(self, idx: int) -> dict[str, Any]:
        instance = self.get(idx)
        with instance.lock:
            return {
                "id": idx,
                "env_id": self.env_id,
                "observation": instance.observation,
                "done": instance.done,
                "score": instance.score,
                "steps": instance.steps,
                "meta": to_jsonable(instance.meta),
                "info": to_jsonable(instance.info),
            }
