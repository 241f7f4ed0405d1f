"""Training logs: ``logs/metrics.jsonl`` (one JSON object per row) and TensorBoard scalars.

The one writer (``MetricsWriter``) and the one reader (``read_metrics``) of metrics files:
every learner writes through them and every report, reflection and test reads through
them. Rows carry ``step`` and any of ``episode_return``, ``success_rate``,
``reward_terms/<name>``, ``loss/*``, ``eval/*`` (see docs/runs.md).

A run killed while writing leaves a partial last line: ``read_metrics`` drops it with a
warning instead of refusing the whole file, since the report of a killed run is exactly
what one wants; a broken line anywhere else is an error that names the line. On resume
``RunLogger`` drops the rows past the checkpoint's step (they came from the part of the
killed run that the resumed run repeats), and TensorBoard purges the same steps.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

METRICS = Path("logs") / "metrics.jsonl"
"""Where a run folder keeps its metrics rows."""


class MetricsWriter:
    """Append rows to a metrics.jsonl file, one flushed line each."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, row: Mapping[str, Any]) -> None:
        """One row; numpy/torch scalars become numbers, non-finite numbers null."""
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
    """Every row of a metrics.jsonl file, or of ``<run folder>/logs/metrics.jsonl`` when
    ``path`` is a folder; [] when there is none. A truncated last line is dropped."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS
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


class RunLogger:
    """Append metric rows to ``<run_dir>/logs/metrics.jsonl`` and ``<run_dir>/logs/tb``."""

    def __init__(
        self, run_dir: str | Path, resume_step: int | None = None, tensorboard: bool = True
    ):
        self.dir = Path(run_dir) / "logs"
        self.path = Path(run_dir) / METRICS
        if resume_step is not None and self.path.exists():
            kept = [row for row in read_metrics(self.path) if row.get("step", 0) <= resume_step]
            self.path.write_text("".join(json.dumps(row) + "\n" for row in kept))
        self._metrics = MetricsWriter(self.path)
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.dir / "tb"), purge_step=resume_step)
            except ImportError:  # tensorboard is a core dependency; keep going without it
                log.warning("tensorboard is not installed; logging to metrics.jsonl only")

    def write(self, row: dict[str, Any]) -> None:
        """Write one row; it must hold ``step``. Non-finite numbers become null in JSON."""
        self._metrics.write(row)
        if self._tb is not None:
            step = int(row["step"])
            for key, value in row.items():
                if (
                    key not in ("step", "time")
                    and isinstance(value, (int, float))
                    and not isinstance(value, bool)
                ):
                    self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        self._metrics.close()
        if self._tb is not None:
            self._tb.close()
