"""The main job on the embedded defaults (``make demo``).

Trains agentgym's PPO on agentgym/Reach-v0 with the human reward program
(reward_designers/library/reach.py), evaluates it (with a video), writes the run folder
and its report.html, and prints where the report is. It opens nothing.

``run_demo`` is the job as a function; later features (reward synthesis) extend it by
adding steps before or after training, or replace its reward with a designed one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "train PPO on agentgym/Reach-v0 with the human reward and write a report"

DEMO_ENV = "agentgym/Reach-v0"
DEMO_STEPS = 200_000
"""With DEMO_CONFIG, PPO reached 95% evaluation success on Reach at 200k steps (80% at
150k, 55% at 100k; seed 0). PPOConfig's defaults reach ~0% at 120k, as does SB3's PPO."""

DEMO_CONFIG = {
    "num_envs": 16,
    "num_steps": 64,
    "learning_rate": 1e-3,
    "gamma": 0.95,  # 50-step episodes: a shorter horizon learns the reach faster
    "init_log_std": -0.5,  # std 0.6: fewer actions clipped at the [-1, 1] bounds
    "eval_episodes": 20,
}
"""PPOConfig fields of the demo, other than the env, reward, steps and seed."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=DEMO_ENV, help=f"env id (default: {DEMO_ENV})")
    parser.add_argument(
        "--reward",
        default=None,
        help="reward spec (default: the env's human reward program from the library)",
    )
    parser.add_argument(
        "--steps", type=int, default=DEMO_STEPS, help=f"env steps (default: {DEMO_STEPS})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--out", default=None, help="run folder (default: runs/<date>-demo-<env>)")


def human_reward(env_id: str) -> str:
    """The path of the library's human reward program for ``env_id``."""
    from agentgym.reward_designers.library import program_path
    from agentgym.runs.rundir import env_short_name

    return str(program_path(env_short_name(env_id)))


def run_demo(
    *,
    env_id: str = DEMO_ENV,
    reward: str | None = None,
    steps: int = DEMO_STEPS,
    seed: int = 0,
    out: str | Path | None = None,
    callback: Any = None,
    **overrides: Any,
) -> tuple[Any, dict[str, Any]]:
    """Train, evaluate and report; returns (RunDir, final metrics).

    ``overrides`` are further PPOConfig fields (tests use a tiny budget).
    """
    from agentgym.runs.training import renders, start_training_run, train_run

    values = {
        "env_id": env_id,
        "total_steps": steps,
        "seed": seed,
        **DEMO_CONFIG,
        "video": renders(env_id),
        **overrides,
    }
    run = start_training_run(
        learner="ppo",
        values=values,
        rewards=[reward or human_reward(env_id)],
        out=out,
        command="demo",
    )
    final = train_run(run, callback)
    return run, final


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console
    from rich.markup import escape

    from agentgym.commands.train import TrainProgress
    from agentgym.registry import UnknownNameError

    console = Console(soft_wrap=True)
    console.print(
        f"demo: PPO on {args.env} with {args.reward or 'the human reward program'}, "
        f"{args.steps:,} steps"
    )
    try:
        with TrainProgress(console, args.steps) as progress:
            run_dir, final = run_demo(
                env_id=args.env,
                reward=args.reward,
                steps=args.steps,
                seed=args.seed,
                out=args.out,
                callback=progress.update,
            )
    except (
        ValueError,
        UnknownNameError,
        gym.error.Error,
        FileNotFoundError,
        FileExistsError,
    ) as err:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(err))}")
        return 2
    success = final.get("eval/success_rate")
    if success is not None:
        episodes = run_dir.read_config()["config"]["eval_episodes"]
        console.print(f"evaluation success rate: {success:.0%} over {episodes} episodes")
    console.print(f"report: {run_dir.report_path}")
    return 0
