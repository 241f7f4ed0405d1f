"""Eureka's reward reflection: per-component statistics at checkpoints of a training run.

From a run's ``logs/metrics.jsonl`` (rows with ``reward_terms/<name>``, ``success_rate``,
``episode_length``), take about ``checkpoints`` evenly spaced rows and report each
series, plus ``task_fitness`` (the evaluation rows' ``eval/fitness``: the task's own
continuous score, Eureka's F); ``PromptBuilder.reflection`` turns it into text with
Eureka's rules.
"""

from __future__ import annotations

TERM_PREFIX = "reward_terms/"
FITNESS_KEY = "eval/fitness"


def reflection_series(
    rows: list[dict[str, float]], checkpoints: int = 10
) -> dict[str, list[float]]:
    """Series of each component, success rate, episode length and task fitness at
    ~``checkpoints`` rows."""
    train = [r for r in rows if any(k.startswith(TERM_PREFIX) for k in r)]
    if not train:
        return {}
    picks = _spread(train, checkpoints)
    names = sorted({k for r in train for k in r if k.startswith(TERM_PREFIX)})
    series: dict[str, list[float]] = {}
    from agentgym.sandbox.sanitize import clean

    for name in names:
        values = [float(r[name]) for r in picks if r.get(name) is not None]
        if values:
            # Term names are the program's choice and go into the LLM's next prompt.
            series[clean(name[len(TERM_PREFIX) :], 80, newlines=False)] = values
    for key in ("success_rate", "episode_length"):
        values = [float(r[key]) for r in picks if r.get(key) is not None]
        if values:
            series[key] = values
    # Evaluation rows carry no reward terms; they hold the task fitness.
    evals = [r for r in rows if r.get(FITNESS_KEY) is not None]
    if evals:
        series["task_fitness"] = [float(r[FITNESS_KEY]) for r in _spread(evals, checkpoints)]
    return series


def _spread(rows: list[dict[str, float]], count: int) -> list[dict[str, float]]:
    """About ``count`` evenly spaced rows of ``rows``, the first and last included."""
    count = min(count, len(rows))
    return [rows[round(i * (len(rows) - 1) / max(count - 1, 1))] for i in range(count)]
