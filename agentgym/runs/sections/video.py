"""Evaluation video: the last evaluation episodes the run recorded."""

from __future__ import annotations

from agentgym.runs.report import ReportContext, Section

VIDEO_SUFFIXES = (".mp4", ".webm", ".gif")


def build(ctx: ReportContext) -> Section | None:
    logged = [(r.get("step", 0), r["eval/video"]) for r in ctx.rows if r.get("eval/video")]
    if logged:
        step, path = logged[-1]
        caption = f"evaluation at step {int(step):,}: {path}"
    else:  # rows may be missing (a killed run); the videos folder still tells
        found = sorted(
            (p for p in ctx.run.videos_dir.glob("*") if p.suffix.lower() in VIDEO_SUFFIXES),
            key=lambda p: p.stat().st_mtime,
        )
        if not found:
            return None
        path, caption = str(found[-1]), found[-1].name
    return Section("Evaluation video", ctx.video(path, caption), order=60)
