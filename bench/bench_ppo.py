"""Our PPO against stable-baselines3's PPO at equal hyper-parameters, in one process.

Both learners get the same env, vector size (sync), rollout length (2048 steps split over
the envs, SB3's default), epochs, minibatch size, network (64-64 tanh actor and critic),
optimiser settings, torch thread count and step budget; normalisation, learning-rate
annealing and value clipping are off in both (SB3's defaults). Ours runs eager (the
default) and compiled (``PPOConfig.compile``, compiled once before the timed runs). Runs
alternate (ours, compiled, SB3, ours, ...) so that a busy shared machine slows all alike,
and the median of the repeats is reported.

Then HalfCheetah's throughput preset (envs/robotics/presets.py: the native vector env,
the compiled update) as registered, and at each ``--cpu-threads`` count T (torch threads
T, the process pinned to T cores; default 2 and every core, one case on a 2-core machine),
in wall and CPU steps per second. Results go to ``bench/results/ppo.json`` and
``bench/results/ppo.md`` with the machine's description; summary.py sets them against the
physics ceiling.

    python -m bench ppo                  # all cases
    AGENTGYM_BENCH_STEPS=4096 python -m bench ppo   # a quick look
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from agentgym.runs.manifest import machine_info

RESULTS = Path(__file__).parent / "results"
ROLLOUT = 2048  # SB3's default n_steps with 1 env; split over the envs with more
MINIBATCH = 64  # SB3's default batch_size
EPOCHS = 10
THREADS = 1
THROUGHPUT_ENV = "agentgym/HalfCheetah-v0"
THROUGHPUT_STEPS = 65_536
CASES = [  # (env id, vector size); rollout ROLLOUT // size per env
    ("HalfCheetah-v5", 1),
    ("HalfCheetah-v5", 8),
    ("agentgym/Reach-v0", 8),
    ("CartPole-v1", 8),
]
# Cases also run compiled on vectorization "threads" (agentgym.vector.ThreadedVectorEnv:
# Gymnasium's per-env envs, their steps on every core): Gymnasium's MuJoCo env with
# several envs, where mj_step (GIL-free) is most of a step.
THREADED_CASES = {("HalfCheetah-v5", 8)}


def _ours(
    env_id: str,
    num_envs: int,
    steps: int,
    seed: int,
    compile: bool = False,
    vectorization: str = "auto",
) -> tuple[float, float]:
    """(steps per wall second, steps per CPU second) of our PPO."""
    from agentgym.learners.ppo import PPO, PPOConfig

    config = PPOConfig(
        env_id=env_id,
        num_envs=num_envs,
        num_steps=ROLLOUT // num_envs,
        total_steps=steps,
        seed=seed,
        num_minibatches=ROLLOUT // MINIBATCH,
        update_epochs=EPOCHS,
        learning_rate=3e-4,
        anneal_lr=False,
        clip_vloss=False,
        norm_obs=False,
        norm_reward=False,
        ent_coef=0.0,
        hidden_sizes=(64, 64),
        eval_episodes=0,
        checkpoint_every=0,
        device="cpu",
        torch_threads=THREADS,
        compile=compile,
        vectorization=vectorization,
    )
    agent = PPO(config)
    start, cpu = time.perf_counter(), time.process_time()
    agent.learn()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    done = agent.global_step
    agent.close()
    return done / elapsed, done / cpu


def _sb3(env_id: str, num_envs: int, steps: int, seed: int) -> tuple[float, float]:
    """(steps per wall second, steps per CPU second) of SB3's PPO."""
    import torch
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import Logger

    import agentgym  # noqa: F401  (registers agentgym/ ids)

    torch.set_num_threads(THREADS)
    envs = make_vec_env(env_id, n_envs=num_envs, seed=seed)
    model = SB3PPO(
        "MlpPolicy",
        envs,
        n_steps=ROLLOUT // num_envs,
        batch_size=MINIBATCH,
        n_epochs=EPOCHS,
        learning_rate=3e-4,
        gamma=0.99,
        gae_lambda=0.95,
        clip_range=0.2,
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        seed=seed,
        device="cpu",
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}},
    )
    # SB3's default logger writes nothing at verbose=0 but still makes <tmp>/SB3-<time>;
    # this one is the same without the folder.
    model.set_logger(Logger(folder=None, output_formats=[]))
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=steps)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    done = model.num_timesteps
    envs.close()
    return done / elapsed, done / cpu


def write_results(section: str, data: Any) -> Path:
    """Merge ``data`` under ``section`` into ppo.json and regenerate ppo.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "ppo.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[section] = data
    # An older bench_ppo measured one population here; bench_population.py owns that now.
    results.pop("population", None)
    results["machine"] = machine_info()  # the learners imported torch: its GPU and version
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "ppo.md").write_text(render_markdown(results))
    return path


def render_markdown(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    lines = [
        "# PPO speed: agentgym vs stable-baselines3",
        "",
        f"Machine: {m.get('cpu')} ({m.get('cores')} cores), GPU: {m.get('gpu') or 'none'}, "
        f"torch {m.get('torch')}, Python {m.get('python')}.",
        "",
    ]
    speed = results.get("speed")
    if speed:
        s = speed["settings"]
        lines += [
            f"Measured {speed['date']}: {s['steps']} steps per run, median of {s['repeats']} "
            f"alternating runs; rollout {s.get('rollout', 2048)} steps split over the envs, "
            f"minibatch {s['minibatch']}, {s['epochs']} epochs, 64-64 tanh, {s['threads']} "
            f"torch thread(s), load average at start {speed.get('load_average')}. Compiled: "
            "`PPOConfig.compile` (its compile time paid before the timed runs).",
            "",
            "| env | envs | agentgym steps/s | compiled steps/s | SB3 steps/s | ratio | "
            "compiled ratio | compiled ratio, CPU time |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in speed["cases"]:
            compiled = c.get("compiled_steps_per_s")
            lines.append(
                f"| {c['env_id']} | {c['num_envs']} | {c['ours_steps_per_s']:.0f} | "
                + (f"{compiled:.0f}" if compiled else "-")
                + f" | {c['sb3_steps_per_s']:.0f} | {c['ratio']:.2f}x | "
                + (f"{c['compiled_ratio']:.2f}x |" if compiled else "- |")
                + (f" {c['compiled_cpu_ratio']:.2f}x |" if "compiled_cpu_ratio" in c else " - |")
            )
        lines.append("")
        for c in speed["cases"]:
            if "threads_steps_per_s" in c:
                lines += [
                    f"{c['env_id']}, {c['num_envs']} envs, compiled on vectorization "
                    f"`threads` (the per-env steps on a thread pool; SB3 stays on DummyVecEnv): "
                    f"{c['threads_steps_per_s']:.0f} steps/s, {c['threads_ratio']:.2f}x SB3 in "
                    f"wall time, {c['threads_cpu_ratio']:.2f}x in CPU time.",
                    "",
                ]
    throughput = results.get("throughput")
    if throughput:
        lines += [
            f"## HalfCheetah throughput preset ({throughput['date']})",
            "",
            f"{throughput['env_id']}, the preset in envs/robotics/presets.py (native vector "
            f"env, compiled update), {throughput['steps']} steps per run, median of "
            f"{throughput['repeats']}, load average at start {throughput['load_average']}. "
            "Ratios to the ceiling: bench/results/summary.md.",
            "",
            "| case | steps/s | steps/CPU-s |",
            "|---|---|---|",
        ]
        for c in throughput["cases"]:
            lines.append(f"| {c['label']} | {c['steps_per_s']:.0f} | {c['steps_per_cpu_s']:.0f} |")
        lines.append("")
    return "\n".join(lines)


def _throughput(steps: int, threads: int | None, seed: int) -> dict[str, float]:
    """HalfCheetah's throughput preset (envs/robotics/presets.py) on the native vector env:
    wall and CPU rates. ``threads``: torch threads and the process's CPU affinity (the
    native env's MujocoBatch threads run on those cores); None: the preset as registered."""
    from agentgym.learners.ppo import PPO, PPOConfig
    from agentgym.presets import preset_for

    preset = preset_for(THROUGHPUT_ENV, "ppo")
    if preset is None:
        raise RuntimeError(f"no preset registered for {THROUGHPUT_ENV}")
    fields = dict(preset.config)
    affinity = os.sched_getaffinity(0)
    if threads is not None:
        fields["torch_threads"] = threads
        os.sched_setaffinity(0, sorted(affinity)[:threads])
    try:
        config = PPOConfig(
            env_id=THROUGHPUT_ENV,
            total_steps=steps,
            seed=seed,
            eval_episodes=0,
            checkpoint_every=0,
            device="cpu",
            **fields,
        )
        agent = PPO(config)
        wall, cpu = time.perf_counter(), time.process_time()
        agent.learn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        done = agent.global_step
        agent.close()
    finally:
        os.sched_setaffinity(0, affinity)
    return {"steps_per_s": done / wall, "steps_per_cpu_s": done / cpu}


def cpu_threads() -> list[int]:
    """Thread counts of the scaling measurement: ``AGENTGYM_BENCH_CPU_THREADS`` (set by
    ``python -m bench --cpu-threads 2,all``), default 2 and every core, deduplicated."""
    cores = len(os.sched_getaffinity(0))
    spec = os.environ.get("AGENTGYM_BENCH_CPU_THREADS", "2,all")
    counts = []
    for part in spec.split(","):
        part = part.strip()
        if part != "all" and not part.isdigit():
            raise ValueError(f"--cpu-threads: expected integers or 'all', got {part!r}")
        counts.append(cores if part == "all" else min(int(part), cores))
    return sorted(set(counts))


def main() -> None:
    steps = int(os.environ.get("AGENTGYM_BENCH_STEPS", 8 * ROLLOUT))
    repeats = int(os.environ.get("AGENTGYM_BENCH_REPEATS", 3))
    cases = []
    for env_id, num_envs in CASES:
        # The first compiled update of a process compiles (bench/results/ppo_update.md
        # has the time); it is paid here, outside the timed runs.
        _ours(env_id, num_envs, ROLLOUT, seed=0, compile=True)
        ours, compiled, threads, sb3 = [], [], [], []
        threaded = (env_id, num_envs) in THREADED_CASES
        for r in range(repeats):
            ours.append(_ours(env_id, num_envs, steps, seed=r))
            compiled.append(_ours(env_id, num_envs, steps, seed=r, compile=True))
            if threaded:
                threads.append(
                    _ours(env_id, num_envs, steps, seed=r, compile=True, vectorization="threads")
                )
            sb3.append(_sb3(env_id, num_envs, steps, seed=r))
        case = {"env_id": env_id, "num_envs": num_envs}
        named = [("ours", ours), ("compiled", compiled), ("sb3", sb3)]
        for name, runs in named + ([("threads", threads)] if threaded else []):
            case[f"{name}_steps_per_s"] = statistics.median(wall for wall, _ in runs)
            case[f"{name}_steps_per_cpu_s"] = statistics.median(cpu for _, cpu in runs)
            case[f"{name}_runs"] = [wall for wall, _ in runs]
        case["ratio"] = case["ours_steps_per_s"] / case["sb3_steps_per_s"]
        case["compiled_ratio"] = case["compiled_steps_per_s"] / case["sb3_steps_per_s"]
        case["compiled_cpu_ratio"] = case["compiled_steps_per_cpu_s"] / case["sb3_steps_per_cpu_s"]
        if threaded:
            case["threads_ratio"] = case["threads_steps_per_s"] / case["sb3_steps_per_s"]
            case["threads_cpu_ratio"] = (
                case["threads_steps_per_cpu_s"] / case["sb3_steps_per_cpu_s"]
            )
        cases.append(case)
        print(
            f"{env_id:20s} {num_envs} envs: ours {case['ours_steps_per_s']:8.0f}  compiled "
            f"{case['compiled_steps_per_s']:8.0f}  sb3 {case['sb3_steps_per_s']:8.0f}  ratios "
            f"{case['ratio']:.2f}x {case['compiled_ratio']:.2f}x (CPU time: "
            f"{case['compiled_cpu_ratio']:.2f}x)"
            + (f"  threads {case['threads_steps_per_s']:8.0f}" if threaded else ""),
            flush=True,
        )
    speed_settings = {
        "steps": steps,
        "repeats": repeats,
        "rollout": ROLLOUT,
        "minibatch": MINIBATCH,
        "epochs": EPOCHS,
        "threads": THREADS,
        "vectorization": "sync (SB3 DummyVecEnv)",
    }
    write_results(
        "speed",
        {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "load_average": round(os.getloadavg()[0], 2),
            "settings": speed_settings,
            "cases": cases,
        },
    )
    throughput_steps = max(4 * steps, THROUGHPUT_STEPS)
    _throughput(4096, None, seed=0)  # compile, untimed
    labels: list[tuple[str, int | None]] = [("as registered", None)]
    labels += [(f"{t} torch threads on {t} cores", t) for t in cpu_threads()]
    runs: dict[str, list[dict[str, float]]] = {label: [] for label, _ in labels}
    for r in range(repeats):
        for label, threads in labels:
            runs[label].append(_throughput(throughput_steps, threads, seed=r))
    throughput = []
    for label, threads in labels:
        rates = runs[label]
        throughput.append(
            {
                "label": label,
                "threads": threads,
                "steps_per_s": statistics.median(x["steps_per_s"] for x in rates),
                "steps_per_cpu_s": statistics.median(x["steps_per_cpu_s"] for x in rates),
                "runs": rates,
            }
        )
        print(f"throughput preset, {label}: {throughput[-1]['steps_per_s']:.0f} steps/s")
    path = write_results(
        "throughput",
        {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "load_average": round(os.getloadavg()[0], 2),
            "env_id": THROUGHPUT_ENV,
            "steps": throughput_steps,
            "repeats": repeats,
            "cases": throughput,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
