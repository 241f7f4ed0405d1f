"""Learning curves of HalfCheetah's throughput preset against PPO at SB3's settings.

Trains agentgym/HalfCheetah-v0 with our PPO twice per seed at an equal step budget: under
the registered preset (native vector env, compiled update; envs/robotics/presets.py) and
at stable-baselines3's PPO defaults (1 env, n_steps 2048, batch 64, 10 epochs, no
normalisation or annealing). Writes episode return against env steps and each run's speed
to bench/results/half_cheetah_curves.{json,md,png}.

    python scripts/preset_curves.py --steps 300000 --seeds 0
    python scripts/preset_curves.py --seeds 0 1 2 --candidate 'mb512x5={"num_minibatches": 4, "update_epochs": 5}'
    python scripts/preset_curves.py --seeds 0 1 2 --no-sb3 --output half_cheetah_mjx \
        --candidate 'MJX physics={"vectorization": "mjx"}'

``--candidate NAME=JSON`` also trains the preset with those fields changed (repeatable):
how a preset's numbers are chosen against the registered ones, on the same seeds.
``--no-sb3`` leaves out the SB3-settings runs; ``--output STEM`` writes
``bench/results/STEM.{json,md,png}`` instead of ``half_cheetah_curves``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"
ENV_ID = "agentgym/HalfCheetah-v0"
SB3_SETTINGS: dict[str, Any] = {
    "num_envs": 1,
    "num_steps": 2048,
    "num_minibatches": 32,
    "update_epochs": 10,
    "learning_rate": 3e-4,
    "anneal_lr": False,
    "clip_vloss": False,
    "norm_obs": False,
    "norm_reward": False,
    "ent_coef": 0.0,
    "hidden_sizes": (64, 64),
    "torch_threads": 1,
    "compile": True,  # the same numbers up to float rounding, 3x faster to produce
}


def train(name: str, fields: dict[str, Any], steps: int, seed: int) -> dict[str, Any]:
    from agentgym.learners.ppo import PPO, PPOConfig

    config = PPOConfig(
        env_id=ENV_ID,
        total_steps=steps,
        seed=seed,
        eval_episodes=0,
        checkpoint_every=0,
        device="cpu",
        **fields,
    )
    points: list[tuple[int, float]] = []
    successes: list[float] = []

    def record(row: dict[str, Any]) -> None:
        if "episode_return" in row:
            points.append((int(row["step"]), float(row["episode_return"])))
        if "success_rate" in row:
            successes.append(float(row["success_rate"]))

    agent = PPO(config)
    wall, cpu = time.perf_counter(), time.process_time()
    agent.learn(callback=record)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    agent.close()
    return {
        "name": name,
        "seed": seed,
        "steps": agent.global_step,
        "wall_s": round(wall, 1),
        "steps_per_s": agent.global_step / wall,
        "steps_per_cpu_s": agent.global_step / cpu,
        "curve": points,
        "final_success": sum(successes[-5:]) / len(successes[-5:]) if successes else None,
    }


def late_return(run: dict[str, Any], fraction: float = 0.2) -> float:
    """Mean logged episode return over the run's last ``fraction`` of steps (the preset's
    64 envs finish their 1000-step episodes together, so it logs few, large points)."""
    late = [r for step, r in run["curve"] if step >= (1 - fraction) * run["steps"]]
    return sum(late) / len(late) if late else float("nan")


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    # One colour a setting, one line style a seed.
    names = list(dict.fromkeys(run["name"] for run in runs))
    seeds = sorted({run["seed"] for run in runs})
    styles = ["-", "--", ":", "-."]
    for run in runs:
        steps, returns = zip(*run["curve"], strict=True) if run["curve"] else ((), ())
        first = run["seed"] == seeds[0]
        mine = [r["steps_per_s"] for r in runs if r["name"] == run["name"]]
        label = f"{run['name']} ({sum(mine) / len(mine):.0f} steps/s, mean of {len(mine)})"
        ax.plot(
            steps,
            returns,
            color=f"C{names.index(run['name'])}",
            linestyle=styles[seeds.index(run["seed"]) % len(styles)],
            marker="o" if len(steps) < 20 else None,
            markersize=3,
            label=label if first or len(seeds) == 1 else None,
        )
    ax.set_xlabel("env steps")
    ax.set_ylabel("episode return")
    marks = ", ".join(f"seed {s} {styles[i % len(styles)]}" for i, s in enumerate(seeds))
    ax.set_title(f"PPO on {ENV_ID} ({marks})", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    from agentgym.presets import preset_for
    from agentgym.runs.manifest import machine_info

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="also train the preset with these config fields changed (repeatable)",
    )
    parser.add_argument(
        "--no-sb3", action="store_true", help="leave out the runs at SB3's settings"
    )
    parser.add_argument(
        "--output",
        default="half_cheetah_curves",
        help="file stem of the results under bench/results (default: %(default)s)",
    )
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the .md and .png from the .json"
    )
    args = parser.parse_args()
    candidates: dict[str, dict[str, Any]] = {}
    for spec in args.candidate:
        name, sep, fields = spec.partition("=")
        try:
            parsed = json.loads(fields) if sep else None
        except json.JSONDecodeError as err:
            raise SystemExit(f"--candidate {spec!r}: the fields are not JSON ({err})") from err
        if not name or not isinstance(parsed, dict):
            raise SystemExit(f"--candidate {spec!r}: expected NAME={{...config fields...}}")
        candidates[name] = parsed
    if args.render_only:
        render(json.loads((RESULTS / f"{args.output}.json").read_text()), args.output)
        return
    preset = preset_for(ENV_ID, "ppo")
    if preset is None:
        raise SystemExit(f"no preset registered for {ENV_ID}")
    load = round(os.getloadavg()[0], 2)
    runs = []
    for seed in args.seeds:
        runs.append(train("throughput preset", dict(preset.config), args.steps, seed))
        for name, fields in candidates.items():
            runs.append(train(name, {**preset.config, **fields}, args.steps, seed))
        if not args.no_sb3:
            runs.append(train("SB3 settings", SB3_SETTINGS, args.steps, seed))
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average": load,
        "machine": machine_info(),
        "preset": dict(preset.config),
        "candidates": candidates,
        "sb3_settings": None
        if args.no_sb3
        else {k: list(v) if isinstance(v, tuple) else v for k, v in SB3_SETTINGS.items()},
        "runs": runs,
    }
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    render(result, args.output)


def render(result: dict[str, Any], stem: str = "half_cheetah_curves") -> None:
    runs = result["runs"]
    plot(runs, RESULTS / f"{stem}.png")
    m = result["machine"]
    steps = max(run["steps"] for run in runs)
    seeds = sorted({run["seed"] for run in runs})
    others = [*result.get("candidates", {}), *(["SB3 settings"] if result["sb3_settings"] else [])]
    lines = [
        f"# HalfCheetah: throughput preset vs {', '.join(others)} ({result['date']})",
        "",
        f"Machine: {m.get('cpu')} ({m.get('cores')} cores, load average at the start "
        f"{result.get('load_average', 'not recorded')}), torch {m.get('torch')}. {ENV_ID}, "
        f"{steps} env steps per run, seeds {seeds}, one after the other; curve: "
        f"{stem}.png. Late return: the mean logged episode return over the "
        "last 20% of the steps. Speeds are wall/CPU time of the whole run, the compile "
        "included where inductor's cache did not hold it yet (each setting's first run).",
        "",
        f"Preset: `{json.dumps(result['preset'])}`.",
        *[
            f"Candidate {name}: the preset with `{json.dumps(fields)}`."
            for name, fields in result.get("candidates", {}).items()
        ],
        *(
            [f"SB3 settings: `{json.dumps(result['sb3_settings'])}`."]
            if result["sb3_settings"]
            else []
        ),
        "",
        "| run | seed | steps/s (wall) | steps/CPU-s | wall s | late return | success |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run['name']} | {run['seed']} | {run['steps_per_s']:.0f} | "
            f"{run['steps_per_cpu_s']:.0f} | {run['wall_s']} | {late_return(run):.0f} | "
            f"{run['final_success']} |"
        )
    names = list(dict.fromkeys(run["name"] for run in runs))
    lines += [
        "",
        "| run | seeds | mean late return | lowest | mean steps/s (wall) |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        mine = [run for run in runs if run["name"] == name]
        late = [late_return(run) for run in mine]
        speed = sum(run["steps_per_s"] for run in mine) / len(mine)
        lines.append(
            f"| {name} | {len(mine)} | {sum(late) / len(late):.0f} | {min(late):.0f} | "
            f"{speed:.0f} |"
        )
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
