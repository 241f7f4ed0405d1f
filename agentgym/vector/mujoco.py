"""``MujocoBatch``: N ``MjData`` of one ``MjModel``, stepped together on a thread pool.

Each sub-env keeps its own ``MjData`` for its whole life and is stepped by
``mujoco.mj_step`` exactly as Gymnasium's ``MujocoEnv.do_simulation`` steps it (controls,
``frame_skip`` substeps, then ``mj_rnePostConstraint`` when contact forces are read), so a
batch reproduces the per-env envs bit for bit. ``mj_step`` releases the GIL, so the
threads step sub-envs in parallel; then the fields the env reads (``qpos``, ``qvel``,
``cfrc_ext``, ...) are gathered into arrays over the batch.

By default the step runs in native code (batch_native.py: batch_step.cpp, built on
first use with the system's C++ compiler): the same ``mj_step`` calls on the same
``MjData`` with the fields copied out per sub-env, one ctypes call a step, no GIL in it.
Where it cannot be built the Python step below runs instead, with a warning naming why;
``backend="python"`` asks for it, ``backend="native"`` refuses to fall back.

``mujoco.rollout`` (MuJoCo's own threaded rollouts) is not used for the envs: it restores a
state vector per call and zeroes ``qacc_warmstart`` unless given one, but returns no
warmstart to carry to the next call, nor the derived quantities (``cfrc_ext``, ``cinert``)
that Ant and Humanoid observe; trajectories then drift from the per-env env's (HalfCheetah
differs by ~8 in state after 300 steps). ``bench/bench_vector.py`` measures it as the
physics ceiling.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from agentgym.vector.threads import SharedJob, thread_budget

# Fields that only mj_rnePostConstraint computes (Gymnasium calls it after every step).
POST_CONSTRAINT_FIELDS = frozenset({"cacc", "cfrc_int", "cfrc_ext"})


class MujocoBatch:
    """``num_envs`` MjData over one MjModel; ``fields[name]`` holds ``data.<name>`` of every
    sub-env ([N, *shape], float64), refreshed for the sub-envs each step or reset touches.

    ``num_threads`` defaults to the cores this process may run on, or fewer where
    ``AGENTGYM_NUM_THREADS`` says so (``thread_budget``); the calling thread is one of them.
    ``backend``: ``"auto"`` (native code where it builds, else Python with a warning),
    ``"native"`` or ``"python"``; ``self.backend`` says which one steps.
    """

    BACKENDS = ("auto", "native", "python")
    _warned: set[str] = set()

    def __init__(
        self,
        model: Any,
        num_envs: int,
        *,
        frame_skip: int,
        fields: Sequence[str] = ("qpos", "qvel"),
        num_threads: int | None = None,
        backend: str = "auto",
    ) -> None:
        import mujoco

        if backend not in self.BACKENDS:
            raise ValueError(
                f"MujocoBatch: backend must be one of {self.BACKENDS}, got {backend!r}"
            )
        self._mujoco = mujoco
        self.model = model
        self.frame_skip = int(frame_skip)
        self.data = [mujoco.MjData(model) for _ in range(num_envs)]
        self.fields = {
            name: np.zeros((num_envs, *np.shape(getattr(self.data[0], name))), dtype=np.float64)
            for name in fields
        }
        # Views into each MjData's own memory (they stay valid while it lives): a field of
        # every sub-env is gathered by one np.stack, not by N Python copies.
        self._views = {name: [getattr(d, name) for d in self.data] for name in fields}
        self._ctrl = [d.ctrl for d in self.data]
        self.post_constraint = bool(POST_CONSTRAINT_FIELDS & set(fields))
        threads = num_threads if num_threads is not None else thread_budget()
        if threads < 1:
            raise ValueError(f"MujocoBatch: num_threads must be >= 1, got {num_threads}")
        self.num_threads = min(int(threads), num_envs)
        self._native = None
        if backend != "python":
            from agentgym.vector.batch_native import NativeStep, NativeUnavailable

            try:
                self._native = NativeStep(
                    model,
                    self.data,
                    self.fields,
                    self._views,
                    frame_skip,
                    self.post_constraint,
                    self.num_threads,
                )
            except NativeUnavailable as err:
                if backend == "native":
                    raise
                if str(err) not in MujocoBatch._warned:
                    MujocoBatch._warned.add(str(err))
                    warnings.warn(
                        f"MujocoBatch steps in Python (slower): the native step is unavailable: {err}",
                        RuntimeWarning,
                        stacklevel=2,
                    )
        self.backend = "native" if self._native is not None else "python"
        self._pool = (
            ThreadPoolExecutor(self.num_threads - 1, thread_name_prefix="mujoco-batch")
            if self.num_threads > 1 and self._native is None
            else None
        )

    @property
    def num_envs(self) -> int:
        return len(self.data)

    def step(self, ctrl: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Apply ``ctrl[i]`` and take ``frame_skip`` substeps for every sub-env in ``mask``,
        then refresh ``fields`` (rows outside ``mask`` are copied unchanged)."""
        if self._native is not None:
            self._native.step(ctrl, mask)
            return
        index = range(self.num_envs) if mask is None else np.flatnonzero(mask).tolist()
        if self._pool is None or len(index) < 2:
            self._step_envs(ctrl, iter(index))
        else:
            # One shared iterator: each thread takes the next sub-env when it is free, so a
            # thread the OS schedules late (a busy machine) holds up no batch of sub-envs.
            job = SharedJob(iter(index))
            for _ in range(self.num_threads - 1):
                self._pool.submit(self._help, ctrl, job)
            self._step_envs(ctrl, job.envs)
            job.close()
        for name, views in self._views.items():
            np.stack(views, out=self.fields[name])

    def _help(self, ctrl: np.ndarray, job: SharedJob) -> None:
        if not job.join():
            return  # the calling thread stepped every sub-env before this helper started
        try:
            self._step_envs(ctrl, job.envs)
        except BaseException as err:  # handed to the calling thread by job.close()
            job.error = err
        finally:
            job.leave()

    def _step_envs(self, ctrl: np.ndarray, envs: Iterator[int]) -> None:
        # Only what each sub-env needs holds the GIL here (a thread the OS preempts while
        # holding it stalls the others): its controls in, then mj_step without the GIL.
        mujoco, model, nstep, post = self._mujoco, self.model, self.frame_skip, self.post_constraint
        data, controls = self.data, self._ctrl
        for i in envs:
            controls[i][:] = ctrl[i]
            mujoco.mj_step(model, data[i], nstep=nstep)
            if post:
                # Force quantities (cfrc_ext) are only computed on request; Gymnasium's
                # MujocoEnv asks after every step (openai/gym#1541).
                mujoco.mj_rnePostConstraint(model, data[i])

    def reset(self, i: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Gymnasium's ``MujocoEnv.reset`` + ``set_state`` for sub-env ``i``."""
        mujoco, data = self._mujoco, self.data[i]
        mujoco.mj_resetData(self.model, data)
        data.qpos[:] = qpos
        data.qvel[:] = qvel
        mujoco.mj_forward(self.model, data)
        for name, array in self.fields.items():
            array[i] = getattr(data, name)

    def close(self) -> None:
        if self._native is not None:
            self._native.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
