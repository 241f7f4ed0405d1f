"""Success rate: the task's own success flag, in training and in evaluation."""

from __future__ import annotations

from agentgym.runs.metrics import series
from agentgym.runs.report import ReportContext, Section


def build(ctx: ReportContext) -> Section | None:
    img = ctx.plot(
        {
            "training episodes": series(ctx.rows, "success_rate"),
            "evaluation": series(ctx.rows, "eval/success_rate"),
        },
        title="Success rate",
        ylabel="fraction of episodes",
    )
    if not img:
        return None
    return Section("Success rate", img, order=30)
