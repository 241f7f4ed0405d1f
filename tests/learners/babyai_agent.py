"""The agent-PPO tests' task: BabyAI GoToLocal as text, the prompt format, its expert's
episodes and a small AgentPPOConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from agentgym.learners.agent import AgentPPOConfig, PromptFormat
from agentgym.text_env import expert_episode

ENV = "agentgym/BabyAI-GoToLocal-v0"
FMT = PromptFormat(history=0, max_prompt_tokens=160)


def expert_demos(count: int, first_seed: int) -> list[dict]:
    """``count`` expert episodes of ENV, seeded ``first_seed``, ``first_seed + 1``, ..."""
    env = gym.make(ENV)
    records = [expert_episode(env, seed=first_seed + i) for i in range(count)]
    env.close()
    return records


def agent_config(policy: Path, **changes: Any) -> AgentPPOConfig:
    """Agent PPO of ``policy`` on ENV with the sparse reward: 8 envs, 16 episodes an update,
    400 steps, no evaluation, on CPU; ``changes`` override any field."""
    base: dict[str, Any] = dict(
        env_id=ENV,
        policy=f"hf:{policy}",
        reward="sparse",
        total_steps=400,
        num_envs=8,
        episodes_per_update=16,
        max_episode_steps=12,
        history=0,
        max_prompt_tokens=160,
        eval_episodes=0,
        device="cpu",
        seed=0,
        explore_episodes=16,
    )
    return AgentPPOConfig(**{**base, **changes})
