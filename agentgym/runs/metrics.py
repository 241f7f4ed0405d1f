"""Series out of metrics rows for the report's plots and tables.

The rows come from ``agentgym.learners.logger.read_metrics`` (the one reader of
``logs/metrics.jsonl``); here they become (step, value) series, key lists and last values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def series(
    rows: Iterable[Mapping[str, Any]], key: str, x: str = "step"
) -> tuple[list[float], list[float]]:
    """The (x, value) pairs of the rows that have a finite ``key``."""
    xs: list[float] = []
    ys: list[float] = []
    for row in rows:
        value = row.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            xs.append(float(row.get(x, len(xs))))
            ys.append(float(value))
    return xs, ys


def metric_keys(rows: Iterable[Mapping[str, Any]], prefix: str) -> list[str]:
    """Keys that start with ``prefix`` in any row, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key.startswith(prefix):
                seen.setdefault(key, None)
    return list(seen)


def last_value(rows: Iterable[Mapping[str, Any]], key: str) -> float | None:
    """The last finite value of ``key``, or None."""
    _, ys = series(rows, key)
    return ys[-1] if ys else None
