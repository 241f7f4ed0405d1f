"""Population: the members of a population run side by side, with links to their reports."""

from __future__ import annotations

from agentgym.runs.metrics import last_value, series
from agentgym.runs.report import Html, ReportContext, Section


def build(ctx: ReportContext) -> Section | None:
    members = ctx.run.members()
    if not members:
        return None
    head = (
        "member",
        "reward",
        "seed",
        "status",
        "eval success",
        "eval return",
        "train success",
        "train return",
    )
    rows: list[list[object]] = []
    returns, successes = {}, {}
    for member in members:
        config = member.read_config()
        manifest = member.read_manifest()
        metrics = member.metrics()
        name = member.path.name
        report = member.report_path
        link = Html(ctx.escape(name))
        if report.is_file():
            link = Html(f'<a href="{ctx.escape(ctx.run.relative(report))}">{link}</a>')
        rows.append(
            [
                link,
                config.get("config", {}).get("reward"),
                config.get("config", {}).get("seed"),
                manifest.get("status"),
                last_value(metrics, "eval/success_rate"),
                last_value(metrics, "eval/mean_return"),
                last_value(metrics, "success_rate"),
                last_value(metrics, "episode_return"),
            ]
        )
        returns[name] = series(metrics, "episode_return")
        successes[name] = series(metrics, "success_rate")
    table = ctx.table(rows, head, keys=False, digits=3)
    plots = ctx.plot(returns, title="Episode return by member", ylabel="return (env reward)")
    plots += ctx.plot(successes, title="Success rate by member", ylabel="fraction of episodes")
    note = (
        "<p>Each member trains on its own reward; returns are of the env's own reward, so "
        "they compare across members, as the success rate does.</p>"
    )
    return Section("Population", table + note + plots, order=15)
