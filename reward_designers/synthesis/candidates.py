"""A synthesis run's candidates on disk: one folder per sample, one ``result.json`` each.

    <run>/iter_NN/prompt.json           the messages sent for this iteration
    <run>/iter_NN/sample_KK/prompt.json the same messages (a sample's folder is complete)
                           response.txt the LLM's reply (or the library program)
                           reward.py    the extracted program
                           vet.json     the sandbox's verdict
                           critic.json  the reward critic's verdict (with --critic)
                           train/       the member's logs, checkpoint and traces.json
                           result.json  the outcome; its presence means "finished"
    <run>/iter_NN/worker/               the training worker's folder, the only one it may
                                        write: members train in worker/sample_KK/, which
                                        moves to sample_KK/train/ when the worker is gone;
                                        the programs themselves are served to it from
                                        workers of their own (agentgym.sandbox.served)

A sample is finished exactly when its ``result.json`` exists, which is what makes a run
resumable: a rerun skips finished samples and redoes the rest (whose LLM replies come
from the run's cache).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TRAINED = "trained"
"""Trained to the end of its budget; ``success`` is its evaluation success rate."""
REJECTED = "rejected"
"""Stopped before training: no code, vetting or the reward critic (``code`` says which)."""
FAILED = "failed"
"""Stopped during training: NONFINITE or ERROR at ``step``."""


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a process killed mid-write leaves the old file or none, and
    two processes writing the same file (two benchmark processes sharing ``--out``) each
    replace it whole: the temporary file is the writer's own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def read_json(path: Path, default: Any = None) -> Any:
    return json.loads(path.read_text()) if path.is_file() else default


def iteration_dir(run: Path, iteration: int) -> Path:
    return Path(run) / f"iter_{iteration:02d}"


def sample_dir(run: Path, iteration: int, index: int) -> Path:
    return iteration_dir(run, iteration) / f"sample_{index:02d}"


@dataclass
class Candidate:
    """One reward program proposed in one iteration, and what became of it."""

    iteration: int
    index: int
    status: str = ""
    """TRAINED, REJECTED or FAILED; empty while in progress."""
    code: str | None = None
    """Why it stopped: a sandbox code (BAD_SHAPE, ...), NO_CODE, CRITIC, NONFINITE, ERROR."""
    message: str = ""
    """The LLM-facing explanation of ``code``."""
    success: float | None = None
    """Evaluation success rate (what candidates are ranked by), for trained candidates."""
    fitness: float | None = None
    """Evaluation task fitness (``TaskSpec.fitness``, mean over episodes): breaks ties in
    success."""
    mean_return: float | None = None
    """Evaluation return of the env's own reward (the last tie-break)."""
    episode_length: float | None = None
    step: int | None = None
    """Env steps trained (where a failed candidate stopped)."""
    components: dict[str, float] = field(default_factory=dict)
    """Each reward component's mean per step over the last logged training iteration."""
    origin: str = "llm"
    """Where the program came from: "llm" or "library:<file>" (no LLM)."""
    repairs: int = 0
    """Rounds in which the LLM was sent this program's vetting error and replied with a fix."""
    notes: list[str] = field(default_factory=list)
    """Warnings that did not reject the program (a constant reward vetting could not judge)."""
    preference_auc: float | None = None
    """The trajectory filter's AUC: how often the program's return ranks a recorded
    successful episode above a failed one (None: not scored)."""

    def __post_init__(self) -> None:
        # The one door for a candidate's program-chosen text (exception messages from the
        # worker, term names from its metrics) on its way to prompts, terminal and report.
        from agentgym.sandbox.sanitize import clean

        self.message = clean(self.message)
        self.components = {clean(k, 80, newlines=False): v for k, v in self.components.items()}
        self.notes = [clean(n) for n in self.notes]

    @property
    def folder_name(self) -> str:
        return f"iter_{self.iteration:02d}/sample_{self.index:02d}"

    @property
    def rank(self) -> tuple[float, float, float]:
        """What candidates are ordered by: success rate first; the task fitness breaks ties
        (early in training every candidate may still be at zero success), then the env's
        own evaluation return. A missing value ranks lowest."""
        if self.status != TRAINED:
            return (-1.0, -math_inf(), -math_inf())
        return (
            self.success or 0.0,
            self.fitness if self.fitness is not None else -math_inf(),
            self.mean_return if self.mean_return is not None else -math_inf(),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def math_inf() -> float:
    return float("inf")


def load_candidates(run: Path) -> list[Candidate]:
    """Every finished candidate of a run, in (iteration, index) order."""
    found = []
    for path in sorted(Path(run).glob("iter_*/sample_*/result.json")):
        found.append(Candidate.from_dict(json.loads(path.read_text())))
    return found


def best_candidate(candidates: list[Candidate]) -> Candidate | None:
    """The trained candidate of the highest ``rank`` (earliest on a tie)."""
    trained = [c for c in candidates if c.status == TRAINED]
    if not trained:
        return None
    return max(trained, key=lambda c: (c.rank, -c.iteration, -c.index))
