"""The main job on the embedded defaults (``make demo``).

For now: check the Reach task against the contract and render a frame into a report
folder. (Training and reward synthesis take over as the learner and designers land.)
"""

from __future__ import annotations

import argparse

HELP = "run the demo: check agentgym/Reach-v0 and write a report folder"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="agentgym/Reach-v0", help="env id")
    parser.add_argument("--out", default=None, help="run folder (default runs/<date>-demo-<env>)")


def run(args: argparse.Namespace) -> int:
    import datetime as dt
    import html
    from pathlib import Path

    import gymnasium as gym
    import imageio
    from rich.console import Console

    import agentgym  # noqa: F401
    from agentgym.checks import check

    console = Console()
    name = args.env.split("/")[-1].split("-v")[0]
    out = Path(args.out or f"runs/{dt.datetime.now():%Y%m%d-%H%M%S}-demo-{name}")
    out.mkdir(parents=True, exist_ok=True)
    report = check(args.env)
    for r in report.results:
        console.print(f"{'[green]PASS' if r.ok else '[red]FAIL'}[/] {r.name}: {r.detail}")
    env = gym.make(args.env, render_mode="rgb_array")
    env.reset(seed=0)
    imageio.imwrite(out / "frame.png", env.render())
    env.close()
    rows = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{'pass' if r.ok else 'FAIL'}</td>"
        f"<td>{html.escape(r.detail)}</td></tr>" for r in report.results
    )
    (out / "report.html").write_text(
        f"<html><body><h1>agentgym demo: {html.escape(args.env)}</h1>"
        f"<table>{rows}</table><img src='frame.png'></body></html>"
    )
    console.print(f"report: {out / 'report.html'}")
    return 0 if report.ok else 1
