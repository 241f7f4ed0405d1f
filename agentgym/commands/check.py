"""Check an env against the agentgym contract: Gymnasium's check_env, a seeded
determinism rollout, a pickle round trip, reward == sum of reward terms, reward_state
shapes == TaskSpec and, for ids with a native vector env, make_vec and a seeded vector
rollout. Exits non-zero when any check fails."""

from __future__ import annotations

import argparse

HELP = "check an env against Gymnasium's API and the agentgym contract"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env_id", help="e.g. agentgym/Reach-v0")
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        help="run only these checks: check_env, determinism, pickle, contract, vector",
    )


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console

    import agentgym  # noqa: F401
    from agentgym.env_checker import check

    console = Console()
    try:
        report = check(args.env_id, args.only)
    except (gym.error.Error, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    for r in report.results:
        mark = "[green]PASS[/green]" if r.ok else "[red]FAIL[/red]"
        console.print(f"{mark} {r.name}: {r.detail}")
    return 0 if report.ok else 1
