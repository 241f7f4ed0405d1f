"""Rebuild report.html of a run folder from the folder alone.

    agentgym report runs/20261122-101500-train-Reach

Reads config.yaml, manifest.json, logs/metrics.jsonl and videos/ (and, for a population
run, every member under members/, whose reports are rebuilt first).
"""

from __future__ import annotations

import argparse

HELP = "rebuild report.html of a run folder"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run folder (holding config.yaml)")
    parser.add_argument(
        "--out", default=None, help="write the page here instead of RUN_DIR/report.html"
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
    for member in run_dir.members():
        console.print(f"member report: {build_report(member)}")
    console.print(f"report: {build_report(run_dir, out=args.out)}")
    return 0
