"""Fixtures of the learner tests: the tuned Reach config of the learning tests and the tiny
language model the agent-PPO tests clone and train."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agentgym.learners.ppo import PPOConfig
from agentgym.testing.tiny import build_tiny_lm_for_env
from tests.learners.babyai_agent import ENV


@pytest.fixture(scope="session")
def reach_ppo_config() -> PPOConfig:
    """PPO that solves Reach on CPU: short rollouts over many envs and a short horizon
    (gamma 0.9) suit a dense distance reward; about 300k steps reach >= 90% success (eval,
    deterministic policy)."""
    return PPOConfig(
        env_id="agentgym/Reach-v0",
        total_steps=300_000,
        num_envs=32,
        num_steps=25,
        num_minibatches=4,
        update_epochs=10,
        learning_rate=1e-3,
        gamma=0.9,
        gae_lambda=0.9,
        init_log_std=-0.5,
        eval_episodes=50,
        checkpoint_every=0,
        seed=0,
    )


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer word-level LM (hidden size 32, 2 heads) over ENV's words, random weights
    from seed 0, saved as a transformers folder."""
    torch.manual_seed(0)
    return build_tiny_lm_for_env(
        tmp_path_factory.mktemp("lm") / "tiny", ENV, hidden_size=32, heads=2
    )
