"""Reward models, reward programs, reward specs."""

from __future__ import annotations

from agentgym.rewards.base import (
    RewardError,
    RewardInput,
    RewardModel,
    RewardOutput,
    make_input,
    stack_one,
    to_tensor_state,
)
from agentgym.rewards.builtin import EnvReward, RolloutWeightedSum, SparseSuccessReward, WeightedSum
from agentgym.rewards.program import ProgramReward, RewardProgramError
from agentgym.rewards.spec import REWARD_KINDS, RewardSpecError, parse_reward_spec, resolve_reward

__all__ = [
    "REWARD_KINDS",
    "EnvReward",
    "ProgramReward",
    "RewardError",
    "RewardInput",
    "RewardModel",
    "RewardOutput",
    "RewardProgramError",
    "RewardSpecError",
    "RolloutWeightedSum",
    "SparseSuccessReward",
    "WeightedSum",
    "make_input",
    "parse_reward_spec",
    "resolve_reward",
    "stack_one",
    "to_tensor_state",
]
