"""Auto MC-Reward's critique (Li et al. 2024): a reward critic that checks a program before
training and a trajectory analyser that summarises failures after it."""

from __future__ import annotations

from agentgym.reward_designers.critique.critic import (
    CRITIC,
    CriticVerdict,
    RewardCritic,
    TrajectoryAnalyser,
    parse_verdict,
)

__all__ = ["CRITIC", "CriticVerdict", "RewardCritic", "TrajectoryAnalyser", "parse_verdict"]
