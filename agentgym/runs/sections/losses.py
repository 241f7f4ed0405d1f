"""Losses and KL: the optimiser's view of training (PPO's KL and clipping, SAC's entropy
coefficient and Q values; a panel shows when its metric was logged)."""

from __future__ import annotations

from agentgym.runs.metrics import series
from agentgym.runs.report import ReportContext, Section

PANELS = (
    ("policy loss", "loss/policy"),
    ("value loss", "loss/value"),
    ("entropy", "loss/entropy"),
    ("approximate KL", "approx_kl"),
    ("clip fraction", "clipfrac"),
    ("learning rate", "learning_rate"),
    ("entropy coefficient (alpha)", "alpha"),
    ("entropy coefficient loss", "loss/alpha"),
    ("Q value (min of twins)", "q_value"),
)


def build(ctx: ReportContext) -> Section | None:
    plots = [
        ctx.plot({title: series(ctx.rows, key)}, title=title, ylabel=key) for title, key in PANELS
    ]
    plots = [p for p in plots if p]
    if not plots:
        return None
    return Section("Losses and KL", '<div class="grid">' + "".join(plots) + "</div>", order=50)
