"""Text2Reward (Xie et al. 2023): zero- or few-shot programs, then rounds of feedback."""

from __future__ import annotations

from agentgym.reward_designers.text2reward.designer import (
    Text2RewardDesigner,
    auto_feedback,
    results_summary,
)

__all__ = ["Text2RewardDesigner", "auto_feedback", "results_summary"]
