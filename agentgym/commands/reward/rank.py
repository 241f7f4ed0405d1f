"""Rank an icpl run's policies: serve the ranking page on 127.0.0.1 or ask in the terminal.

    agentgym reward rank RUN                 # open the printed address, rank, save
    agentgym reward rank RUN --terminal      # the same ranking, typed in the terminal
    agentgym reward synthesize --resume RUN  # the next iteration reads the ranking

The iteration is the one the run waits for (its page exists, its ranking.json does not)
unless ``--iteration`` names another. The ranking is written atomically as
``iter_NN/ranking.json`` once it is a permutation of the iteration's trained samples.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "rank an icpl run's policies (a page on 127.0.0.1, or --terminal)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="the icpl synthesis run folder")
    parser.add_argument(
        "--iteration",
        type=int,
        default=None,
        help="the iteration to rank (default: the one the run waits for)",
    )
    parser.add_argument(
        "--terminal", action="store_true", help="rank in the terminal instead of a browser"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )


def ask_order(console: Any, iteration: int, shown: list[dict[str, Any]], page: Path) -> list[int]:
    """A person's order of ``shown`` (each trained sample's number, numbers and video),
    asked with rich's prompt until it is a permutation of the samples."""
    from rich.markup import escape
    from rich.prompt import Prompt

    from agentgym.reward_designers.icpl.ranking import check_order

    console.print(f"\n[bold]Rank the policies of iteration {iteration}[/bold] (page: {page})")
    for s in shown:
        console.print(
            f"  sample {s['index']:02d}: video {escape(s['video'] or 'none (env does not render)')}"
        )
    samples = [s["index"] for s in shown]
    while True:
        text = Prompt.ask("Sample numbers, best first, separated by spaces", console=console)
        try:
            return check_order([int(x) for x in text.replace(",", " ").split()], samples)
        except ValueError as err:
            console.print(f"[red]{escape(str(err))}[/red]")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from agentgym.reward_designers.icpl.ranking import (
        Ranking,
        page_path,
        rankable,
        resume_command,
        save_ranking,
        waiting_iteration,
    )
    from agentgym.reward_designers.icpl.server import RankingServer

    console = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    folder = Path(args.run)
    it = args.iteration if args.iteration is not None else waiting_iteration(folder)
    if it is None:
        err.print(
            f"[red]error:[/red] RUN: {escape(str(folder))} has no ranking page waiting for a "
            "ranking (an icpl run writes iter_NN/ranking.html; --iteration N ranks again)"
        )
        return 2
    if not page_path(folder, it).is_file():
        err.print(f"[red]error:[/red] --iteration: {escape(str(page_path(folder, it)))} is missing")
        return 2
    if args.terminal:
        from agentgym.reward_designers.icpl.page import video_of

        shown = [
            {"index": i, "video": str(video_of(folder, it, i) or "")} for i in rankable(folder, it)
        ]
        order = ask_order(console, it, shown, page_path(folder, it))
        saved = save_ranking(folder, Ranking(it, order, "terminal"))
    else:
        with RankingServer(folder, it, port=args.port) as server:
            console.print(
                f"rank iteration {it} at [bold]{server.url}[/bold] (Ctrl-C to stop without saving)"
            )
            saved = server.wait()
    console.print(f"saved {saved}; continue with: {escape(resume_command(folder))}")
    return 0
