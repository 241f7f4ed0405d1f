"""K independent SAC learners trained in one process with their networks batched.

Each member has its own reward program, envs, seed, replay buffer, entropy coefficient,
optimiser state and random stream; their networks are stacked (networks.py), so one
vector step is one batched policy forward for all K and one gradient step is one set of
batched forwards and backwards. Members never share data: member k trains exactly as a
single SAC with its seed would, and a population of one *is* the single learner. This is
how reward synthesis scores K candidate rewards in about the time of one run.

A member whose reward is not finite (NaN/inf from a bad program) or whose reward program
raises stops at that step with status NONFINITE or ERROR; the others continue.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentgym.learners.base import Callback, RunRequest, member_configs, train_members_in_run
from agentgym.learners.checkpoint import LATEST, load_checkpoint
from agentgym.learners.sac.config import SACConfig
from agentgym.learners.sac.learner import SAC


class SACPopulation(SAC):
    """K SAC learners sharing env id and hyper-parameters, differing in reward and seed."""

    isolate_failures = True
    several_rewards = True
    member_learner = "sac"  # each member's folder is a plain SAC run

    @classmethod
    def train_in_run(cls, request: RunRequest) -> dict[str, Any]:
        """Train (or resume) every member in its folder; the best member's metrics, and
        ``member_results`` (``Learner`` contract)."""
        return train_members_in_run(cls, request)

    def __init__(
        self,
        base: SACConfig,
        rewards: Sequence[str],
        seeds: Sequence[int] | None = None,
        run_dirs: Sequence[str | Path | None] | None = None,
    ) -> None:
        configs, run_dirs = member_configs("SACPopulation", base, rewards, seeds, run_dirs)
        self._setup(configs, run_dirs)

    @classmethod
    def resume_all(cls, run_dirs: Sequence[str | Path]) -> SACPopulation:
        """Continue a population from each member's ``checkpoints/latest.pt``."""
        states = [load_checkpoint(Path(d) / "checkpoints" / LATEST) for d in run_dirs]
        configs = [SACConfig.from_dict(s["config"]) for s in states]
        pop = cls.__new__(cls)
        pop._setup(configs, [Path(d) for d in run_dirs], resume_step=int(states[0]["global_step"]))
        pop._load_member_states(states)
        return pop


def train_sac_population(
    base: SACConfig,
    rewards: list[str],
    seeds: list[int] | None = None,
    run_dirs: list[Path] | None = None,
    callback: Callback | None = None,
) -> list[dict[str, Any]]:
    """Train one SAC member per reward spec, batched in one process; each member's final
    metrics (as ``SAC.learn``). Log rows passed to ``callback`` carry ``member``."""
    population = SACPopulation(base, rewards, seeds, run_dirs)
    try:
        return population.learn_all(callback)
    finally:
        population.close()
