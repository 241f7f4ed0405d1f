"""``NativeVectorEnv``: N sub-envs stepped as one batch, with ``SyncVectorEnv``'s contract.

A subclass computes whole batches (``_reset_batch``, ``_step_batch``): observations,
rewards, terminations and infos as arrays over the N sub-envs. This base adds what
Gymnasium's ``SyncVectorEnv`` and ``TimeLimit`` add around per-env envs, with the same
results: seeds (``reset(seed=s)`` seeds sub-env i with ``s + i``, one generator each),
``max_episode_steps`` truncation, autoreset (``NEXT_STEP`` by default, as
``SyncVectorEnv``; ``SAME_STEP`` and ``DISABLED`` as well), ``options["reset_mask"]`` and
infos with ``_key`` masks (``agentgym.vector.info``). A learner written for
``SyncVectorEnv`` therefore runs unchanged on a native vector env.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import Space
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from agentgym.vector.info import stack_infos


class BatchReset(NamedTuple):
    """What ``_reset_batch`` returns: arrays over all N sub-envs, of which only the rows
    of the sub-envs being reset are read."""

    obs: np.ndarray
    info: dict[str, Any]
    """Keys every reset sub-env's info has: reward_state (a dict of arrays), success, ..."""


class BatchStep(NamedTuple):
    """What ``_step_batch`` returns: arrays over all N sub-envs, of which only the rows of
    the sub-envs that stepped are read."""

    obs: np.ndarray
    reward: np.ndarray
    """float64 [N]"""
    terminated: np.ndarray
    """bool [N]"""
    info: dict[str, Any]
    """Keys every stepped sub-env's info has: reward_state, success, env_reward, reward_terms."""


def sub_env_seeds(seed: int | list[int | None] | None, num_envs: int) -> list[int | None]:
    """Seeds per sub-env, as ``SyncVectorEnv.reset`` derives them."""
    if seed is None:
        return [None] * num_envs
    if isinstance(seed, (int, np.integer)):
        return [int(seed) + i for i in range(num_envs)]
    seeds = list(seed)
    if len(seeds) != num_envs:
        raise ValueError(
            f"reset(seed=...): a list of seeds must have num_envs={num_envs} entries, "
            f"got {len(seeds)}"
        )
    return seeds


class NativeVectorEnv(VectorEnv):
    """Base of the natively batched vector envs (see the module docstring).

    Subclasses call ``super().__init__`` with the single-env spaces and implement
    ``_reset_batch(mask)`` (drawing each reset sub-env's initial state from
    ``self.sub_env_rng(i)``, the same stream the per-env env draws from) and
    ``_step_batch(actions, mask)``. Arrays they return are handed to the caller, so they
    must be new arrays, not internal buffers.
    """

    def __init__(
        self,
        num_envs: int,
        single_observation_space: Space,
        single_action_space: Space,
        *,
        max_episode_steps: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if int(num_envs) < 1:
            raise ValueError(f"{type(self).__name__}: num_envs must be >= 1, got {num_envs}")
        if max_episode_steps is not None and int(max_episode_steps) < 1:
            raise ValueError(
                f"{type(self).__name__}: max_episode_steps must be >= 1 or None, "
                f"got {max_episode_steps}"
            )
        self.num_envs = int(num_envs)
        self.max_episode_steps = None if max_episode_steps is None else int(max_episode_steps)
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {**(metadata or {}), "autoreset_mode": self.autoreset_mode}
        self.render_mode = None
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, self.num_envs)
        self.action_space = batch_space(single_action_space, self.num_envs)
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._obs: np.ndarray | None = None

    # -- what subclasses implement --------------------------------------------------
    def _reset_batch(self, mask: np.ndarray) -> BatchReset:
        raise NotImplementedError  # abstract: each env family resets its own state

    def _step_batch(self, actions: np.ndarray, mask: np.ndarray) -> BatchStep:
        raise NotImplementedError  # abstract: each env family has its own dynamics

    # -- seeding --------------------------------------------------------------------
    def sub_env_rng(self, i: int) -> np.random.Generator:
        """Sub-env i's generator; like ``Env.np_random``, made from entropy on first use."""
        rng = self._rngs[i]
        if rng is None:
            rng, _ = seeding.np_random()
            self._rngs[i] = rng
        return rng

    # -- Gymnasium's VectorEnv --------------------------------------------------------
    def reset(
        self,
        *,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        seeds = sub_env_seeds(seed, self.num_envs)
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is None:
            mask = np.ones(self.num_envs, dtype=bool)
        elif not (
            isinstance(mask, np.ndarray)
            and mask.dtype == np.bool_
            and mask.shape == (self.num_envs,)
        ):
            raise ValueError(
                f"reset(options={{'reset_mask': ...}}): expected a bool numpy array of shape "
                f"({self.num_envs},), got {mask!r}"
            )
        elif not mask.any():
            raise ValueError("reset(options={'reset_mask': ...}): no sub-env is selected")
        for i in np.flatnonzero(mask):
            if seeds[i] is not None:
                self._rngs[i], _ = seeding.np_random(seeds[i])
        batch = self._reset_batch(mask)
        self._elapsed[mask] = 0
        self._needs_reset[mask] = False
        if self._obs is None or mask.all():
            self._obs = np.array(batch.obs)
        else:
            self._obs[mask] = batch.obs[mask]
        return self._obs.copy(), stack_infos([(batch.info, mask)], self.num_envs)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._obs is None:
            raise RuntimeError(f"{type(self).__name__}: call reset() before step()")
        actions = np.asarray(actions)
        n = self.num_envs
        mode = self.autoreset_mode
        resetting = self._needs_reset if mode == AutoresetMode.NEXT_STEP else np.zeros(n, bool)
        if mode == AutoresetMode.DISABLED and self._needs_reset.any():
            raise RuntimeError(
                f"{type(self).__name__}: autoreset is disabled and sub-envs "
                f"{np.flatnonzero(self._needs_reset).tolist()} have ended; reset them with "
                "options={'reset_mask': ...}"
            )
        stepping = ~resetting
        rewards = np.zeros(n, dtype=np.float64)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        groups: list[tuple[dict[str, Any], np.ndarray]] = []
        obs = self._obs
        if stepping.any():
            step = self._step_batch(actions, stepping)
            self._elapsed[stepping] += 1
            obs = step.obs if stepping.all() else np.where(_rows(stepping, obs), step.obs, obs)
            rewards[stepping] = step.reward[stepping]
            terminated[stepping] = step.terminated[stepping]
            if self.max_episode_steps is not None:
                truncated = stepping & (self._elapsed >= self.max_episode_steps)
            groups.append((step.info, stepping))
        ended = terminated | truncated
        if mode == AutoresetMode.SAME_STEP and ended.any():
            # The ended sub-envs' last step goes to final_obs/final_info; they reset now.
            groups = [
                (step.info, stepping & ~ended),
                ({"final_obs": obs, "final_info": step.info}, ended),
            ]
            resetting = ended
        if resetting.any():
            reset = self._reset_batch(resetting)
            self._elapsed[resetting] = 0
            obs = np.where(_rows(resetting, obs), reset.obs, obs)
            groups.append((reset.info, resetting))
        if mode != AutoresetMode.SAME_STEP:
            self._needs_reset = ended
        self._obs = obs
        infos = stack_infos([g for g in groups if g[1].any()], n)
        return obs.copy(), rewards, terminated, truncated, infos

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """An attribute per sub-env, as ``SyncVectorEnv.get_attr`` gives it; the sub-envs
        of a native vector env share its attributes (``task_spec``, ``dt``, ...)."""
        return (getattr(self, name),) * self.num_envs

    def render(self) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} does not render; make the per-env envs with "
            "vectorization_mode='sync' and render_mode='rgb_array' for frames"
        )


def _rows(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``mask`` [N] shaped to broadcast over the rows of ``like`` [N, ...]."""
    return mask.reshape((-1,) + (1,) * (like.ndim - 1))
