"""``MujocoBatch``'s native step (agentgym/vector/batch_native.py, batch_step.cpp): the same
numbers as its Python step bit for bit, built once into the cache, and a clear word where
it cannot be built."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agentgym.vector import MujocoBatch, batch_native


@pytest.mark.parametrize(
    ("env_id", "fields", "threads"),
    [
        ("HalfCheetah-v5", ("qpos", "qvel"), 2),
        # Ant reads contact forces: mj_rnePostConstraint after the substeps, 2-D fields.
        ("Ant-v5", ("qpos", "qvel", "cfrc_ext"), 3),
    ],
)
def test_native_step_equals_the_python_step_bit_for_bit(env_id, fields, threads):
    env = gym.make(env_id).unwrapped
    n = 7
    rng = np.random.default_rng(0)
    batches = {
        backend: MujocoBatch(
            env.model, n, frame_skip=5, fields=fields, num_threads=threads, backend=backend
        )
        for backend in ("native", "python")
    }
    try:
        assert batches["native"].backend == "native"
        assert batches["python"].backend == "python"
        for b in batches.values():
            for i in range(n):
                b.reset(i, env.init_qpos + 0.1 * i, env.init_qvel)
        for t in range(40):
            ctrl = rng.uniform(-1, 1, (n, env.model.nu)).astype(np.float32)
            mask = rng.random(n) > 0.3 if t % 3 else None
            for b in batches.values():
                b.step(ctrl, mask)
            for name in fields:
                np.testing.assert_array_equal(
                    batches["native"].fields[name], batches["python"].fields[name], err_msg=name
                )
        for i in range(n):
            native, python = batches["native"].data[i], batches["python"].data[i]
            assert native.time == python.time > 0.0
            np.testing.assert_array_equal(native.qacc_warmstart, python.qacc_warmstart)
        if "cfrc_ext" in fields:
            assert np.abs(batches["native"].fields["cfrc_ext"]).max() > 0.0
    finally:
        for b in batches.values():
            b.close()
        env.close()


def test_native_step_refuses_a_wrong_mask_and_a_step_after_close():
    env = gym.make("HalfCheetah-v5").unwrapped
    batch = MujocoBatch(env.model, 3, frame_skip=5, backend="native")
    ctrl = np.zeros((3, env.model.nu))
    with pytest.raises(ValueError, match=r"mask must have shape \(3,\)"):
        batch.step(ctrl, np.ones(4, dtype=bool))
    with pytest.raises(ValueError):
        batch.step(np.zeros((2, env.model.nu)))  # too few sub-envs' controls
    batch.close()
    with pytest.raises(RuntimeError, match="after close"):
        batch.step(ctrl)
    env.close()


def test_library_is_built_once_into_the_cache_and_reused(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENTGYM_NATIVE_CACHE", str(tmp_path))
    batch_native.library.cache_clear()
    try:
        batch_native.library()
        built = sorted(tmp_path.glob("batch_step-*.so"))
        assert len(built) == 1
        stamp = built[0].stat().st_mtime_ns
        batch_native.library.cache_clear()
        batch_native.library()
        assert sorted(tmp_path.iterdir()) == built  # no second build, no leftovers
        assert built[0].stat().st_mtime_ns == stamp
    finally:
        batch_native.library.cache_clear()


def test_without_a_compiler_native_refuses_and_auto_warns_then_steps_in_python(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("AGENTGYM_NATIVE_CACHE", str(tmp_path))  # nothing built there yet
    monkeypatch.setenv("CXX", "no-such-compiler")
    monkeypatch.setattr(MujocoBatch, "_warned", set())
    batch_native.library.cache_clear()
    env = gym.make("HalfCheetah-v5").unwrapped
    try:
        with pytest.raises(batch_native.NativeUnavailable, match=r"\$CXX=no-such-compiler"):
            MujocoBatch(env.model, 2, frame_skip=5, backend="native")
        with pytest.warns(RuntimeWarning, match="steps in Python.*no-such-compiler"):
            batch = MujocoBatch(env.model, 2, frame_skip=5)
        assert batch.backend == "python"
        batch.step(np.zeros((2, env.model.nu)))
        assert batch.data[0].time > 0.0
        batch.close()
    finally:
        batch_native.library.cache_clear()
        env.close()


def test_unknown_backend_is_named():
    env = gym.make("HalfCheetah-v5").unwrapped
    with pytest.raises(ValueError, match=r"backend must be one of .*'cuda'"):
        MujocoBatch(env.model, 2, frame_skip=5, backend="cuda")
    env.close()
