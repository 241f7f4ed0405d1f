"""``TaskEnv``: the base of every agentgym env, which keeps the env-reward contract.

A subclass implements ``_reset`` and ``_step``; each returns Gymnasium's tuple with
``info["reward_state"]`` (the TaskSpec's variables) and ``info["success"]``, and
``_step`` also ``info["env_reward_terms"]`` (the env's own reward components, which sum
to its reward). ``step`` then applies the reward model chosen by ``reward=`` and
publishes ``info["env_reward"]``, ``info["reward_terms"]`` and ``info["fitness"]`` (the
task fitness of the episode so far, from ``_fitness``; privileged like the success flag).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar, Protocol, SupportsFloat

import gymnasium as gym
import numpy as np

from agentgym.rewards import RewardModel, make_input, resolve_reward, stack_one
from agentgym.spec import TaskSpec


def apply_reward(
    model: RewardModel | None,
    spec: TaskSpec | None,
    action: Any,
    env_reward: float,
    info: dict[str, Any],
    frame: np.ndarray | None = None,
) -> tuple[float, dict[str, float]]:
    """Score one transition of one env; ``info`` holds reward_state, success, env terms."""
    env_terms = info.get("env_reward_terms") or {"env": env_reward}
    if model is None:
        return float(env_reward), {k: float(v) for k, v in env_terms.items()}
    batch = make_input(
        stack_one(info["reward_state"]),
        np.asarray(action)[None],
        [env_reward],
        {k: [v] for k, v in env_terms.items()},
        [bool(info.get("success", False))],
        spec,
        frames=None if frame is None else frame[None],
    )
    out = model(batch)
    return float(out.reward[0]), {k: float(v[0]) for k, v in out.terms.items()}


class ExpertPolicy(Protocol):
    """A scripted policy that solves a task from the env's observation (MetaWorld's
    scripted policies keep this protocol, so ours do too)."""

    def get_action(self, obs: Any) -> Any:
        """The action for observation ``obs``."""
        ...


def trusted_reward_spec(reward: Any) -> str:
    """``reward=PATH, trust_reward=True`` -> ``"trust:PATH"``: run the user's own program in
    this process (only for code you wrote)."""
    text = str(reward) if isinstance(reward, (str, Path)) else ""
    if not (text.endswith(".py") and Path(text).expanduser().is_file()):
        raise ValueError(
            f"trust_reward=True: reward must be the path of one reward program (.py) you "
            f"wrote, got {reward!r}"
        )
    return f"trust:{Path(text).expanduser().resolve()}"


class TaskEnv(gym.Env):
    """A Gymnasium env that describes its task to reward designers.

    Subclasses set ``task_spec`` and call ``super().__init__(reward=..., render_mode=...)``.
    They should also call ``gymnasium.utils.EzPickle.__init__`` with their constructor
    arguments so that the env pickles by re-construction.
    """

    task_spec: ClassVar[TaskSpec]
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 30}
    expert_steps: ClassVar[int | None] = None
    """Where a recording of the expert's episodes stops (None: the env's time limit): long
    enough for it to succeed, short enough that what it does after succeeding does not
    outweigh how it got there."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # gym.make(id, reward=PATH, trust_reward=True): every env constructor takes the
        # opt-in without each of them declaring it; it becomes the spec "trust:PATH"
        # (which EzPickle then records, so a pickled env stays trusted the same way).
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def with_trust(self: TaskEnv, *args: Any, trust_reward: bool = False, **kw: Any) -> None:
            if trust_reward:
                kw["reward"] = trusted_reward_spec(kw.get("reward"))
            init(self, *args, **kw)

        cls.__init__ = with_trust  # type: ignore[method-assign]

    def __init__(self, *, reward: Any = None, render_mode: str | None = None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"{type(self).__name__}: render_mode must be one of "
                f"{self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.reward_model: RewardModel | None = resolve_reward(reward, self.task_spec)

    @classmethod
    def task_spec_for(cls, kwargs: dict[str, Any]) -> TaskSpec:
        """The TaskSpec of ``cls(**kwargs)`` without building it. Ours is a class attribute;
        an env described at run time (``agentgym.describe``) reads it from its kwargs."""
        return cls.task_spec

    @classmethod
    def expert(cls) -> ExpertPolicy | None:
        """A fresh scripted expert for this task (``expert().get_action(obs)``), or None
        when the task has none. Text envs' experts read the env's own state instead
        (``TextTaskEnv.expert_action``) and are not obs-policies."""
        return None

    # -- what subclasses implement ------------------------------------------------
    def _reset(
        self, *, seed: int | None, options: dict[str, Any] | None
    ) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError  # abstract: every TaskEnv defines its own reset

    def _step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        raise NotImplementedError  # abstract: every TaskEnv defines its own dynamics

    def _fitness(self, info: dict[str, Any]) -> float:
        """The task fitness (``TaskSpec.fitness``) of the episode so far, called after
        ``_reset`` and after every ``_step`` with their info. The default is the success
        flag; envs with a continuous measure override it (and keep what they need from the
        episode's start)."""
        return float(bool(info.get("success", False)))

    # -- the contract -------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, info = self._reset(seed=seed, options=options)
        info.setdefault("success", False)
        info["fitness"] = float(self._fitness(info))
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, env_reward, terminated, truncated, info = self._step(action)
        frame = None
        if self.reward_model is not None and getattr(self.reward_model, "needs_frames", False):
            frame = self.render_frame()
        reward, terms = apply_reward(
            self.reward_model, self.task_spec, action, float(env_reward), info, frame
        )
        info.pop("env_reward_terms", None)
        info["env_reward"] = float(env_reward)
        info["reward_terms"] = terms
        info["fitness"] = float(self._fitness(info))
        return obs, reward, terminated, truncated, info

    def render_frame(self) -> np.ndarray:
        """An RGB frame for reward models that look at pixels, whatever render_mode is."""
        if self.render_mode != "rgb_array":
            raise RuntimeError(
                f"{type(self).__name__}: this reward needs frames; make the env with render_mode='rgb_array'"
            )
        return self.render()  # type: ignore[return-value]
