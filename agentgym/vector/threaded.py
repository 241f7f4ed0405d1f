"""``ThreadedVectorEnv``: Gymnasium's ``SyncVectorEnv`` with its sub-envs stepped on threads.

For per-env envs whose step is mostly native code that releases the GIL (Gymnasium's
MuJoCo envs: ``mujoco.mj_step`` is ~75% of a ``HalfCheetah-v5`` step), so that the
sub-envs of one step run on every core instead of one. Only the transitions run on the
threads, each sub-env by one thread at a time; the infos, observations and autoreset flags
are then assembled in sub-env order by ``SyncVectorEnv``'s own code path, so every result
equals ``SyncVectorEnv``'s for the same seeds and actions, bit for bit (each sub-env's
transition depends on that sub-env alone). Pure-Python envs (CartPole, MiniGrid) only pay
the hand-offs here: keep them on ``sync``.

Rendering stays on the calling thread (``render()`` is ``SyncVectorEnv``'s), so an EGL
context is never used from a helper.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from typing import Any

import numpy as np
from gymnasium import Env
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import concatenate, iterate

from agentgym.vector.threads import SharedJob, thread_budget

# One sub-env's transition: (obs, reward, terminated, truncated, info, (final obs, final
# info) of a SAME_STEP autoreset or None).
Transition = tuple[Any, float, bool, bool, dict[str, Any], tuple[Any, dict[str, Any]] | None]


class ThreadedVectorEnv(SyncVectorEnv):
    """``SyncVectorEnv(env_fns, ...)`` whose ``step`` runs the sub-envs' transitions on
    ``num_threads`` threads (the calling thread is one; default: the cores this process may
    run on, or fewer where ``AGENTGYM_NUM_THREADS`` says so: ``thread_budget``)."""

    def __init__(
        self, env_fns: Sequence[Callable[[], Env]], num_threads: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(env_fns, **kwargs)
        threads = num_threads if num_threads is not None else thread_budget()
        if threads < 1:
            raise ValueError(f"ThreadedVectorEnv: num_threads must be >= 1, got {num_threads}")
        self.num_threads = min(int(threads), self.num_envs)
        self._pool = (
            ThreadPoolExecutor(self.num_threads - 1, thread_name_prefix="vector-env")
            if self.num_threads > 1
            else None
        )

    def _transition(self, i: int, action: Any) -> Transition:
        env, mode = self.envs[i], self.autoreset_mode
        if mode == AutoresetMode.NEXT_STEP and self._autoreset_envs[i]:
            obs, info = env.reset()
            return obs, 0.0, False, False, info, None
        if mode == AutoresetMode.DISABLED:
            # As SyncVectorEnv: the caller resets finished sub-envs itself.
            assert not self._autoreset_envs[i], f"{self._autoreset_envs=}"
        elif mode != AutoresetMode.SAME_STEP and mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"Unexpected autoreset mode, {mode}")
        obs, reward, terminated, truncated, info = env.step(action)
        final = None
        if mode == AutoresetMode.SAME_STEP and (terminated or truncated):
            final = (obs, info)
            obs, info = env.reset()
        return obs, reward, terminated, truncated, info, final

    def _run(self, actions: list[Any], out: list[Transition | None], envs: Iterator[int]) -> None:
        for i in envs:
            out[i] = self._transition(i, actions[i])

    def _help(self, actions: list[Any], out: list[Transition | None], job: SharedJob) -> None:
        if not job.join():
            return  # the calling thread stepped every sub-env before this helper started
        try:
            self._run(actions, out, job.envs)
        except BaseException as err:  # handed to the calling thread by job.close()
            job.error = err
        finally:
            job.leave()

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """``SyncVectorEnv.step``, the sub-envs' transitions on the threads."""
        action_list = list(iterate(self.action_space, actions))
        out: list[Transition | None] = [None] * self.num_envs
        if self._pool is None:
            self._run(action_list, out, iter(range(self.num_envs)))
        else:
            job = SharedJob(iter(range(self.num_envs)))
            for _ in range(self.num_threads - 1):
                self._pool.submit(self._help, action_list, out, job)
            try:
                self._run(action_list, out, job.envs)
            finally:
                job.close()
        infos: dict[str, Any] = {}
        for i, transition in enumerate(out):
            assert transition is not None  # every index was taken by some thread
            obs, reward, terminated, truncated, info, final = transition
            self._env_obs[i] = obs
            self._rewards[i], self._terminations[i], self._truncations[i] = (
                reward,
                terminated,
                truncated,
            )
            if final is not None:
                infos = self._add_info(infos, {"final_obs": final[0], "final_info": final[1]}, i)
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(
            self.single_observation_space, self._env_obs, self._observations
        )
        self._autoreset_envs = np.logical_or(self._terminations, self._truncations)
        return (
            deepcopy(self._observations) if self.copy else self._observations,
            np.copy(self._rewards),
            np.copy(self._terminations),
            np.copy(self._truncations),
            infos,
        )

    def close_extras(self, **kwargs: Any) -> None:
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        super().close_extras(**kwargs)
