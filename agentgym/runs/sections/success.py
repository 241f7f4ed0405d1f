"""Success rate (the task's own success flag, in training and in evaluation) and the
evaluation task fitness (``TaskSpec.fitness``, the continuous score that breaks ties)."""

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
    img += ctx.plot(
        {"evaluation": series(ctx.rows, "eval/fitness")},
        title="Task fitness (the env's TaskSpec.fitness, mean over evaluation episodes)",
        ylabel="fitness",
    )
    if not img:
        return None
    return Section("Success rate", img, order=30)
