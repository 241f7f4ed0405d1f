"""A report section a run's manifest names from outside agentgym (see test_report.py)."""

from __future__ import annotations

from agentgym.runs.report import ReportContext, Section


def build(ctx: ReportContext) -> Section:
    return Section("Foreign section", "<p>imported</p>", order=46)
