"""Check an env against the agentgym contract: Gymnasium's check_env, a seeded
determinism rollout, a pickle round trip, reward == sum of reward terms, reward_state
shapes == TaskSpec and, for ids with a native vector env, make_vec and a seeded vector
rollout. Exits non-zero when any check fails."""

from __future__ import annotations

import argparse

HELP = "check an env against Gymnasium's API and the agentgym contract"


def configure(parser: argparse.ArgumentParser) -> None:
    from agentgym.commands._task_options import add_task_options

    parser.add_argument(
        "env_id", nargs="?", default=None, help="e.g. agentgym/Reach-v0 (or give --task)"
    )
    add_task_options(parser, "env_id")
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
    if args.env_id is None:
        console.print("[red]error:[/red] ENV_ID: an env id is required (or --task FILE)")
        return 2
    try:
        report = check(args.env_id, args.only)
    except (gym.error.Error, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    for r in report.results:
        mark = "[green]PASS[/green]" if r.ok else "[red]FAIL[/red]"
        console.print(f"{mark} {r.name}: {r.detail}")
    return 0 if report.ok else 1
