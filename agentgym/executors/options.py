"""``--executor local|ray`` and the Ray task's resources, shared by the reward commands."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentgym.executors import Executor


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Where candidates train: this machine (default) or a Ray cluster (docs/ray.md)."""
    group = parser.add_argument_group("executor (docs/ray.md)")
    group.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: sandbox workers on this machine; ray: one Ray task per candidate, "
        "each starting the same sandbox worker on a node of a cluster",
    )
    group.add_argument(
        "--ray-address",
        default=None,
        help="the cluster to join (e.g. 10.0.0.1:6379; default $AGENTGYM_RAY_ADDRESS, else "
        "a Ray instance on this machine)",
    )
    group.add_argument("--ray-cpus", type=float, default=None, help="CPUs per task (default 1)")
    group.add_argument(
        "--ray-gpus", type=float, default=None, help="GPUs per task, fractions allowed (default 0)"
    )
    group.add_argument(
        "--ray-memory-mb", type=int, default=None, help="memory reserved per task (default 2048)"
    )
    group.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local: sandbox workers at once; a population's members split over them "
        "(default: one per CPU core)",
    )


def executor_from_args(args: argparse.Namespace) -> Executor:
    """The executor the flags ask for; ValueError naming the flag for a bad combination."""
    from agentgym.executors import Resources, make_executor

    asked = {
        name: value
        for name, value in (
            ("cpus", args.ray_cpus),
            ("gpus", args.ray_gpus),
            ("memory_mb", args.ray_memory_mb),
        )
        if value is not None
    }
    resources = Resources(**asked) if asked else None
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise ValueError(f"--workers: expected an integer >= 1, got {workers}")
    return make_executor(args.executor, args.ray_address, resources, workers)
