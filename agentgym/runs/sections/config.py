"""Config and manifest: the resolved config.yaml and manifest.json, verbatim."""

from __future__ import annotations

import json

from agentgym.runs.report import ReportContext, Section


def build(ctx: ReportContext) -> Section:
    config_text = ctx.run.config_path.read_text(encoding="utf-8")
    manifest_text = json.dumps(ctx.manifest, indent=2, default=str)
    body = (
        f"<h3>config.yaml</h3><pre>{ctx.escape(config_text)}</pre>"
        f"<h3>manifest.json</h3><pre>{ctx.escape(manifest_text)}</pre>"
    )
    return Section("Config and manifest", body, order=90)
