"""Report sections of a synthesis run (registered in its manifest as ``report_sections``).

Built from the run folder alone: per iteration a table of candidates (status or
rejection code, success, return, the trajectory filter's AUC, components), the learning
curves of all candidates, the best program highlighted, a video of the best policy,
tokens and cost, and bars comparing the sparse, human and best synthesised rewards.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

from agentgym.learners.logger import read_metrics
from agentgym.reward_designers.synthesis.candidates import (
    TRAINED,
    best_candidate,
    load_candidates,
    read_json,
    sample_dir,
)
from agentgym.runs.metrics import series
from agentgym.runs.report import Html, ReportContext, Section, format_value

ORDER = 5.0  # before the generic sections: this is what the run is about


def build(ctx: ReportContext) -> list[Section] | None:
    config = ctx.config.get("synthesis")
    if not config:
        return None
    run = Path(ctx.run.path)
    candidates = load_candidates(run)
    best = best_candidate(candidates)
    final = read_json(run / "final.json", {}) or {}
    sections = [_summary(ctx, config, candidates, best, final)]
    iterations = sorted({c.iteration for c in candidates})
    for it in iterations:
        sections.append(_iteration(ctx, it, [c for c in candidates if c.iteration == it], best))
    for it in iterations:
        tuning = _tuning(ctx, run, it)
        if tuning is not None:
            sections.append(tuning)
    rankings = _rankings(ctx, run, iterations, candidates)
    if rankings is not None:
        sections.append(rankings)
    curves = _curves(ctx, run, candidates)
    if curves:
        sections.append(Section("Candidate learning curves", curves, order=ORDER + 0.5))
    if best is not None:
        sections.append(_best(ctx, run, best, final))
    if final.get("final"):
        sections.append(_comparison(ctx, final))
    usage = _usage(ctx, run, config)
    if usage:
        sections.append(usage)
    return sections


def _summary(
    ctx: ReportContext,
    config: dict[str, Any],
    candidates: list[Any],
    best: Any,
    final: dict[str, Any],
) -> Section:
    label = config["designer"]
    if config["designer"] == "library":
        label += " (no LLM: candidates are human-written programs from reward_designers/library/)"
    trained = ctx.config.get("config") or {}
    preset = ctx.config.get("preset") or {}
    rows = [
        ("designer", label),
        ("LLM", config.get("llm") or "none"),
        ("iterations x samples", f"{config['iterations']} x {config['samples']}"),
        ("steps per candidate", trained.get("total_steps", config["steps"])),
        ("learner", ctx.config.get("learner", "population")),
        (
            "preset",
            f"{preset.get('name') or 'none'} (overrides: "
            f"{', '.join(preset.get('overrides') or []) or 'none'})",
        ),
        ("critic", config.get("critic")),
        ("analyser", config.get("analyser")),
        ("candidates finished", len(candidates)),
        ("trained", sum(c.status == TRAINED for c in candidates)),
        ("best", best.folder_name if best else "none trained"),
        ("best success (search)", best.success if best else None),
    ]
    for label_, score in (final.get("human_normalised") or {}).items():
        rows.append((f"human-normalised score ({label_})", score))
    return Section("Reward synthesis", ctx.table(rows), order=ORDER - 1)


def _iteration(ctx: ReportContext, it: int, cands: list[Any], best: Any) -> Section:
    names = sorted({n for c in cands for n in c.components})
    head = [
        "sample",
        "origin",
        "status",
        "code",
        "success",
        "fitness",
        "eval return",
        "steps",
        "AUC",
        *names,
        "message",
    ]
    ordered = sorted(cands, key=lambda c: c.index)
    rows = [
        [
            c.index,
            c.origin,
            c.status,
            c.code,
            c.success,
            c.fitness,
            c.mean_return,
            c.step,
            c.preference_auc,
            *[c.components.get(n) for n in names],
            "; ".join(x for x in [(c.message or "")[:160], *c.notes] if x),
        ]
        for c in ordered
    ]
    marked = [
        i
        for i, c in enumerate(ordered)
        if best is not None and (c.iteration, c.index) == (best.iteration, best.index)
    ]
    table = ctx.table(rows, head, keys=False, digits=3, highlight=marked)
    return Section(f"Iteration {it}: candidates", table, order=ORDER + it / 100)


def _tuning(ctx: ReportContext, run: Path, it: int) -> Section | None:
    """Iteration ``it``'s tuning: each trial's value in order and the best so far (trial 0
    is the program as sampled), the numbers' ranges and the text the LLM was sent."""
    folder = run / f"iter_{it:02d}" / "tune"
    summary = read_json(folder / "summary.json")
    if summary is None:
        return None
    trials = []
    for path in sorted(folder.glob("round_*.json")):
        trials += (read_json(path) or {}).get("trials", [])
    body = f"<p>{ctx.escape(summary.get('text', ''))}</p>"
    xs = [0.0] + [float(t["number"]) for t in trials]
    values = [summary.get("parent_value")] + [t["value"] for t in trials]
    shown = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
    best, running = [], float("-inf")
    for _, v in shown:
        running = max(running, v)
        best.append(running)
    if shown:
        body += ctx.plot(
            {
                "trial value": ([x for x, _ in shown], [v for _, v in shown]),
                "best so far": ([x for x, _ in shown], best),
            },
            title="Tuning trials (success + 0.01 x squashed fitness)",
            ylabel="value told to optuna",
            xlabel="trial (0: as sampled)",
        )
    names = [n["name"] for n in summary.get("numbers", [])]
    rows = [
        [
            t["number"],
            t["round"],
            t["candidate"]["status"],
            t["candidate"].get("code"),
            t["candidate"].get("success"),
            t["candidate"].get("fitness"),
            *[t["params"].get(n) for n in names],
        ]
        for t in trials
    ]
    if rows:
        marked = [i for i, t in enumerate(trials) if t["number"] == summary.get("best_trial")]
        body += ctx.table(
            rows,
            ["trial", "round", "status", "code", "success", "fitness", *names],
            keys=False,
            digits=3,
            highlight=marked,
        )
    return Section(f"Tuning iteration {it}", body, order=ORDER + 0.4 + it / 1000)


def _rankings(
    ctx: ReportContext, run: Path, iterations: list[int], candidates: list[Any]
) -> Section | None:
    """The icpl designer's ranking pages (``iter_NN/ranking.html``), each with its saved
    ranking (``ranking.json``: samples best first) or the command that saves one."""
    rows = []
    for it in iterations:
        page = run / f"iter_{it:02d}" / "ranking.html"
        if not page.is_file():
            continue
        saved = read_json(page.with_name("ranking.json"))
        link = f'<a href="{ctx.escape(page.relative_to(run).as_posix())}">ranking page</a>'
        trained = sum(c.status == TRAINED for c in candidates if c.iteration == it)
        if saved:
            order = (
                f"{', '.join(f'sample {i:02d}' for i in saved['order'])} (by {saved.get('ranker')})"
            )
        elif trained < 2:
            order = f"nothing to rank ({trained} trained)"
        else:
            order = f"not ranked yet: agentgym reward rank {run}"
        rows.append([it, Html(link), order])
    if not rows:
        return None
    table = ctx.table(rows, ["iteration", "page", "ranking, best first"], keys=False)
    return Section("Rankings (preference rounds)", table, order=ORDER + 0.45)


def _curves(ctx: ReportContext, run: Path, candidates: list[Any]) -> str:
    returns, successes = {}, {}
    for c in candidates:
        path = sample_dir(run, c.iteration, c.index) / "train" / "logs" / "metrics.jsonl"
        if not path.is_file():
            continue
        rows = read_metrics(path)
        name = f"i{c.iteration}s{c.index}"
        returns[name] = series(rows, "episode_return")
        successes[name] = series(rows, "success_rate")
    out = ctx.plot(returns, title="Episode return (env reward) by candidate", ylabel="return")
    out += ctx.plot(
        successes, title="Training success rate by candidate", ylabel="fraction of episodes"
    )
    return out


def _best(ctx: ReportContext, run: Path, best: Any, final: dict[str, Any]) -> Section:
    source = (
        (run / "best_reward.py").read_text()
        if (run / "best_reward.py").is_file()
        else (sample_dir(run, best.iteration, best.index) / "reward.py").read_text()
    )
    body = (
        f"<p>Candidate <b>{ctx.escape(best.folder_name)}</b> ({ctx.escape(best.origin)}): success "
        f"{format_value(best.success, 3)}, task fitness {format_value(best.fitness, 3)}, "
        f"eval return {format_value(best.mean_return, 3)}. Use it as "
        f'<code>gym.make(ID, reward="{ctx.escape(run / "best_reward.py")}")</code> or '
        f"<code>agentgym train --reward {ctx.escape(run / 'best_reward.py')}</code>.</p>"
        f'<pre style="border-left:4px solid #2a9d3a">{html.escape(source)}</pre>'
    )
    video = (final.get("final") or {}).get("video")
    if video:
        body += ctx.video(
            Path("final") / video, caption="best policy (final retraining, first seed)"
        )
    return Section("Best reward program", body, order=ORDER + 0.6)


def _comparison(ctx: ReportContext, final: dict[str, Any]) -> Section:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = final["final"]
    rewards = results["rewards"]
    order = [k for k in ("sparse", "human") if k in rewards] + [
        k for k in rewards if k not in ("sparse", "human")
    ]
    means = [rewards[k]["mean"] for k in order]
    stds = [rewards[k]["std"] for k in order]
    fig, ax = plt.subplots(figsize=(5.5, 3.2), dpi=100)
    ax.bar(
        order,
        means,
        yerr=stds,
        capsize=4,
        color=["#999999", "#4c72b0", "#2a9d3a", "#dd8452"][: len(order)],
    )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("evaluation success rate")
    ax.set_title(f"{results['env_id']}, {results['steps']} steps, seeds {results['seeds']}")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    rows = [
        (
            k,
            f"{rewards[k]['mean']:.3f} ± {rewards[k]['std']:.3f} (per seed "
            f"{', '.join(f'{s:.2f}' for s in rewards[k]['success'])})"
            + (" [cached reference]" if rewards[k].get("cached") else ""),
        )
        for k in order
    ]
    for label, score in (final.get("human_normalised") or {}).items():
        rows.append(
            (
                f"human-normalised ({label})",
                "undefined (human = sparse)" if score is None else f"{score:.3f}",
            )
        )
    return Section(
        "Sparse vs human vs synthesised",
        ctx.png(buf.getvalue(), "success by reward") + ctx.table(rows),
        order=ORDER + 0.7,
    )


def _usage(ctx: ReportContext, run: Path, config: dict[str, Any]) -> Section | None:
    usage = read_json(run / "llm_usage.json")
    if not usage:
        return None
    totals = usage.get("totals", {})
    cost = totals.get("cost_usd")
    rows = [
        ("LLM", usage.get("llm")),
        ("prompt tokens", totals.get("prompt_tokens")),
        ("completion tokens", totals.get("completion_tokens")),
        ("requests", totals.get("requests")),
        ("cache hits", totals.get("cache_hits")),
        ("sessions (runs and resumes)", len(usage.get("sessions", []))),
        (
            "cost (USD, list price)",
            "unknown (no price for this model)" if cost is None else f"{cost:.4f}",
        ),
    ]
    return Section("LLM tokens and cost", ctx.table(rows), order=ORDER + 0.8)
