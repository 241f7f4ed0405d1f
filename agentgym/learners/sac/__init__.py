"""agentgym's SAC (Haarnoja et al. 2018, automatic entropy tuning) and its population mode.

``SAC`` learns continuous control from a replay buffer on the learner's device;
``SACPopulation`` trains K members (one reward and seed each) with their networks stacked
in one process. Parts: ``config`` (SACConfig), ``networks`` (stacked actor and twin
critics, the squashed Gaussian), ``replay``, ``update`` (the losses and one gradient
step), ``optim``, ``normalize``, ``learner``, ``population``. The envs and their episode
bookkeeping are PPO's (``agentgym.learners.ppo.member_envs``).
"""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "SAC",
    "ReplayBuffer",
    "SACConfig",
    "SACPopulation",
    "actor_loss",
    "alpha_loss",
    "critic_loss",
    "critic_target",
    "squashed_gaussian",
    "train_sac_population",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SAC": "learner",
        "SACConfig": "config",
        "SACPopulation": "population",
        "train_sac_population": "population",
        "ReplayBuffer": "replay",
        "actor_loss": "update",
        "alpha_loss": "update",
        "critic_loss": "update",
        "critic_target": "update",
        "squashed_gaussian": "networks",
    },
)
