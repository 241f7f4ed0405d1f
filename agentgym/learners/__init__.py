"""Learners: a fast PPO (GPU-ready), a population of K PPO learners trained at once, and
the rollout-level reward hook they share."""

from __future__ import annotations

from agentgym.learners.config import PPOConfig, field_help
from agentgym.learners.rollout import Rollout, RolloutRewardModel

__all__ = ["PPO", "PPOConfig", "Rollout", "RolloutRewardModel", "field_help", "train_population"]


def __getattr__(name: str):  # the learners import gymnasium and torch: load them on use
    if name == "PPO":
        from agentgym.learners.ppo import PPO

        return PPO
    if name == "train_population":
        from agentgym.learners.population import train_population

        return train_population
    raise AttributeError(name)
