"""Report sections from outside agentgym, as a command lists them in a run's manifest
(``run.add_report_section("tests.runs.report_sections:diagnostics")``): one that renders,
one with nothing to show, and one that fails."""

from __future__ import annotations

from agentgym.runs.report import ReportContext, Section


def diagnostics(ctx: ReportContext) -> Section:
    n = len(ctx.rows)
    body = f"<p>{n} rows & <b>{ctx.escape('<x>')}</b></p>"
    return Section("VLM reward diagnostics", body, order=45)


def nothing(ctx: ReportContext) -> None:
    return None


def broken(ctx: ReportContext) -> Section:
    raise RuntimeError("no frames in <run>")
