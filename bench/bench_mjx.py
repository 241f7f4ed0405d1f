"""HalfCheetah on MuJoCo XLA (``physics="mjx"``, agentgym/vector/mjx.py): raw env steps/s
at large batches and PPO with the physics on the JAX device and the learner on torch's.

Meant for a GPU machine (``scripts/device-check.sh`` runs it there): on a CPU, MJX steps
HalfCheetah at a few hundred to ~2k env steps/s (docs/learners.md), so by default this
runs one small size there, to show the path works and what it costs. Cases:

- ``env``: ``gym.make_vec("agentgym/HalfCheetah-v0", num_envs=N, physics="mjx")`` with
  random actions: the physics on the device, observations, rewards and resets on the host
  (numpy over the batch's fields, copied out each step). The first step's time (jit
  compilation) is reported apart.
- ``ppo``: ``PPOConfig(vectorization="mjx", device="auto")`` at the largest size (its
  step already compiled by ``env``), 16 steps a rollout, 4 minibatches, 5 epochs;
  steps/s of the whole run (construction included) and of its training phases, and the
  mean env reward of its last rollout.

Sizes: ``AGENTGYM_BENCH_MJX_ENVS`` (default 4096,16384 on a GPU, 256 on a CPU);
``AGENTGYM_BENCH_MJX_STEPS`` vector steps per size (default 50 GPU, 10 CPU);
``AGENTGYM_BENCH_MJX_PPO_STEPS`` PPO env steps (default 2,097,152 GPU, 16,384 CPU).
Results: ``bench/results/mjx.json`` and ``mjx.md``.

    python -m bench mjx
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.runs.manifest import machine_info

RESULTS = Path(__file__).parent / "results"
ENV_ID = "agentgym/HalfCheetah-v0"


def _ints(name: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(name, default).split(",") if x.strip()]


def env_case(num_envs: int, vector_steps: int) -> dict[str, float]:
    import gymnasium as gym

    start = time.perf_counter()
    envs = gym.make_vec(ENV_ID, num_envs=num_envs, physics="mjx")
    try:
        envs.reset(seed=0)
        actions = np.random.default_rng(0).uniform(-1, 1, (8, num_envs, 6)).astype(np.float32)
        first = time.perf_counter()
        envs.step(actions[0])  # compiles the step for this size
        compiled = time.perf_counter()
        for t in range(vector_steps):
            envs.step(actions[t % len(actions)])
        end = time.perf_counter()
    finally:
        envs.close()
    return {
        "num_envs": num_envs,
        "vector_steps": vector_steps,
        "steps_per_s": num_envs * vector_steps / (end - compiled),
        "first_step_s": compiled - first,
        "construct_and_reset_s": first - start,
    }


def ppo_case(num_envs: int, total_steps: int) -> dict[str, Any]:
    from agentgym.learners.ppo import PPO, PPOConfig

    config = PPOConfig(
        env_id=ENV_ID,
        num_envs=num_envs,
        num_steps=16,
        num_minibatches=4,
        update_epochs=5,
        total_steps=total_steps,
        vectorization="mjx",
        device="auto",
        eval_episodes=0,
        checkpoint_every=0,
    )
    start = time.perf_counter()
    agent = PPO(config)
    built = time.perf_counter()
    try:
        final = agent.learn()
    finally:
        agent.close()
    end = time.perf_counter()
    phases = dict(agent.phase_seconds)
    return {
        "num_envs": num_envs,
        "total_steps": total_steps,
        "device": str(agent.device),
        "steps_per_s": total_steps / (end - start),
        "steps_per_s_training": total_steps / max(1e-9, sum(phases.values())),
        "construct_s": built - start,
        "phase_seconds": phases,
        "final_env_reward": final.get("env_reward"),
        "status": final.get("status"),
    }


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# HalfCheetah on MuJoCo XLA: env steps/s and PPO with physics on the JAX device",
        "",
        f"Machine: {m['cpu']} ({m['cores']} cores), GPU: {m.get('gpu') or 'none'}; "
        f"JAX device: {results['jax_device']}; mujoco-mjx {results['mjx_version']}, "
        f"jax {results['jax_version']}. Measured {results['date']}.",
        "",
    ]
    if not results.get("env"):
        return "\n".join([*lines, results.get("note", "not measured"), ""])
    lines += [
        "| envs | env steps/s | first step (compile) s |",
        "|---|---|---|",
        *(
            f"| {r['num_envs']} | {r['steps_per_s']:,.0f} | {r['first_step_s']:.1f} |"
            for r in results["env"]
        ),
    ]
    p = results.get("ppo")
    if p:
        lines += [
            "",
            f"PPO, {p['num_envs']} envs, learner on {p['device']}, {p['total_steps']:,} steps: "
            f"{p['steps_per_s']:,.0f} steps/s including construction ({p['construct_s']:.1f} s; "
            f"the physics step was compiled by the env case), "
            f"{p['steps_per_s_training']:,.0f} while training "
            f"(collect {p['phase_seconds'].get('collect', 0):.1f} s, update "
            f"{p['phase_seconds'].get('update', 0):.1f} s); last rollout's mean env reward "
            f"{p['final_env_reward']:.3f} ({p['status']}).",
        ]
    return "\n".join([*lines, ""])


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    try:
        import jax
        from mujoco import mjx  # noqa: F401
    except ImportError as err:
        print(f"mjx: not installed ({err}); pip install 'agentgym[mjx]'")
        return
    import mujoco

    gpu = jax.devices()[0].platform != "cpu"
    sizes = _ints("AGENTGYM_BENCH_MJX_ENVS", "4096,16384" if gpu else "256")
    vector_steps = int(os.environ.get("AGENTGYM_BENCH_MJX_STEPS", 50 if gpu else 10))
    ppo_steps = int(os.environ.get("AGENTGYM_BENCH_MJX_PPO_STEPS", 2_097_152 if gpu else 16_384))
    env_rows = []
    for n in sizes:
        row = env_case(n, vector_steps)
        print(
            f"mjx env {n} envs: {row['steps_per_s']:,.0f} steps/s "
            f"(first step {row['first_step_s']:.1f} s)",
            flush=True,
        )
        env_rows.append(row)
    ppo = ppo_case(max(sizes), ppo_steps) if ppo_steps > 0 else None
    if ppo:
        print(
            f"mjx ppo {ppo['num_envs']} envs on {ppo['device']}: {ppo['steps_per_s']:,.0f} "
            f"steps/s ({ppo['steps_per_s_training']:,.0f} training)",
            flush=True,
        )
    import torch  # noqa: F401  (machine_info names the GPU through torch)

    results = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine_info(),
        "jax_device": str(jax.devices()[0]),
        "jax_version": jax.__version__,
        "mjx_version": mujoco.__version__,
        "env": env_rows,
        "ppo": ppo,
    }
    (RESULTS / "mjx.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "mjx.md").write_text(render_markdown(results))


if __name__ == "__main__":
    main()
