"""``MjxBatch``: N sub-envs of one ``MjModel`` stepped by MuJoCo XLA (``mujoco.mjx``).

The same interface as ``MujocoBatch`` (mujoco.py): ``step(ctrl, mask)`` applies controls
and takes ``frame_skip`` substeps, ``reset(i, qpos, qvel)`` is Gymnasium's reset and
``set_state`` for one sub-env, and ``fields[name]`` holds ``data.<name>`` of every sub-env
as a float64 numpy array [N, ...]. So a locomotion env built on ``MujocoBatch`` computes
its observations, rewards, terms, terminations and resets with the same numpy code on
either physics (``physics="mjx"``); only the physics moves to the JAX device (the GPU
where JAX has one), as one jitted, vmapped function over the whole batch.

Differences from ``MujocoBatch``, all inherent to MJX:
- float32 arithmetic (JAX's default), where MuJoCo steps in float64: trajectories equal
  the CPU env's to float32 tolerance (tests/envs/test_mjx_batch.py), and drift apart over
  long horizons as any two float orders do in contact-rich dynamics;
- every sub-env steps on every call; ``mask`` selects whose new state is kept;
- ``reset`` is deferred: the reset sub-envs' states are recomputed (``mjx.forward``) in one
  call when ``fields`` is next read or the batch next steps;
- each new batch size compiles once (seconds on a CPU, longer for larger models).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentgym.vector.mujoco import POST_CONSTRAINT_FIELDS


class MjxUnavailable(ImportError):
    """``mujoco.mjx`` (the ``mujoco-mjx`` package with ``jax``) is not installed."""


def _import_mjx() -> tuple[Any, Any, Any]:
    # JAX takes 75% of a GPU's memory when its backend starts unless told otherwise, and
    # torch's learner shares that GPU: allocate as needed (a user's own setting stands;
    # where JAX's backend started before this, its setting was already taken).
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    try:
        import jax
        import jax.numpy as jnp
        from mujoco import mjx
    except ImportError as err:
        raise MjxUnavailable(
            f"physics='mjx' needs mujoco-mjx and jax ({err}); install them with "
            "pip install 'agentgym[mjx]' (CPU jax) or jax[cuda12] for a GPU"
        ) from err
    return jax, jnp, mjx


@functools.cache
def _compiled() -> tuple[Any, Any]:
    """The batch's step and reset, jitted once a process: the model and data are
    arguments (not constants baked into the graph), so every batch of the same model
    layout and size reuses one compilation."""
    jax, jnp, mjx = _import_mjx()

    def keep(mask: Any, new: Any, old: Any) -> Any:
        return jax.tree_util.tree_map(
            lambda a, b: jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b),
            new,
            old,
        )

    def step(
        mx: Any, data: Any, ctrl: Any, mask: Any, nstep: int, post: bool, names: tuple[str, ...]
    ) -> tuple[Any, tuple[Any, ...]]:
        def one(d: Any, c: Any) -> Any:
            d = jax.lax.fori_loop(0, nstep, lambda _, d: mjx.step(mx, d), d.replace(ctrl=c))
            return mjx.rne_postconstraint(mx, d) if post else d

        data = keep(mask, jax.vmap(one)(data, ctrl.astype(data.ctrl.dtype)), data)
        return data, tuple(getattr(data, name) for name in names)

    def reset(
        mx: Any, template: Any, data: Any, mask: Any, qpos: Any, qvel: Any, names: tuple[str, ...]
    ) -> tuple[Any, tuple[Any, ...]]:
        def fresh(qp: Any, qv: Any) -> Any:
            d = template.replace(
                qpos=qp.astype(template.qpos.dtype), qvel=qv.astype(template.qvel.dtype)
            )
            return mjx.forward(mx, d)

        data = keep(mask, jax.vmap(fresh)(qpos, qvel), data)
        return data, tuple(getattr(data, name) for name in names)

    return (
        jax.jit(step, static_argnames=("nstep", "post", "names"), donate_argnums=1),
        jax.jit(reset, static_argnames=("names",), donate_argnums=2),
    )


class MjxBatch:
    """``num_envs`` sub-envs of ``model`` as one batched ``mjx.Data`` on a JAX device
    (``device``: a ``jax.Device``, default JAX's default device); module docstring."""

    backend = "mjx"

    def __init__(
        self,
        model: Any,
        num_envs: int,
        *,
        frame_skip: int,
        fields: Sequence[str] = ("qpos", "qvel"),
        device: Any = None,
    ) -> None:
        import mujoco

        jax, jnp, mjx = _import_mjx()
        unknown = [name for name in fields if name not in mjx.Data.__dataclass_fields__]
        if unknown:
            raise ValueError(f"MjxBatch: fields {unknown} are not fields of mjx.Data")
        if num_envs < 1:
            raise ValueError(f"MjxBatch: num_envs must be >= 1, got {num_envs}")
        self.model = model
        self.frame_skip = int(frame_skip)
        self.post_constraint = bool(POST_CONSTRAINT_FIELDS & set(fields))
        self.device = device if device is not None else jax.devices()[0]
        self._names = tuple(fields)
        n = int(num_envs)

        # A new MjData is in mj_resetData's state: what a reset sub-env starts from before
        # its qpos and qvel.
        host = mujoco.MjData(model)
        self._fields = {
            name: np.zeros((n, *np.shape(getattr(host, name))), dtype=np.float64) for name in fields
        }
        self._mx = mjx.put_model(model, device=self.device)
        self._template = mjx.put_data(model, host, device=self.device)
        self._data = jax.tree_util.tree_map(
            lambda x: jnp.broadcast_to(x, (n, *x.shape)).copy(), self._template
        )
        self._step_fn, self._reset_fn = _compiled()
        self._pending = np.zeros(n, dtype=bool)
        self._qpos = np.zeros((n, model.nq))
        self._qvel = np.zeros((n, model.nv))
        self._all = np.ones(n, dtype=bool)

    @property
    def num_envs(self) -> int:
        return len(self._pending)

    def step(self, ctrl: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Apply ``ctrl[i]`` and take ``frame_skip`` substeps for every sub-env in ``mask``
        (the others keep their state), then refresh ``fields``."""
        self._flush()
        keep = self._all if mask is None else np.asarray(mask, dtype=bool)
        ctrl = np.asarray(ctrl).reshape(self.num_envs, -1)
        self._data, out = self._step_fn(
            self._mx, self._data, ctrl, keep, self.frame_skip, self.post_constraint, self._names
        )
        self._copy_out(out)

    def reset(self, i: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Gymnasium's ``MujocoEnv.reset`` + ``set_state`` for sub-env ``i`` (applied, with
        every other reset since, when ``fields`` is next read or the batch steps)."""
        self._qpos[i] = qpos
        self._qvel[i] = qvel
        self._pending[i] = True

    @property
    def fields(self) -> dict[str, np.ndarray]:
        """{name: [N, ...] float64}: every sub-env's ``data.<name>``, resets applied."""
        self._flush()
        return self._fields

    def _flush(self) -> None:
        if not self._pending.any():
            return
        mask = self._pending.copy()
        self._pending[:] = False
        self._data, out = self._reset_fn(
            self._mx, self._template, self._data, mask, self._qpos, self._qvel, self._names
        )
        self._copy_out(out)

    def _copy_out(self, out: tuple[Any, ...]) -> None:
        for name, value in zip(self._names, out, strict=True):
            self._fields[name][...] = np.asarray(value)

    def close(self) -> None:
        self._data = None
