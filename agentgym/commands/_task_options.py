"""The options that describe a user's own env on the command line (``--task task.yaml``, or
``--env BASE --instruction ... --success ...``), shared by check, train and the reward
commands. ``apply`` registers the described task and points the command's env at it."""

from __future__ import annotations

import argparse
from pathlib import Path

DEST = "_task_env_dest"


def add_task_options(parser: argparse.ArgumentParser, env_dest: str) -> None:
    """Add --task, --instruction, --success, --fitness, --state; ``env_dest`` is the
    attribute the command reads its env id from."""
    group = parser.add_argument_group(
        "your own env (any Gymnasium id, described here; see agentgym.describe)"
    )
    group.add_argument(
        "--task",
        type=Path,
        default=None,
        metavar="YAML",
        help="a task file: base, instruction, success, and optionally state, fitness, id",
    )
    group.add_argument(
        "--instruction",
        default=None,
        help="what the agent should do; with it, the env id names the base env to describe",
    )
    group.add_argument(
        "--success",
        default=None,
        help='info:KEY, or a batched expression over state["NAME"] and torch',
    )
    group.add_argument(
        "--fitness", default=None, help="like --success; higher is better (default: success)"
    )
    group.add_argument(
        "--state",
        nargs="+",
        default=None,
        metavar="[NAME=]SELECTOR",
        help="state variables, e.g. puck=body:object joint:slide_x (default: every body, joint)",
    )
    parser.set_defaults(**{DEST: env_dest})


def _state(items: list[str]) -> list[list[str]]:
    pairs = []
    for item in items:
        name, sep, selector = item.partition("=")
        pairs.append([name, selector] if sep else ["", item])
    return pairs


def apply(args: argparse.Namespace) -> None:
    """Register the task the options describe (if any) and set the command's env id to it.
    Raises ValueError naming the option at fault."""
    dest = getattr(args, DEST, None)
    if dest is None:
        return
    from agentgym.describe import DescribedTask, register

    env = getattr(args, dest, None)
    inline = {
        "instruction": args.instruction,
        "success": args.success,
        "fitness": args.fitness,
        "state": None if args.state is None else _state(args.state),
    }
    given = {k: v for k, v in inline.items() if v is not None}
    if args.task is not None:
        data = DescribedTask.from_yaml(args.task).to_dict()
        if env is not None:
            data["base"] = env  # --env overrides the file's base
        task = DescribedTask.from_dict({**data, **given}, origin=str(args.task))
    elif given:
        for option in ("instruction", "success"):
            if option not in given:
                raise ValueError(
                    f"--{option}: a described env needs --instruction and --success "
                    "(or --task FILE)"
                )
        if env is None:
            raise ValueError("--env: name the Gymnasium env to describe, e.g. --env Pusher-v5")
        task = DescribedTask.from_dict({"base": env, **given}, origin="the command line")
    else:
        return
    setattr(args, dest, register(task))
