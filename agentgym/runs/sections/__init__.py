"""The built-in report sections, one module each, discovered by agentgym.runs.report.

A module here defines ``build(ctx: ReportContext) -> Section | list[Section] | None``
and returns None when the run folder holds nothing for it to show.
"""
