"""Eureka's reward reflection: per-component statistics at checkpoints of a training run.

From a run's ``logs/metrics.jsonl`` (rows with ``reward_terms/<name>``, ``success_rate``,
``episode_length``), take about ``checkpoints`` evenly spaced rows and report each
series; ``PromptBuilder.reflection`` turns it into text with Eureka's rules.
"""

from __future__ import annotations

TERM_PREFIX = "reward_terms/"


def reflection_series(
    rows: list[dict[str, float]], checkpoints: int = 10
) -> dict[str, list[float]]:
    """Series of each component, success rate and episode length at ~``checkpoints`` rows."""
    train = [r for r in rows if any(k.startswith(TERM_PREFIX) for k in r)]
    if not train:
        return {}
    count = min(checkpoints, len(train))
    picks = [train[round(i * (len(train) - 1) / max(count - 1, 1))] for i in range(count)]
    names = sorted({k for r in train for k in r if k.startswith(TERM_PREFIX)})
    series: dict[str, list[float]] = {}
    for name in names:
        values = [float(r[name]) for r in picks if r.get(name) is not None]
        if values:
            series[name[len(TERM_PREFIX) :]] = values
    for key in ("success_rate", "episode_length"):
        values = [float(r[key]) for r in picks if r.get(key) is not None]
        if values:
            series[key] = values
    return series
