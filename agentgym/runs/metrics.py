"""``logs/metrics.jsonl``: one JSON object per log row, written as training goes.

Rows carry ``step`` and any of ``episode_return``, ``success_rate``,
``reward_terms/<name>``, ``loss/*``, ``eval/*`` (see docs/runs.md). A run killed while
writing leaves a partial last line; ``read_metrics`` drops it with a warning instead of
refusing the whole file, since the report of a killed run is exactly what one wants.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class MetricsWriter:
    """Append rows to a metrics.jsonl file, one flushed line each."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, row: Mapping[str, Any]) -> None:
        clean = {k: _jsonable(v) for k, v in row.items()}
        self._file.write(json.dumps(clean, allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MetricsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()  # numpy and torch scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a missing value reads the same to the report
    if isinstance(value, Path):
        return str(value)
    return value


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Every row of a metrics.jsonl file; a truncated last line is dropped."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):
                log.warning("%s: dropping a partial last line (a killed run?)", path)
                break
            raise ValueError(f"{path}: line {number} is not JSON: {err}") from err
        if not isinstance(row, dict):
            raise ValueError(
                f"{path}: line {number} must be a JSON object, got {type(row).__name__}"
            )
        rows.append(row)
    return rows


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
