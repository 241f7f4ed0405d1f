"""What a reward model reports about itself for the learner's log.

A model may keep statistics beside its reward (an LLM labeller's labels made, latency,
queue depth, a classifier's held-out accuracy); it exposes them as ``metrics() ->
{name: float}`` and a learner logs them each update. Sums report their parts' metrics.
"""

from __future__ import annotations

from typing import Any


def reward_metrics(model: Any) -> dict[str, float]:
    """``model.metrics()`` merged with those of its parts (a WeightedSum's); {} for None."""
    out: dict[str, float] = {}
    metrics = getattr(model, "metrics", None)
    if callable(metrics):
        out.update(metrics())
    for _, part in getattr(model, "parts", ()):
        out.update(reward_metrics(part))
    return out
