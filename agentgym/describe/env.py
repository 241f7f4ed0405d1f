"""``DescribedEnv``: any Gymnasium env, given the agentgym contract by a ``DescribedTask``
rather than by subclassing ``TaskEnv``.

It wraps ``gym.make(task.base)``: the observation, action, reward and termination are
the base env's; ``info["reward_state"]`` holds the selected state variables (read from
the MuJoCo model and data, or the observation), ``info["success"]`` and
``info["fitness"]`` the task's criteria. ``register`` gives it a Gymnasium id that every
agentgym command and worker process can make.
"""

from __future__ import annotations

import json
from functools import lru_cache, partial
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import EzPickle

from agentgym.core import TaskEnv
from agentgym.describe.criterion import Criterion
from agentgym.describe.task import DescribedTask
from agentgym.spec import TaskSpec

ENTRY_POINT = "agentgym.describe.env:DescribedEnv"


def mujoco_of(env: gym.Env) -> tuple[Any, Any] | None:
    """(model, data) of a MuJoCo env, or None for any other."""
    base = env.unwrapped
    model, data = getattr(base, "model", None), getattr(base, "data", None)
    if type(model).__name__ == "MjModel" and type(data).__name__ == "MjData":
        return model, data
    return None


def _read_model(read: Any, model: Any, data: Any, _obs: Any) -> np.ndarray:
    return read(model, data)


class DescribedEnv(TaskEnv, EzPickle):
    """A Gymnasium env with a ``DescribedTask``: ``DescribedEnv(task=task.to_dict())``."""

    def __init__(
        self,
        task: dict[str, Any],
        *,
        reward: Any = None,
        render_mode: str | None = None,
        **base_kwargs: Any,
    ) -> None:
        EzPickle.__init__(self, task, reward=reward, render_mode=render_mode, **base_kwargs)
        self.task = DescribedTask.from_dict(task)
        kwargs = {**self.task.base_kwargs, **base_kwargs}
        if render_mode is not None:
            kwargs["render_mode"] = render_mode
        # The base's own wrappers (its time limit above all) are dropped: this env's
        # registration carries the time limit, so an episode is not cut twice.
        self.base = gym.make(self.task.base, disable_env_checker=True, **kwargs).unwrapped
        self.metadata = self.base.metadata
        self.action_space = self.base.action_space
        self._dict_obs = isinstance(self.base.observation_space, gym.spaces.Dict)
        # agentgym's learners take Box observations: a Dict one (Gymnasium-Robotics') is
        # flattened for the policy; obs:KEY selectors read it before flattening.
        self.observation_space = (
            gym.spaces.flatten_space(self.base.observation_space)
            if self._dict_obs
            else self.base.observation_space
        )
        self._mujoco = mujoco_of(self.base)
        self._readers = self._select()
        variables = self._renamed(tuple(var for var, _ in self._readers))
        names = [v.name for v in variables]
        trusted = self.task.trusted_rules
        self.success_rule = Criterion(self.task.success, "success", names, trusted=trusted)
        self.fitness_rule = (
            Criterion(self.task.fitness, "fitness", names, trusted=trusted)
            if self.task.fitness
            else None
        )
        self.task_spec = self._spec(variables)  # type: ignore[misc]
        super().__init__(reward=reward, render_mode=render_mode)

    def _select(self) -> list[tuple[Any, Any]]:
        """(StateVar, read(obs)) of every selected value, in the task's order."""
        from agentgym.describe.obs_state import is_obs_selector, select_obs

        selection = self.task.state
        if not selection:
            if self._mujoco is None:
                selection = (("", "obs"),)
            else:
                from agentgym.describe.mujoco_state import default_selectors

                selection = tuple(("", s) for s in default_selectors(self._mujoco[0]))
        readers: list[tuple[Any, Any]] = []
        seen: dict[str, str] = {}
        for alias, selector in selection:
            if is_obs_selector(selector):
                var, read = select_obs(self.base.observation_space, selector, alias)
            elif self._mujoco is None:
                raise ValueError(
                    f"state: {selector!r}: this env is not a MuJoCo env, so its selectors are "
                    "'obs' and 'obs:KEY'"
                )
            else:
                from agentgym.describe.mujoco_state import select

                chosen = select(self._mujoco[0], selector, alias or None)
                var, read = chosen.var, partial(_read_model, chosen.read, *self._mujoco)
            if var.name in seen:
                raise ValueError(
                    f"state: {seen[var.name]!r} and {selector!r} are both named "
                    f"{var.name!r}; rename one (state: {{new_name: {selector!r}}})"
                )
            seen[var.name] = selector
            readers.append((var, read))
        return readers

    def _renamed(self, variables: tuple[Any, ...]) -> tuple[Any, ...]:
        """The variables with the task's own meanings and units where it gives them."""
        from dataclasses import replace

        names = {v.name for v in variables}
        for field in ("meanings", "units"):
            unknown = sorted(set(getattr(self.task, field)) - names)
            if unknown:
                raise ValueError(
                    f"DescribedTask.{field}: no state variable named {unknown}; "
                    f"the state is {sorted(names)}"
                )
        return tuple(
            replace(
                v,
                meaning=self.task.meanings.get(v.name, v.meaning),
                units=self.task.units.get(v.name, v.units),
            )
            for v in variables
        )

    @classmethod
    def task_spec_for(cls, kwargs: dict[str, Any]) -> TaskSpec:
        return _spec_of(json.dumps(kwargs["task"], sort_keys=True))

    def _spec(self, variables: tuple[Any, ...]) -> TaskSpec:
        from agentgym.spec import SUCCESS_FITNESS

        task = self.task
        if self.fitness_rule is None:
            fitness = SUCCESS_FITNESS
        else:
            fitness = task.fitness_description or (
                f"{self.fitness_rule.describe()}, at the episode's end (higher is better)"
            )
        return TaskSpec(
            name=task.name or task.base_name,
            instruction=task.instruction,
            success=task.success_description or f"success when {self.success_rule.describe()}",
            state=variables,
            action_meaning=task.action_meaning or self._action_meaning(),
            family=task.family,
            tags=task.tags or ("described", task.base_name.lower()),
            fitness=fitness,
            robot=task.robot or task.base_name,
        )

    def _action_meaning(self) -> str:
        space = self.action_space
        if self._mujoco is None or not isinstance(space, gym.spaces.Box):
            return f"an action of {space}"
        from agentgym.describe.mujoco_state import actuator_names

        model = self._mujoco[0]
        names = actuator_names(model)
        if space.shape != (len(names),):
            return f"an action of {space}"
        parts = [
            f"{n} [{lo:.3g}, {hi:.3g}]"
            for n, lo, hi in zip(names, space.low, space.high, strict=True)
        ]
        return "one control per actuator, in order: " + ", ".join(parts)

    def _state(self, obs: Any) -> dict[str, Any]:
        return {var.name: read(obs) for var, read in self._readers}

    def _policy_obs(self, obs: Any) -> Any:
        if self._dict_obs:
            return gym.spaces.flatten(self.base.observation_space, obs)
        return obs

    def _with_task(self, obs: Any, info: dict[str, Any], action: Any) -> dict[str, Any]:
        info["reward_state"] = self._state(obs)
        info["success"] = bool(self.success_rule(info, info["reward_state"], action))
        return info

    def _reset(
        self, *, seed: int | None, options: dict[str, Any] | None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.base.reset(seed=seed, options=options)
        self._at_reset = True
        self._last_action = np.zeros(self.action_space.shape, dtype=np.float32)
        info = dict(info)
        info["reward_state"] = self._state(obs)
        # Envs that report success in info (Gymnasium-Robotics' is_success) report it on
        # steps only: before the first step the task is not done.
        rule = self.success_rule
        at_reset = rule.info_key is None or rule.info_key in info
        info["success"] = (
            bool(rule(info, info["reward_state"], self._last_action)) if at_reset else False
        )
        return self._policy_obs(obs), info

    def _step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, base_info = self.base.step(action)
        self._at_reset = False
        # Gymnasium's MuJoCo envs name their reward's parts reward_*; shown as the env's
        # terms only when they add up to the reward, else they would mislead.
        terms = {
            k.removeprefix("reward_"): float(v)
            for k, v in base_info.items()
            if k.startswith("reward_") and np.ndim(v) == 0 and np.isreal(v)
        }
        info = self._with_task(obs, dict(base_info), action)
        self._last_action = np.asarray(action)
        if terms and abs(sum(terms.values()) - float(reward)) < 1e-5:
            info["env_reward_terms"] = terms
        return self._policy_obs(obs), float(reward), bool(terminated), bool(truncated), info

    def _fitness(self, info: dict[str, Any]) -> float:
        rule = self.fitness_rule
        if rule is None or (self._at_reset and rule.info_key not in (None, *info)):
            # no fitness rule, or an info key the env reports on steps only
            return float(bool(info.get("success", False)))
        return rule(info, info["reward_state"], self._last_action)

    def render(self) -> Any:
        return self.base.render()

    def close(self) -> None:
        self.base.close()


@lru_cache(maxsize=64)
def _spec_of(task_json: str) -> TaskSpec:
    # Building the base env is the only way to read its model; cached, so a command that
    # asks for the spec many times builds it once.
    env = DescribedEnv(json.loads(task_json))
    try:
        return env.task_spec
    finally:
        env.close()


def register(task: DescribedTask | dict[str, Any]) -> str:
    """Register ``task`` with Gymnasium (and for agentgym's worker processes); its id.

    Registering the same task again is a no-op; another task under the same id is an error.
    """
    from gymnasium.envs.registration import parse_env_id

    from agentgym.registry import RUNTIME_ENV_IDS

    if isinstance(task, dict):
        task = DescribedTask.from_dict(task)
    env_id = task.env_id
    module, sep, base_id = task.base.rpartition(":")
    try:
        if sep:
            # Gymnasium's "module:id": the module registers the id when imported.
            import importlib

            importlib.import_module(module)
        base_spec = gym.spec(base_id)
    except ModuleNotFoundError as err:
        raise ValueError(f"DescribedTask.base: {task.base!r}: {err}") from err
    except gym.error.Error as err:
        raise ValueError(f"DescribedTask.base: {err}") from err
    kwargs = {"task": task.to_dict()}
    existing = gym.registry.get(env_id)
    if existing is not None:
        if existing.entry_point == ENTRY_POINT and existing.kwargs == kwargs:
            return env_id
        raise ValueError(
            f"DescribedTask.id: {env_id!r} is already registered for another env; set id"
        )
    parse_env_id(env_id)  # a malformed id fails here, naming it
    _spec_of(json.dumps(kwargs["task"], sort_keys=True))  # a bad selector fails now, not later
    gym.register(
        id=env_id,
        entry_point=ENTRY_POINT,
        kwargs=kwargs,
        max_episode_steps=task.max_episode_steps or base_spec.max_episode_steps,
    )
    # A "module:id" base is registered again by its module's import in the worker; a
    # plain id registered at run time must be carried there.
    RUNTIME_ENV_IDS.extend([env_id] if sep else [base_spec.id, env_id])
    return env_id
