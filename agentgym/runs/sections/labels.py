"""LLM labels: what the labelled rewards (``oni:``, ``subgoals:``) asked their LLM, how
fast it answered, what was dropped, and how well ONI's classifier predicts held-out labels."""

from __future__ import annotations

import html

from agentgym.runs.metrics import last_value, metric_keys, series
from agentgym.runs.report import ReportContext, Section

PREFIXES = ("oni/", "subgoals/")
PANELS = (
    ("labels made", "oni/labels_made"),
    ("label latency (s, from queueing to answer)", "oni/label_latency_s"),
    ("queue depth", "oni/queue_depth"),
    ("dropped (queue full)", "oni/dropped"),
    ("classifier accuracy on held-out labels", "oni/classifier_accuracy"),
    ("subgoal bonuses paid", "subgoals/bonuses_paid"),
    ("subgoal proposals", "subgoals/proposals"),
)


def build(ctx: ReportContext) -> Section | None:
    keys = [k for prefix in PREFIXES for k in metric_keys(ctx.rows, prefix)]
    if not keys:
        return None
    cells = []
    for key in keys:
        value = last_value(ctx.rows, key)
        shown = "-" if value is None or value != value else f"{value:.4g}"
        cells.append(f"<tr><td>{html.escape(key)}</td><td>{shown}</td></tr>")
    table = "<table><tr><th>statistic</th><th>at the end</th></tr>" + "".join(cells) + "</table>"
    plots = [
        ctx.plot(
            {title: series(ctx.rows, key)}, title=title, ylabel=key, xlabel="environment steps"
        )
        for title, key in PANELS
        if key in keys
    ]
    intro = (
        "<p>The LLM-labelled rewards' own statistics (counts are totals so far). Labels "
        "arrive asynchronously: a step never waits for one, and a full queue drops the "
        "caption until it is seen again.</p>"
    )
    grid = '<div class="grid">' + "".join(p for p in plots if p) + "</div>"
    return Section("LLM labels", intro + table + grid, order=45)
