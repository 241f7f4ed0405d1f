"""Population: the members of a population run side by side, with links to their reports."""

from __future__ import annotations

from agentgym.runs.metrics import last_value, series
from agentgym.runs.report import ReportContext, Section


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
    rows, returns, successes = [], {}, {}
    for member in members:
        config = member.read_config()
        manifest = member.read_manifest()
        metrics = member.metrics()
        name = member.path.name
        report = member.report_path
        link = ctx.escape(name)
        if report.is_file():
            link = f'<a href="{ctx.escape(ctx.run.relative(report))}">{link}</a>'
        cells = [
            config.get("config", {}).get("reward"),
            config.get("config", {}).get("seed"),
            manifest.get("status"),
            last_value(metrics, "eval/success_rate"),
            last_value(metrics, "eval/mean_return"),
            last_value(metrics, "success_rate"),
            last_value(metrics, "episode_return"),
        ]
        rows.append(
            f"<tr><td>{link}</td>"
            + "".join(f"<td>{ctx.escape(_fmt(c))}</td>" for c in cells)
            + "</tr>"
        )
        returns[name] = series(metrics, "episode_return")
        successes[name] = series(metrics, "success_rate")
    table = (
        "<table><tr>"
        + "".join(f"<th>{ctx.escape(h)}</th>" for h in head)
        + "</tr>"
        + "".join(rows)
        + "</table>"
    )
    plots = ctx.plot(returns, title="Episode return by member", ylabel="return (env reward)")
    plots += ctx.plot(successes, title="Success rate by member", ylabel="fraction of episodes")
    note = (
        "<p>Each member trains on its own reward; returns are of the env's own reward, so "
        "they compare across members, as the success rate does.</p>"
    )
    return Section("Population", table + note + plots, order=15)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "-" if value is None else str(value)
