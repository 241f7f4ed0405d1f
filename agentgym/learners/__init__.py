"""Learners, registered by name for ``--learner``.

- ``ppo``: agentgym's PPO (``learners/ppo/``), discrete and continuous actions, GPU-ready;
- ``population``: K PPO members, one reward and seed each, networks batched in one process;
- ``sb3-ppo``: stable-baselines3's PPO on the same config (``learners/sb3/``), the baseline;
- ``agent-ppo``: PPO for language-model policies in text, web and tool envs
  (``learners/agent/``);
- ``sac``: agentgym's SAC (``learners/sac/``), continuous actions, replay on the device;
- ``sac-population``: K SAC members, one reward and seed each, networks batched.

Shared parts sit beside them: ``gae``, ``rollout`` (the rollout-level reward hook),
``evaluate``, ``logger``, ``checkpoint``, ``device``. Each registered class keeps the
``Learner`` contract of ``base.py``; nothing here imports ``agentgym.runs``.
"""

from __future__ import annotations

from agentgym.learners.base import Learner
from agentgym.registry import Registry, lazy_exports

LEARNERS: Registry[type[Learner]] = Registry("learner")
"""``--learner`` name -> the learner class (imports torch when looked up)."""
LEARNER_CONFIGS: Registry[type] = Registry("learner")
"""``--learner`` name -> its config dataclass, from a light module (for CLI options)."""
POPULATIONS: dict[str, str] = {}
"""``--learner`` name -> the learner that trains K of its members batched in one process."""


def register_learner(name: str, learner: str, config: str, population: str | None = None) -> None:
    """Register a learner: ``"module:Class"`` of the class and of its config dataclass, and
    the name of its population learner (K members, one reward each, same config class)."""
    LEARNERS.register(name, learner)
    LEARNER_CONFIGS.register(name, config)
    if population is not None:
        POPULATIONS[name] = population


def population_learner(name: str) -> str:
    """The learner reward search trains K candidates of ``name`` with (``ppo`` ->
    ``population``, ``sac`` -> ``sac-population``; a population learner is its own).
    ValueError naming the learners that have one."""
    LEARNERS.check(name)
    if name not in POPULATIONS:
        raise ValueError(
            f"learner {name!r} has no population learner (K rewards batched in one process); "
            f"reward search trains with one of: {', '.join(sorted(POPULATIONS))}"
        )
    return POPULATIONS[name]


register_learner(
    "ppo",
    "agentgym.learners.ppo.learner:PPO",
    "agentgym.learners.ppo.config:PPOConfig",
    population="population",
)
register_learner(
    "population",
    "agentgym.learners.ppo.population:Population",
    "agentgym.learners.ppo.config:PPOConfig",
    population="population",
)
register_learner(
    "sb3-ppo", "agentgym.learners.sb3.learner:SB3Trainer", "agentgym.learners.ppo.config:PPOConfig"
)
register_learner(
    "agent-ppo",
    "agentgym.learners.agent.learner:AgentPPO",
    "agentgym.learners.agent.config:AgentPPOConfig",
)
register_learner(
    "sac",
    "agentgym.learners.sac.learner:SAC",
    "agentgym.learners.sac.config:SACConfig",
    population="sac-population",
)
register_learner(
    "sac-population",
    "agentgym.learners.sac.population:SACPopulation",
    "agentgym.learners.sac.config:SACConfig",
    population="sac-population",
)

__all__ = [
    "LEARNERS",
    "LEARNER_CONFIGS",
    "PPO",
    "Learner",
    "POPULATIONS",
    "PPOConfig",
    "Population",
    "Rollout",
    "RolloutRewardModel",
    "population_learner",
    "register_learner",
    "train_population",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PPO": "ppo",
        "PPOConfig": "ppo",
        "Population": "ppo",
        "train_population": "ppo",
        "Rollout": "rollout",
        "RolloutRewardModel": "rollout",
    },
)
