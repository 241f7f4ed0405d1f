"""Learning curve: episode return over training, and evaluation returns."""

from __future__ import annotations

from agentgym.runs.metrics import series
from agentgym.runs.report import ReportContext, Section


def build(ctx: ReportContext) -> Section | None:
    img = ctx.plot(
        {
            "training episodes": series(ctx.rows, "episode_return"),
            "evaluation": series(ctx.rows, "eval/mean_return"),
        },
        title="Episode return",
        ylabel="return (env reward)",
    )
    if not img:
        return None
    return Section("Learning curve", img, order=20)
