"""Vector env speed against the physics ceiling, HalfCheetah, random actions.

Cases, at 8, 64 and 256 envs, each as env steps per second (N x vector steps / wall time) and
per CPU second (the CPU time of all the process's threads, which other jobs on a shared
machine do not inflate):

- ``ceiling``: ``mujoco.rollout`` on every core (``Rollout(nthread=os.cpu_count())``),
  HalfCheetah's model, 5 substeps per env step, N states carried from call to call, random
  controls: the physics alone, no Python per env;
- ``rollout, 1 thread``: the same on the calling thread (``nthread=0``);
- ``MujocoBatch``: the native envs' physics alone, ``agentgym.vector.MujocoBatch`` (N
  ``MjData`` stepped by ``mj_step`` on a thread pool of every core, qpos and qvel copied
  out): the stepping method against ``mujoco.rollout``, without the env around it;
- ``native``: ``gym.make_vec("agentgym/HalfCheetah-v0", num_envs=N)`` (agentgym.vector,
  every core), and ``native, 1 thread`` (``num_threads=1``);
- ``sync v5``: Gymnasium's ``SyncVectorEnv`` of ``HalfCheetah-v5``;
- ``sync v0``: ``SyncVectorEnv`` of ``agentgym/HalfCheetah-v0`` (reward_state, terms, success).

Runs alternate case by case so that a busy shared machine slows all alike; the median of
the repeats is reported with its ratio to the ceiling. A profile of the native env (one
thread, where cProfile sees every call) says where its time goes. Results go to
``bench/results/vector.json`` and ``vector.md`` with the machine and its load.

    python -m bench vector
    AGENTGYM_BENCH_STEPS=8000 AGENTGYM_BENCH_REPEATS=2 python -m bench vector   # a quick look
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.runs.manifest import machine_info

RESULTS = Path(__file__).parent / "results"
SIZES = (8, 64, 256)
FRAME_SKIP = 5  # HalfCheetah-v5's substeps per env step
BANK = 64  # pre-drawn random action batches, cycled (drawing is not what is measured)


def _half_cheetah_model() -> Any:
    import gymnasium as gym

    env = gym.make("HalfCheetah-v5")
    model = env.unwrapped.model
    env.close()
    return model


class Clock:
    """Wall time and the process's CPU time (all threads) over a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rates(self, env_steps: int) -> tuple[float, float]:
        """(env steps per wall second, env steps per CPU second)."""
        return env_steps / self.wall, env_steps / self.cpu


def rollout_steps_per_s(num_envs: int, vector_steps: int, nthread: int) -> tuple[float, float]:
    """``mujoco.rollout``: N states, 5 substeps per call, the final state fed back."""
    import mujoco
    from mujoco import rollout

    model = _half_cheetah_model()
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    nstate = mujoco.mj_stateSize(model, spec)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    start_state = np.empty(nstate)
    mujoco.mj_getState(model, data, start_state, spec)
    state0 = np.tile(start_state, (num_envs, 1))
    states = np.empty((num_envs, FRAME_SKIP, nstate))
    sensors = np.empty((num_envs, FRAME_SKIP, 0))
    rng = np.random.default_rng(0)
    controls = rng.uniform(-1, 1, (BANK, num_envs, FRAME_SKIP, model.nu))
    models = [model] * num_envs
    datas = [mujoco.MjData(model) for _ in range(max(1, nthread))]
    runner = rollout.Rollout(nthread=nthread)
    try:
        with Clock() as clock:
            for k in range(vector_steps):
                runner.rollout(
                    models,
                    datas,
                    state0,
                    controls[k % BANK],
                    control_spec=mujoco.mjtState.mjSTATE_CTRL.value,
                    skip_checks=True,
                    nstep=FRAME_SKIP,
                    state=states,
                    sensordata=sensors,
                )
                state0[:] = states[:, -1]
    finally:
        runner.close()
    return clock.rates(num_envs * vector_steps)


def batch_steps_per_s(num_envs: int, vector_steps: int) -> tuple[float, float]:
    """``MujocoBatch`` alone: random controls, 5 substeps, qpos and qvel copied out."""
    from agentgym.vector import MujocoBatch

    model = _half_cheetah_model()
    batch = MujocoBatch(model, num_envs, frame_skip=FRAME_SKIP, fields=("qpos", "qvel"))
    controls = np.random.default_rng(0).uniform(-1, 1, (BANK, num_envs, model.nu))
    try:
        with Clock() as clock:
            for k in range(vector_steps):
                batch.step(controls[k % BANK])
    finally:
        batch.close()
    return clock.rates(num_envs * vector_steps)


def env_steps_per_s(
    make: Callable[[], Any], num_envs: int, vector_steps: int
) -> tuple[float, float]:
    envs = make()
    try:
        envs.reset(seed=0)
        space = envs.single_action_space
        rng = np.random.default_rng(0)
        actions = rng.uniform(space.low, space.high, (BANK, num_envs, *space.shape))
        actions = actions.astype(space.dtype)
        with Clock() as clock:
            for k in range(vector_steps):
                envs.step(actions[k % BANK])
    finally:
        envs.close()
    return clock.rates(num_envs * vector_steps)


def cases(num_envs: int) -> dict[str, Callable[[int], tuple[float, float]]]:
    import gymnasium as gym

    import agentgym  # noqa: F401  (registers agentgym/ ids)

    threads = os.cpu_count() or 1

    def native(num_threads: int | None) -> Callable[[], Any]:
        return lambda: gym.make_vec(
            "agentgym/HalfCheetah-v0", num_envs=num_envs, num_threads=num_threads
        )

    def sync(env_id: str) -> Callable[[], Any]:
        return lambda: gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync")

    return {
        "ceiling": lambda s: rollout_steps_per_s(num_envs, s, threads),
        "rollout, 1 thread": lambda s: rollout_steps_per_s(num_envs, s, 0),
        "MujocoBatch": lambda s: batch_steps_per_s(num_envs, s),
        "native": lambda s: env_steps_per_s(native(None), num_envs, s),
        "native, 1 thread": lambda s: env_steps_per_s(native(1), num_envs, s),
        "sync v5": lambda s: env_steps_per_s(sync("HalfCheetah-v5"), num_envs, s),
        "sync v0": lambda s: env_steps_per_s(sync("agentgym/HalfCheetah-v0"), num_envs, s),
    }


def profile_native(num_envs: int, vector_steps: int) -> dict[str, float]:
    """Shares of the native env's step time (one thread, so cProfile sees every call):
    MuJoCo's mj_step, the Python around it in MujocoBatch (controls in per env, fields
    gathered per batch), and the rest (observation, reward, reward_state, success, infos)."""
    import gymnasium as gym

    import agentgym  # noqa: F401

    envs = gym.make_vec("agentgym/HalfCheetah-v0", num_envs=num_envs, num_threads=1)
    try:
        envs.reset(seed=0)
        actions = np.random.default_rng(0).uniform(-1, 1, (num_envs, 6)).astype(np.float32)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(vector_steps):
            envs.step(actions)
        profiler.disable()
    finally:
        envs.close()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = batch = physics = 0.0
    for (filename, _, function), (_, _, tottime, cumtime, _) in stats.items():
        if function == "step" and filename.endswith("vector/env.py"):
            total = cumtime
        elif function == "step" and filename.endswith("vector/mujoco.py"):
            batch = cumtime
        elif "mj_step" in function:
            physics += tottime
    batch_python = batch - physics
    return {
        "mj_step": physics / total,
        "batch_python": batch_python / total,
        "rest": 1.0 - batch / total,
        "native_step_us_per_env": 1e6 * total / (vector_steps * num_envs),
        "mj_step_us_per_env": 1e6 * physics / (vector_steps * num_envs),
    }


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    s = results["settings"]
    lines = [
        "# Vector env speed: native vector env against the physics ceiling",
        "",
        f"Machine: {m.get('cpu')} ({m.get('cores')} cores), GPU: {m.get('gpu') or 'none'}, "
        f"Python {m.get('python')}, mujoco {s['mujoco']}, gymnasium {s['gymnasium']}.",
        "",
        f"Measured {results['date']}: HalfCheetah, random actions, {s['env_steps']} env steps "
        f"per run, median of {s['repeats']} alternating runs; load average "
        f"{results['load_average_start']} at start, {results['load_average_end']} at the end "
        "(other jobs share this machine). Ceiling: `mujoco.rollout` on all "
        f"{m.get('cores')} cores, {FRAME_SKIP} substeps per env step, no Python per env.",
        "",
        "Steps/s is wall-clock throughput; steps per CPU-s counts the CPU time of all the "
        "process's threads, which a busy machine does not inflate. A ratio above 1 is not a "
        "case beating the physics: on a busy machine the ceiling's threads waited for cores; "
        "on an idle one `mujoco.rollout`'s own threading costs (its steps per CPU-s on all "
        "cores fall below its one-thread rate), and it restores each state with a cold "
        "solver warmstart, where `MujocoBatch` keeps every sub-env's warmstart.",
        "",
        "| envs | case | steps/s | ratio | steps/CPU-s | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for n in SIZES:
        for name, c in results["sizes"][str(n)].items():
            lines.append(
                f"| {n} | {name} | {c['steps_per_s']:.0f} | {c['ratio_to_ceiling']:.2f} | "
                f"{c['steps_per_cpu_s']:.0f} | {c['cpu_ratio_to_ceiling']:.2f} |"
            )
    p = results["profile"]
    lines += [
        "",
        f"Profile of the native env, {p['num_envs']} envs, one thread: "
        f"{p['native_step_us_per_env']:.1f} us per env step, of which MuJoCo's `mj_step` "
        f"{100 * p['mj_step']:.0f}% ({p['mj_step_us_per_env']:.1f} us), the Python of "
        "`MujocoBatch` around it (controls in per env, fields gathered per batch) "
        f"{100 * p['batch_python']:.0f}%, and observation, reward, reward_state, success "
        f"and infos over the batch {100 * p['rest']:.0f}%.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    import gymnasium
    import mujoco

    env_steps = int(os.environ.get("AGENTGYM_BENCH_STEPS", 32768))
    repeats = int(os.environ.get("AGENTGYM_BENCH_REPEATS", 5))
    load_start = round(os.getloadavg()[0], 2)
    sizes: dict[str, dict[str, Any]] = {}
    for n in SIZES:
        vector_steps = max(1, env_steps // n)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases(n)}
        for _ in range(repeats):
            for name, case in cases(n).items():
                runs[name].append(case(vector_steps))
        wall = {name: statistics.median(r[0] for r in v) for name, v in runs.items()}
        cpu = {name: statistics.median(r[1] for r in v) for name, v in runs.items()}
        sizes[str(n)] = {
            name: {
                "steps_per_s": wall[name],
                "ratio_to_ceiling": wall[name] / wall["ceiling"],
                "steps_per_cpu_s": cpu[name],
                "cpu_ratio_to_ceiling": cpu[name] / cpu["ceiling"],
                "runs_wall": [r[0] for r in v],
                "runs_cpu": [r[1] for r in v],
            }
            for name, v in runs.items()
        }
        print(
            f"{n:3d} envs  "
            + "  ".join(
                f"{k} {v['steps_per_s']:.0f} ({v['steps_per_cpu_s']:.0f}/cpu-s)"
                for k, v in sizes[str(n)].items()
            ),
            flush=True,
        )
    profile = {"num_envs": 64, **profile_native(64, max(1, env_steps // 64))}
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average_start": load_start,
        "load_average_end": round(os.getloadavg()[0], 2),
        "settings": {
            "env_steps": env_steps,
            "repeats": repeats,
            "frame_skip": FRAME_SKIP,
            "mujoco": mujoco.__version__,
            "gymnasium": gymnasium.__version__,
        },
        "sizes": sizes,
        "profile": profile,
        "machine": machine_info(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "vector.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "vector.md").write_text(render_markdown(results))
    print(f"wrote {RESULTS / 'vector.md'}")


if __name__ == "__main__":
    main()
