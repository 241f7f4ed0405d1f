"""What every registered learner offers the run code (``agentgym.runs.training``).

A learner class names its config dataclass and trains itself into a run folder given as
plain paths, so learners never import ``agentgym.runs`` and the run code needs no
per-learner branches: it looks the class up in ``agentgym.learners.LEARNERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

Callback = Callable[[dict[str, Any]], "bool | None"]
"""Receives each log row; returning False stops training."""


class Learner(Protocol):
    """The class-level contract of a learner registered under a ``--learner`` name."""

    config_class: ClassVar[type]
    """Its config dataclass (``PPOConfig``, ``AgentPPOConfig``); CLI values fill it."""
    default_reward: ClassVar[str]
    """The reward spec used when none is given (``env``, or ``sparse`` for agents)."""
    several_rewards: ClassVar[bool]
    """True when it trains one member per reward (``members/<k>`` sub-runs); such a
    learner also names ``member_learner``, the learner each member's folder records."""
    checkpoint_file: ClassVar[str]
    """The file in ``checkpoints/`` that ``--resume`` continues from."""

    @classmethod
    def check_request(cls, config: Any, rewards: Sequence[str]) -> None:
        """Raise (naming the field) for what would fail once training starts: an unknown
        env id, a reward spec the env cannot take, an env the learner cannot act in."""

    @classmethod
    def train_in_run(
        cls,
        config: Any,
        run_dir: Path,
        *,
        rewards: Sequence[str],
        seeds: Sequence[int],
        member_dirs: Sequence[Path],
        resume: bool,
        callback: Callback | None,
    ) -> dict[str, Any]:
        """Train (or, with ``resume``, continue from ``checkpoints/latest.pt``) in
        ``run_dir`` and return the final metrics. ``member_dirs`` are the members' run
        folders of a learner with ``several_rewards`` (empty otherwise); its result then
        carries ``member_results``, one final-metrics dict per member."""
        ...
