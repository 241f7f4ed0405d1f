"""Record demonstrations of an env's expert (BabyAI's bot, the household planner, the
scripted solvers of web and tool tasks) as JSON lines, one episode per line, and report
the expert's success rate.

Each line holds env_id, seed, instruction, steps (observation, action, reward,
action_valid, admissible_actions), final_observation, success, return, length and
truncated. Episode i uses seed SEED + i, so a file is reproducible.

Example: agentgym record --env agentgym/Household-v0 --episodes 100 --out household.jsonl
"""

from __future__ import annotations

import argparse

HELP = "record expert demonstrations of a text, web or tool env as JSONL"
DEPRECATED_ALIASES = ("demos",)  # its name until 0.1; 'demo' is the main job


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, dest="env_id", help="e.g. agentgym/BabyAI-GoTo-v0")
    parser.add_argument("--episodes", type=int, default=10, help="number of episodes (default 10)")
    parser.add_argument("--out", required=True, help="the JSONL file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default 0)")
    parser.add_argument(
        "--only-success", action="store_true", help="write only the episodes the expert solved"
    )


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import gymnasium as gym
    from rich.console import Console

    import agentgym  # noqa: F401  (registers the envs)
    from agentgym.text_env import expert_episode, expert_of

    console = Console(stderr=True)
    if args.episodes < 1:
        console.print(f"[red]error:[/red] --episodes must be at least 1, got {args.episodes}")
        return 2
    try:
        env = gym.make(args.env_id)
    except gym.error.Error as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    try:
        expert_of(env)
    except TypeError as err:
        env.close()
        console.print(f"[red]error:[/red] {err}")
        return 2

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    solved, written, steps = 0, 0, 0
    try:
        with out.open("w", encoding="utf-8") as f:
            for i in range(args.episodes):
                record = expert_episode(env, seed=args.seed + i)
                solved += record["success"]
                steps += record["length"]
                if record["success"] or not args.only_success:
                    f.write(json.dumps(record) + "\n")
                    written += 1
    finally:
        env.close()
    rate = solved / args.episodes
    console.print(
        f"{args.env_id}: expert success {solved}/{args.episodes} ({rate:.1%}), "
        f"{steps / args.episodes:.1f} steps per episode; wrote {written} episodes to {out}"
    )
    return 0
