"""Reward terms: each named component of the training reward, and the env's own reward."""

from __future__ import annotations

from agentgym.runs.metrics import metric_keys, series
from agentgym.runs.report import ReportContext, Section

PREFIX = "reward_terms/"


def build(ctx: ReportContext) -> Section | None:
    keys = metric_keys(ctx.rows, PREFIX)
    plots = [
        ctx.plot(
            {key[len(PREFIX) :]: series(ctx.rows, key)},
            title=key[len(PREFIX) :],
            ylabel="mean per step",
            xlabel="environment steps",
        )
        for key in keys
    ]
    plots.append(
        ctx.plot(
            {"env reward": series(ctx.rows, "env_reward")},
            title="the env's own reward",
            ylabel="mean per step",
        )
    )
    plots = [p for p in plots if p]
    if not plots:
        return None
    intro = (
        "<p>Each component of the training reward, averaged per step over each rollout, "
        "and the env's own reward for comparison.</p>"
    )
    return Section(
        "Reward terms", intro + '<div class="grid">' + "".join(plots) + "</div>", order=40
    )
