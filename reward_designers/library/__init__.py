"""Human reward programs, one file per task, named after the task in lower case."""

from __future__ import annotations

from pathlib import Path

LIBRARY = Path(__file__).parent


def program_path(task_name: str) -> Path:
    """The human reward program of a task, e.g. ``program_path("Reach")``."""
    path = LIBRARY / f"{task_name.lower().replace('-', '_')}.py"
    if not path.is_file():
        from agentgym.registry import suggest

        known = sorted(p.stem for p in LIBRARY.glob("*.py") if not p.stem.startswith("_"))
        raise FileNotFoundError(
            f"no human reward program for task {task_name!r}.{suggest(task_name.lower(), known)}"
        )
    return path
