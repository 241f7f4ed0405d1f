"""K independent PPO learners trained in one process with their networks batched.

Each member has its own reward program, envs, seed, normalisers and optimiser state;
their parameters are stacked ([2K, P], see networks.py), so one rollout step is one
batched forward for all K policies and one minibatch update is one batched forward and
backward. Members never share data: every statistic, random stream and gradient is per
member, so member k trains exactly as a single PPO with its seed would (to float
rounding) and a population of one *is* the single learner. This is how reward synthesis
scores K candidate rewards in about the time of one run.

A member whose reward is not finite (NaN/inf from a bad program) or whose reward program
raises stops at that step with status NONFINITE or ERROR; the others continue.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentgym.learners.base import Callback, RunRequest, member_configs, train_members_in_run
from agentgym.learners.checkpoint import LATEST, load_checkpoint
from agentgym.learners.ppo.config import PPOConfig
from agentgym.learners.ppo.learner import PPO
from agentgym.learners.rollout import RolloutRewardModel


class Population(PPO):
    """K PPO learners sharing env id and hyper-parameters, differing in reward and seed."""

    isolate_failures = True
    several_rewards = True
    member_learner = "ppo"  # each member's folder is a plain PPO run

    @classmethod
    def train_in_run(cls, request: RunRequest) -> dict[str, Any]:
        """Train (or resume) every member in its folder; the best member's metrics, and
        ``member_results`` (``Learner`` contract)."""
        return train_members_in_run(cls, request)

    def __init__(
        self,
        base: PPOConfig,
        rewards: Sequence[str],
        seeds: Sequence[int] | None = None,
        run_dirs: Sequence[str | Path | None] | None = None,
        relabels: Sequence[RolloutRewardModel | None] | None = None,
    ) -> None:
        configs, run_dirs = member_configs("train_population", base, rewards, seeds, run_dirs)
        relabels = list(relabels) if relabels is not None else [None] * len(configs)
        if len(relabels) != len(configs):
            raise ValueError(
                f"train_population: relabels has {len(relabels)} entries, expected "
                f"{len(configs)} (one per reward)"
            )
        self._setup(configs, run_dirs, relabels)

    @classmethod
    def resume_all(cls, run_dirs: Sequence[str | Path]) -> Population:
        """Continue a population from each member's ``checkpoints/latest.pt``."""
        states = [load_checkpoint(Path(d) / "checkpoints" / LATEST) for d in run_dirs]
        configs = [PPOConfig.from_dict(s["config"]) for s in states]
        return cls._from_checkpoints(
            states, configs, [Path(d) for d in run_dirs], [None] * len(configs)
        )


def train_population(
    base: PPOConfig,
    rewards: list[str],
    seeds: list[int] | None = None,
    run_dirs: list[Path] | None = None,
    callback: Callback | None = None,
) -> list[dict[str, Any]]:
    """Train one PPO member per reward spec, batched in one process.

    Returns each member's final metrics (as ``PPO.learn``: the last log row, ``eval/*``,
    ``status`` DONE / NONFINITE / ERROR and the ``step`` it ended at). Log rows passed to
    ``callback`` carry ``member``.
    """
    population = Population(base, rewards, seeds, run_dirs)
    try:
        return population.learn_all(callback)
    finally:
        population.close()
