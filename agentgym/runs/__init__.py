"""Run folders: the resolved config, a manifest, logs, checkpoints and ``report.html``.

Every command that trains or designs writes one ``RunDir``; ``build_report`` turns the
folder alone (config.yaml, manifest.json, logs/metrics.jsonl, videos/) into a
self-contained HTML page, so ``agentgym report RUN_DIR`` can rebuild it at any time.
"""

from __future__ import annotations

from agentgym.runs.manifest import build_manifest, git_revision, machine_info, package_versions
from agentgym.runs.metrics import series
from agentgym.runs.report import ReportContext, Section, build_report, section_builders
from agentgym.runs.rundir import RunDir, RunExistsError, RunNotFoundError, default_run_name

__all__ = [
    "ReportContext",
    "RunDir",
    "RunExistsError",
    "RunNotFoundError",
    "Section",
    "build_manifest",
    "build_report",
    "default_run_name",
    "git_revision",
    "machine_info",
    "package_versions",
    "section_builders",
    "series",
]
