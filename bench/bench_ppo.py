"""Our PPO against stable-baselines3's PPO at equal hyper-parameters, in one process.

Both learners get the same env, vector size (sync), rollout length, epochs, minibatch size,
network (64-64 tanh actor and critic), optimiser settings, torch thread count and step
budget; normalisation, learning-rate annealing and value clipping are off in both (SB3's
defaults). Runs alternate (ours, SB3, ours, SB3, ...) so that a busy shared machine slows
both alike, and the median of the repeats is reported. Results go to
``bench/results/ppo.json`` and ``bench/results/ppo.md`` with the machine's description.

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
NUM_STEPS = 256  # per env: 8 envs x 256 = SB3's default 2048-step rollout
MINIBATCH = 64  # SB3's default batch_size
EPOCHS = 10
THREADS = 1
CASES = [  # (env id, vector size)
    ("HalfCheetah-v5", 8),
    ("agentgym/Reach-v0", 8),
    ("CartPole-v1", 8),
]


def _ours(env_id: str, num_envs: int, steps: int, seed: int) -> float:
    from agentgym.learners.ppo import PPO, PPOConfig

    config = PPOConfig(
        env_id=env_id,
        num_envs=num_envs,
        num_steps=NUM_STEPS,
        total_steps=steps,
        seed=seed,
        num_minibatches=num_envs * NUM_STEPS // MINIBATCH,
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
    )
    agent = PPO(config)
    start = time.perf_counter()
    agent.learn()
    elapsed = time.perf_counter() - start
    done = agent.global_step
    agent.close()
    return done / elapsed


def _sb3(env_id: str, num_envs: int, steps: int, seed: int) -> float:
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
        n_steps=NUM_STEPS,
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
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    elapsed = time.perf_counter() - start
    done = model.num_timesteps
    envs.close()
    return done / elapsed


def write_results(section: str, data: Any) -> Path:
    """Merge ``data`` under ``section`` into ppo.json and regenerate ppo.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "ppo.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[section] = data
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
            f"alternating runs; rollout {s['num_steps']} x envs, minibatch {s['minibatch']}, "
            f"{s['epochs']} epochs, 64-64 tanh, {s['threads']} torch thread(s), load average "
            f"at start {speed.get('load_average')}.",
            "",
            "| env | envs | agentgym steps/s | SB3 steps/s | ratio |",
            "|---|---|---|---|---|",
        ]
        for c in speed["cases"]:
            lines.append(
                f"| {c['env_id']} | {c['num_envs']} | {c['ours_steps_per_s']:.0f} | "
                f"{c['sb3_steps_per_s']:.0f} | {c['ratio']:.2f}x |"
            )
        lines.append("")
    pop = results.get("population")
    if pop:
        lines += [
            f"## Population ({pop['date']})",
            "",
            f"{pop['members']} members on {pop['env_id']}, {pop['steps_per_member']} steps each, "
            f"median of {pop.get('repeats', 1)} alternating runs: population "
            f"{pop['population_s']:.1f} s, {pop['members']} sequential single runs "
            f"{pop['sequential_s']:.1f} s, speed-up **{pop['ratio']:.2f}x** (load average at "
            f"start {pop.get('load_average')}; the envs' own stepping is the same in both and "
            "bounds the gain).",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    steps = int(os.environ.get("AGENTGYM_BENCH_STEPS", 8 * NUM_STEPS * 8))
    repeats = int(os.environ.get("AGENTGYM_BENCH_REPEATS", 3))
    cases = []
    for env_id, num_envs in CASES:
        ours, sb3 = [], []
        for r in range(repeats):
            ours.append(_ours(env_id, num_envs, steps, seed=r))
            sb3.append(_sb3(env_id, num_envs, steps, seed=r))
        case = {
            "env_id": env_id,
            "num_envs": num_envs,
            "ours_steps_per_s": statistics.median(ours),
            "sb3_steps_per_s": statistics.median(sb3),
            "ours_runs": ours,
            "sb3_runs": sb3,
        }
        case["ratio"] = case["ours_steps_per_s"] / case["sb3_steps_per_s"]
        cases.append(case)
        print(
            f"{env_id:20s} ours {case['ours_steps_per_s']:8.0f}  sb3 {case['sb3_steps_per_s']:8.0f}"
            f"  ratio {case['ratio']:.2f}x",
            flush=True,
        )
    path = write_results(
        "speed",
        {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "load_average": round(os.getloadavg()[0], 2),
            "settings": {
                "steps": steps,
                "repeats": repeats,
                "num_steps": NUM_STEPS,
                "minibatch": MINIBATCH,
                "epochs": EPOCHS,
                "threads": THREADS,
                "vectorization": "sync (SB3 DummyVecEnv)",
            },
            "cases": cases,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
