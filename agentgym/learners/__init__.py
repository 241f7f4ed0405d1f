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
LEARNERS.register("ppo", "agentgym.learners.ppo.learner:PPO")
LEARNERS.register("population", "agentgym.learners.ppo.population:Population")
LEARNERS.register("sb3-ppo", "agentgym.learners.sb3.learner:SB3Trainer")
LEARNERS.register("agent-ppo", "agentgym.learners.agent.learner:AgentPPO")
LEARNERS.register("sac", "agentgym.learners.sac.learner:SAC")
LEARNERS.register("sac-population", "agentgym.learners.sac.population:SACPopulation")

__all__ = [
    "LEARNERS",
    "PPO",
    "Learner",
    "PPOConfig",
    "Population",
    "Rollout",
    "RolloutRewardModel",
    "field_help",
    "train_population",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PPO": "ppo",
        "PPOConfig": "ppo",
        "Population": "ppo",
        "field_help": "ppo",
        "train_population": "ppo",
        "Rollout": "rollout",
        "RolloutRewardModel": "rollout",
    },
)
