"""Rebuild report.html of a run folder from the folder alone.

    agentgym report runs/20261122-101500-train-Reach

Reads config.yaml, manifest.json, logs/metrics.jsonl and videos/ (and, for a population
run, every member under members/, whose reports are rebuilt first).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "rebuild report.html of a run folder"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run folder (holding config.yaml)")
    parser.add_argument(
        "--out",
        default=None,
        help="write the page here instead of RUN_DIR/report.html (a folder: OUT/report.html; "
        "missing folders are made)",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from agentgym.runs.report import build_report
    from agentgym.runs.rundir import RunDir, RunNotFoundError

    console = Console(soft_wrap=True)
    try:
        run_dir = RunDir.open(args.run_dir)
    except RunNotFoundError as err:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(err))}")
        return 2
    out = Path(args.out) if args.out is not None else None
    if out is not None and out.is_dir():
        out = out / "report.html"
    for member in run_dir.members():
        console.print(f"member report: {build_report(member)}")
    try:
        path = build_report(run_dir, out=out)
    except OSError as err:  # a file where a folder should be, no permission, a full disk
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] --out: {escape(str(err))}")
        return 2
    console.print(f"report: {path}")
    return 0
