"""What a learner of K members (PPO, SAC and their populations) keeps per member, and the
final metrics made from it.

Each member has a status (RUNNING until it finishes, or NONFINITE / ERROR when its own
reward broke it), the step and message it stopped with, its last training and evaluation
rows and its run folder's logger. A learner that subclasses ``MemberLearner`` sets those
fields in its ``_setup`` and implements ``_learn``; the rest is here, once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.learners.base import Callback
from agentgym.learners.checkpoint import save_checkpoint
from agentgym.learners.evaluate import run_episodes
from agentgym.learners.logger import RunLogger

log = logging.getLogger(__name__)


class MemberLearner:
    """Per-member bookkeeping shared by the PPO and SAC learners."""

    configs: list[Any]
    members: list[Any]
    batch: Any
    """The members' envs, one vector env of K*N (ppo/member_envs.py's ``MemberBatch``)."""
    global_step: int
    status: list[str]
    stopped_at: list[int | None]
    errors: list[str | None]
    last_rows: list[dict[str, Any]]
    last_eval: list[dict[str, Any]]
    _loggers: list[RunLogger | None] | None

    @property
    def alive(self) -> list[bool]:
        return [s == "RUNNING" for s in self.status]

    def learn(self, callback: Callback | None = None) -> dict[str, Any]:
        """Train to config.total_steps (continuing from the loaded checkpoint if resumed);
        callback gets each log row, returning False stops. Returns the final metrics."""
        return self._learn(callback)[0]

    def continue_to(self, total_steps: int) -> None:
        """Make ``total_steps`` every member's budget: a resumed run whose budget was
        extended (``agentgym train --resume RUN --steps N``) trains on to it."""
        self.configs = [dataclasses.replace(c, total_steps=int(total_steps)) for c in self.configs]

    def learn_all(self, callback: Callback | None = None) -> list[dict[str, Any]]:
        """Train every member to total_steps; returns each member's final metrics (what
        reward search reads of any population learner)."""
        return self._learn(callback)

    def _learn(self, callback: Callback | None) -> list[dict[str, Any]]:
        raise NotImplementedError  # abstract: each algorithm has its own training loop

    def member_state(self, k: int) -> dict[str, Any]:
        raise NotImplementedError  # abstract: each algorithm checkpoints its own parts

    def deterministic_policy(self, k: int) -> Callable[[np.ndarray], np.ndarray]:
        """Member k's deterministic action for one observation (evaluation, videos)."""
        raise NotImplementedError  # abstract: each algorithm acts with its own networks

    def _evaluate_member(
        self, k: int, episodes: int, seed: int, video_path: Path | None
    ) -> dict[str, Any]:
        cfg = self.configs[k]
        return run_episodes(
            cfg.env_id,
            self.deterministic_policy(k),
            episodes,
            seed,
            video_path,
            cfg.render_width,
            cfg.render_height,
        )

    def evaluate_member(
        self, k: int, episodes: int, seed: int, video_path: Path | None = None
    ) -> dict[str, Any]:
        """Deterministic evaluation episodes of member k (``evaluate``'s keys)."""
        return self._evaluate_member(k, episodes, seed, video_path)

    def evaluate(
        self, episodes: int, seed: int, video_path: Path | None = None
    ) -> dict[str, float]:
        """Run deterministic episodes; success_rate (envs with a success flag), fitness
        (envs with a task fitness), mean_return (the env's own reward), mean_length, and
        video (when ``video_path`` is given)."""
        return self._evaluate_member(0, episodes, seed, video_path)

    def _crossed(self, previous: int, every: int) -> bool:
        """Whether the last step crossed a multiple of ``every`` (0: never)."""
        return bool(every) and self.global_step // every > previous // every

    def _stop(self, k: int, status: str, step: int, message: str) -> None:
        self.status[k], self.stopped_at[k], self.errors[k] = status, step, message
        log.warning("member %d (%s) stopped: %s", k, self.configs[k].reward, message)

    def _log(self, k: int, row: dict[str, Any]) -> None:
        logger = self._loggers[k] if self._loggers else None
        if logger is not None:
            logger.write(row)

    def _final(self, k: int) -> dict[str, Any]:
        out = {key: value for key, value in self.last_rows[k].items() if key != "time"}
        out.update(
            {f"eval/{key}": value for key, value in self.last_eval[k].items() if key != "step"}
        )
        out["step"] = self.global_step if self.stopped_at[k] is None else self.stopped_at[k]
        out["status"] = "DONE" if self.status[k] == "RUNNING" else self.status[k]
        if self.errors[k]:
            out["error"] = self.errors[k]
        return out

    def save(self, path: Path) -> None:
        """Write this learner's checkpoint to ``path`` (atomic; ``resume`` reads its folder)."""
        save_checkpoint(self.member_state(0), path)

    def close(self) -> None:
        """Close the envs (and any open logs)."""
        self.batch.close()
        for logger in self._loggers or []:
            if logger is not None:
                logger.close()
        self._loggers = None

    def __enter__(self) -> MemberLearner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
