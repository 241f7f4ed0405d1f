"""Our SAC against stable-baselines3's SAC at equal settings, in one process.

Both get SB3's SAC defaults: one env, 256-256 ReLU actor and twin critics, batch 256,
Adam 3e-4 for actor, critics and the entropy coefficient (initial 1.0, target entropy
-dim(A)), tau 0.005, gamma 0.99, one gradient step per env step, a 1e6 replay buffer;
learning_starts 1000 (our default) in both, one torch thread, CPU, the same step budget.

- speed: Pendulum-v1 and agentgym/Reach-v0, runs of 3000 steps (1000 random, 2000 with a
  gradient step each), in pairs run back to back so both runs of a pair see the same load;
- learning: Pendulum-v1 for a short budget (10k steps by default; SAC needs ~20k to
  settle), from 3 seeds, evaluated by the same deterministic 10 episodes for both.

Results go to ``bench/results/sac.json`` and ``bench/results/sac.md`` with the machine's
description and load average.

    python -m bench sac
    AGENTGYM_BENCH_SAC_STEPS=3000 AGENTGYM_BENCH_REPEATS=1 AGENTGYM_BENCH_PAIRS=1 python -m bench sac
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
THREADS = 1
LEARNING_STARTS = 1000
EVAL_EPISODES = 10
EVAL_SEED = 10_000


def _ours(
    env_id: str, steps: int, seed: int, compile: bool = False
) -> tuple[float, dict[str, Any]]:
    """(steps/s of training, deterministic evaluation) of our SAC; ``compile``: with the
    compiled gradient step (compiled before the clock starts, by a short warm-up run)."""
    from agentgym.learners.sac import SAC, SACConfig

    if compile:
        warm = SAC(
            SACConfig(
                env_id=env_id,
                total_steps=LEARNING_STARTS + 2,
                learning_starts=LEARNING_STARTS,
                eval_episodes=0,
                checkpoint_every=0,
                device="cpu",
                torch_threads=THREADS,
                compile=True,
            )
        )
        warm.learn()
        warm.close()
    config = SACConfig(
        compile=compile,
        env_id=env_id,
        total_steps=steps,
        num_envs=1,
        learning_starts=LEARNING_STARTS,
        eval_episodes=0,
        checkpoint_every=0,
        seed=seed,
        device="cpu",
        torch_threads=THREADS,
    )
    agent = SAC(config)
    start = time.perf_counter()
    agent.learn()
    elapsed = time.perf_counter() - start
    result = agent.evaluate(EVAL_EPISODES, EVAL_SEED)
    done = agent.global_step
    agent.close()
    return done / elapsed, result


def _sb3(env_id: str, steps: int, seed: int) -> tuple[float, dict[str, Any]]:
    """(steps/s of training, deterministic evaluation) of stable-baselines3's SAC."""
    import torch
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import Logger

    import agentgym  # noqa: F401  (registers agentgym/ ids)
    from agentgym.learners.evaluate import run_episodes

    torch.set_num_threads(THREADS)
    envs = make_vec_env(env_id, n_envs=1, seed=seed)
    model = SB3SAC(
        "MlpPolicy",
        envs,
        learning_rate=3e-4,
        buffer_size=1_000_000,
        learning_starts=LEARNING_STARTS,
        batch_size=256,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        ent_coef="auto",
        target_entropy="auto",
        seed=seed,
        device="cpu",
        policy_kwargs={"net_arch": [256, 256]},
    )
    # SB3's default logger writes nothing at verbose=0 but still makes <tmp>/SB3-<time>.
    model.set_logger(Logger(folder=None, output_formats=[]))
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    elapsed = time.perf_counter() - start
    done = model.num_timesteps
    envs.close()

    def policy(obs):
        return model.predict(obs, deterministic=True)[0]

    return done / elapsed, run_episodes(env_id, policy, EVAL_EPISODES, EVAL_SEED)


def _learning(env_id: str, steps: int, seeds: int) -> dict[str, Any]:
    """Both learners for ``steps`` steps from each seed; evaluation returns (and speeds)."""
    case: dict[str, Any] = {"env_id": env_id, "steps": steps, "seeds": list(range(seeds))}
    runs: dict[str, list[tuple[float, dict[str, Any]]]] = {"ours": [], "sb3": []}
    for seed in range(seeds):
        runs["ours"].append(_ours(env_id, steps, seed))
        runs["sb3"].append(_sb3(env_id, steps, seed))
    for name, results in runs.items():
        case[f"{name}_steps_per_s"] = [speed for speed, _ in results]
        case[f"{name}_eval_returns"] = [r["mean_return"] for _, r in results]
        case[f"{name}_eval_mean_return"] = statistics.mean(r["mean_return"] for _, r in results)
        if all("success_rate" in r for _, r in results):
            case[f"{name}_eval_success_rate"] = statistics.mean(
                r["success_rate"] for _, r in results
            )
    print(
        f"learning {env_id} {steps} steps x {seeds} seeds: eval return ours "
        f"{case['ours_eval_mean_return']:.1f}, sb3 {case['sb3_eval_mean_return']:.1f}",
        flush=True,
    )
    return case


def _speed(env_id: str, steps: int, pairs: int) -> dict[str, Any]:
    """Pairs of back-to-back runs (order alternating), so that both runs of a pair see the
    same load on a shared machine; the median of the pairs' ratios is the headline."""
    ours, sb3, compiled = [], [], []
    for i in range(pairs):
        first, second = (_ours, _sb3) if i % 2 == 0 else (_sb3, _ours)
        a, b = first(env_id, steps, i)[0], second(env_id, steps, i)[0]
        ours.append(a if first is _ours else b)
        sb3.append(b if first is _ours else a)
        compiled.append(_ours(env_id, steps, i, compile=True)[0])
    ratios = [o / s for o, s in zip(ours, sb3, strict=True)]
    compiled_ratios = [c / s for c, s in zip(compiled, sb3, strict=True)]
    case = {
        "env_id": env_id,
        "steps": steps,
        "pairs": pairs,
        "ours_steps_per_s": statistics.median(ours),
        "sb3_steps_per_s": statistics.median(sb3),
        "ratio": statistics.median(ratios),
        "compiled_steps_per_s": statistics.median(compiled),
        "compiled_ratio": statistics.median(compiled_ratios),
        "compiled_runs": compiled,
        "ours_runs": ours,
        "sb3_runs": sb3,
        "ratios": ratios,
    }
    print(
        f"speed {env_id} {steps} steps x {pairs} pairs: ours {case['ours_steps_per_s']:.1f}, "
        f"sb3 {case['sb3_steps_per_s']:.1f} steps/s, ratio {case['ratio']:.2f}x; compiled "
        f"{case['compiled_steps_per_s']:.1f} steps/s, {case['compiled_ratio']:.2f}x",
        flush=True,
    )
    return case


def render_markdown(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    lines = [
        "# SAC: agentgym vs stable-baselines3",
        "",
        f"Machine: {m.get('cpu')} ({m.get('cores')} cores), GPU: {m.get('gpu') or 'none'}, "
        f"torch {m.get('torch')}, Python {m.get('python')}. Measured {results['date']}; load "
        f"average {results['load_average_start']} at the start, {results['load_average_end']} "
        "at the end (a shared machine, other jobs running).",
        "",
        f"Settings, equal in both: {results['settings']}.",
        "",
        "## Speed",
        "",
        "Env steps per second of training (evaluation excluded), each run "
        f"{results['speed'][0]['steps']} steps ({LEARNING_STARTS} random, then one gradient "
        "step per env step); pairs of back-to-back runs in alternating order, each pair "
        "followed by a run with the compiled gradient step (`--compile`, compiled before the "
        "clock starts); the medians, and the median of the ratios to the pair's SB3 run.",
        "",
        "| env | pairs | agentgym steps/s | agentgym compiled | SB3 steps/s | ratio | "
        "compiled ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in results["speed"]:
        compiled = c.get("compiled_steps_per_s")
        lines.append(
            f"| {c['env_id']} | {c['pairs']} | {c['ours_steps_per_s']:.1f} | "
            + (f"{compiled:.1f}" if compiled else "-")
            + f" | {c['sb3_steps_per_s']:.1f} | {c['ratio']:.2f}x | "
            + (f"{c['compiled_ratio']:.2f}x |" if compiled else "- |")
        )
    lines += [
        "",
        "## Learning (a short budget)",
        "",
        f"Deterministic evaluation after the budget: {EVAL_EPISODES} episodes, reset seeds "
        f"{EVAL_SEED}..{EVAL_SEED + EVAL_EPISODES - 1}, the same for both; the mean over seeds "
        "(per-seed values in sac.json). The budget is short: SAC usually needs ~20k steps to "
        "settle on Pendulum.",
        "",
        "| env | steps | seeds | agentgym eval return | SB3 eval return |",
        "|---|---|---|---|---|",
    ]
    for c in results["learning"]:
        lines.append(
            f"| {c['env_id']} | {c['steps']} | {len(c['seeds'])} | "
            f"{c['ours_eval_mean_return']:.1f} | {c['sb3_eval_mean_return']:.1f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    seeds = int(os.environ.get("AGENTGYM_BENCH_REPEATS", 3))
    pairs = int(os.environ.get("AGENTGYM_BENCH_PAIRS", 5))
    steps = int(os.environ.get("AGENTGYM_BENCH_SAC_STEPS", 10_000))
    speed_steps = LEARNING_STARTS + 2_000
    load_start = round(os.getloadavg()[0], 2)
    date = time.strftime("%Y-%m-%d %H:%M")
    speed = [_speed(env_id, speed_steps, pairs) for env_id in ("Pendulum-v1", "agentgym/Reach-v0")]
    learning = [_learning("Pendulum-v1", steps, seeds)]
    results = {
        "date": date,
        "load_average_start": load_start,
        "load_average_end": round(os.getloadavg()[0], 2),
        "machine": machine_info(),
        "settings": (
            f"1 env, 256-256 ReLU, batch 256, lr 3e-4, tau 0.005, gamma 0.99, 1 gradient step "
            f"per env step, buffer 1e6, learning_starts {LEARNING_STARTS}, entropy coefficient "
            f"auto from 1.0 (target -dim(A)), {THREADS} torch thread(s), CPU"
        ),
        "speed": speed,
        "learning": learning,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "sac.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "sac.md").write_text(render_markdown(results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
