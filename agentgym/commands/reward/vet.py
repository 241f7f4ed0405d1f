"""Vet a reward program for an env: static checks (imports, names, signature) and a dry
run on recorded states of the env inside a sandboxed worker (shape [N], floating dtype,
finite values, named components, time limit).

Exit status: 0 when the program passes, 1 when it is rejected (the code and the message
are printed), 2 when the file or the env does not exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "vet a reward program (static checks + sandboxed dry run on recorded states)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", type=Path, help="Python file defining compute_reward(state, action)"
    )
    from agentgym.commands._task_options import add_task_options

    parser.add_argument(
        "--env",
        default=None,
        help="env id whose recorded states it runs on, e.g. agentgym/Reach-v0",
    )
    add_task_options(parser, "env")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="wall-clock seconds for the dry run, worker start-up included",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from agentgym.sandbox import vet

    err = Console(stderr=True, soft_wrap=True)
    if args.file.is_dir():
        err.print(
            f"[red]error:[/red] FILE: {escape(str(args.file))} is a directory; expected a .py "
            "file defining compute_reward(state, action)"
        )
        return 2
    if not args.file.is_file():
        err.print(f"[red]error:[/red] FILE: {escape(str(args.file))} does not exist")
        return 2
    if args.env is None:
        err.print("[red]error:[/red] --env: an env id is required (or --task FILE)")
        return 2
    source = args.file.read_text(errors="replace")
    try:
        result = vet(source, args.env, timeout_s=args.timeout)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --env: {escape(str(exc))}")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict()) + "\n")
        return 0 if result.ok else 1
    out = Console(soft_wrap=True)
    if result.ok:
        out.print(
            f"[green]PASS[/green] {escape(str(args.file))} on {escape(args.env)} "
            f"(isolation: {result.isolation}, {result.wall_s:.1f} s)"
        )
        for name, s in result.stats.items():
            out.print(
                f"  {escape(name):<20} mean {s['mean']:+.4g}  std {s['std']:.4g}  "
                f"min {s['min']:+.4g}  max {s['max']:+.4g}"
            )
        return 0
    out.print(f"[red]REJECTED[/red] {result.code}: {escape(result.message)}")
    return 1
