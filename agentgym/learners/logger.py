"""Training logs: one JSON object per row in ``logs/metrics.jsonl`` and TensorBoard scalars.

On resume the rows past the checkpoint's step are dropped (they came from the part of
the killed run that the resumed run repeats), and TensorBoard purges the same steps.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class RunLogger:
    """Append metric rows to ``<run_dir>/logs/metrics.jsonl`` and ``<run_dir>/logs/tb``."""

    def __init__(
        self, run_dir: str | Path, resume_step: int | None = None, tensorboard: bool = True
    ):
        self.dir = Path(run_dir) / "logs"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "metrics.jsonl"
        if resume_step is not None and self.path.exists():
            kept = [row for row in _parse_lines(self.path) if row.get("step", 0) <= resume_step]
            self.path.write_text("".join(json.dumps(row) + "\n" for row in kept))
        self._file = self.path.open("a")
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.dir / "tb"), purge_step=resume_step)
            except ImportError:  # tensorboard is a core dependency; keep going without it
                log.warning("tensorboard is not installed; logging to metrics.jsonl only")

    def write(self, row: dict[str, Any]) -> None:
        """Write one row; it must hold ``step``. Non-finite numbers become null in JSON."""
        clean = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()
        }
        self._file.write(json.dumps(clean) + "\n")
        self._file.flush()
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
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def _parse_lines(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line torn by a killed process
            continue
    return rows


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's ``logs/metrics.jsonl`` (torn lines of a killed run skipped)."""
    return _parse_lines(Path(run_dir) / "logs" / "metrics.jsonl")
