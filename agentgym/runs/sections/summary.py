"""Summary: what ran, for how long, and how well it ended."""

from __future__ import annotations

from agentgym.runs.metrics import last_value
from agentgym.runs.report import ReportContext, Section


def build(ctx: ReportContext) -> Section:
    config, manifest, rows = ctx.config, ctx.manifest, ctx.rows
    learner_config = config.get("config", {})
    members = ctx.run.members()
    # A population's rows are in its members' folders (compared in the next section).
    counted = rows or [r for m in members for r in m.metrics()]
    steps = max((r["step"] for r in counted if isinstance(r.get("step"), (int, float))), default=0)
    rewards = config.get("rewards") or [learner_config.get("reward")]
    final = manifest.get("final") or {}
    git = manifest.get("git") or {}
    preset = config.get("preset") or {}
    items = [
        ("env", config.get("env_id", learner_config.get("env_id"))),
        ("learner", config.get("learner")),
        (
            "training preset",
            f"{preset['name']} (overridden: {', '.join(preset.get('overrides') or []) or 'none'})"
            if preset.get("name")
            else None,
        ),
        ("reward" if len(rewards) == 1 else "rewards", "; ".join(str(r) for r in rewards)),
        ("members", len(members) or None),
        ("best member (eval success)", final.get("best_member")),
        ("steps", f"{int(steps):,} of {int(learner_config.get('total_steps', 0)):,}"),
        ("wall time (s)", last_value(rows, "time")),
        ("steps/s (last)", last_value(rows, "steps_per_s")),
        ("training episode return (last)", last_value(rows, "episode_return")),
        ("training success rate (last)", last_value(rows, "success_rate")),
        ("eval success rate (last)", last_value(rows, "eval/success_rate")),
        ("eval task fitness (last)", last_value(rows, "eval/fitness")),
        ("eval mean return (last)", last_value(rows, "eval/mean_return")),
        ("status", manifest.get("status")),
        ("seeds", ", ".join(str(s) for s in manifest.get("seeds", []))),
        ("device", manifest.get("device")),
        (
            "git",
            f"{git.get('commit', '')[:12]}{' (dirty)' if git.get('dirty') else ''}"
            if git
            else None,
        ),
    ]
    # A run that is not one training run (a reward search) names its real reward and
    # steps in manifest.json "summary" (label -> text): they replace the rows above,
    # which would read the settings each of its candidates trained with.
    given = dict(manifest.get("summary") or {})
    items = [(k, given.pop(k, v)) for k, v in items] + list(given.items())
    return Section(
        "Summary", ctx.table([(k, v) for k, v in items if v not in (None, "")]), order=10
    )
