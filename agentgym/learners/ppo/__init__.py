"""agentgym's PPO (Schulman et al. 2017) and its population mode.

``PPO`` is one readable learner for discrete and continuous actions; ``Population`` trains
K members (one reward and seed each) with their networks stacked in one process. Parts:
``config`` (PPOConfig), ``member_envs`` (a member's vector env), ``collect`` (the rollout),
``update`` (the clipped losses), ``networks``, ``normalize``, ``optim``, ``rng`` (the
members' random streams), ``learner``, ``population``. Each stateful part saves and loads
its own state; ``PPO.member_state`` assembles a checkpoint from them.
"""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "PPO",
    "Callback",
    "PPOConfig",
    "Population",
    "policy_loss",
    "train_population",
    "value_loss",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PPO": "learner",
        "Callback": "learner",
        "PPOConfig": "config",
        "Population": "population",
        "train_population": "population",
        "policy_loss": "update",
        "value_loss": "update",
    },
)
