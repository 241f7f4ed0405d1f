"""stable-baselines3's PPO trained on any agentgym reward, into an agentgym run folder:
the baseline our PPO is measured against. ``vec_env`` adapts agentgym envs and rewards to
SB3's VecEnv; ``learner`` runs, checkpoints and resumes SB3's PPO from a ``PPOConfig``."""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "AgentgymRewardVecEnv",
    "SB3Trainer",
    "is_agentgym_env",
    "make_sb3_vec_env",
    "resume_sb3_ppo",
    "sb3_ppo_kwargs",
    "train_sb3_ppo",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AgentgymRewardVecEnv": "vec_env",
        "is_agentgym_env": "vec_env",
        "make_sb3_vec_env": "vec_env",
        "SB3Trainer": "learner",
        "resume_sb3_ppo": "learner",
        "sb3_ppo_kwargs": "learner",
        "train_sb3_ppo": "learner",
    },
)
