"""The Summary rows of a synthesis run: its reward and the steps it trained.

The report's generic Summary reads a training run's reward and steps from config.yaml
and logs/metrics.jsonl; a synthesis run has neither at its top (its config is the
settings each candidate trained with, its rows are in the candidates' folders), so the
table read "reward env, steps 0 of N". The loop writes these rows into manifest.json
``summary`` after every iteration and at the end, and the Summary shows them instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agentgym.reward_designers.synthesis.candidates import (
    best_candidate,
    load_candidates,
    read_json,
)

if TYPE_CHECKING:
    from agentgym.reward_designers.synthesis.config import SynthesisConfig


def summary_rows(run: str | Path, config: SynthesisConfig) -> dict[str, str]:
    """{"reward": the best program so far, "steps": env steps the search trained of
    its budget, "final retraining steps": when the best was retrained}."""
    run = Path(run)
    candidates = load_candidates(run)
    best = best_candidate(candidates)
    per_candidate = config.search_steps()
    planned = config.iterations * config.samples * per_candidate
    trained = sum(int(c.step or 0) for c in candidates)
    rows = {
        "reward": (
            f"best_reward.py: {best.folder_name} (search success {best.success:.3g})"
            if best is not None
            else "no candidate trained yet"
        ),
        "steps": (
            f"{trained:,} of {planned:,} ({config.iterations} iterations x {config.samples} "
            f"samples x {per_candidate:,}; the search's candidates)"
        ),
    }
    final = (read_json(run / "final.json", {}) or {}).get("final")
    if final:
        seeds, steps = len(final.get("seeds") or []), int(final.get("steps") or 0)
        plural = "s" if seeds != 1 else ""
        rows["final retraining steps"] = (
            f"{seeds * steps:,} per reward ({seeds} seed{plural} x {steps:,})"
        )
    return rows
