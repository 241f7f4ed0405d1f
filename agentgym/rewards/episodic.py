"""One reward model per env for models that remember the episode they score.

Most reward models are functions of one transition, so one instance can score many envs.
A model that pays something once per episode (the subgoal bonus) must tell episodes of
different envs apart; a learner that steps several single envs gives each its own copy
from ``per_env``: models with ``for_env()`` make a copy sharing what is costly (an LLM
queue, proposals) and keeping their own episode state; sums are rebuilt around them.
"""

from __future__ import annotations

from agentgym.rewards.base import RewardModel
from agentgym.rewards.builtin import WeightedSum


def per_env(model: RewardModel) -> RewardModel:
    """``model`` itself, or a copy for one more env where it (or a part) keeps episode state."""
    for_env = getattr(model, "for_env", None)
    if callable(for_env):
        return for_env()
    if isinstance(model, WeightedSum):
        parts = [(w, per_env(m)) for w, m in model.parts]
        if any(new is not old for (_, new), (_, old) in zip(parts, model.parts, strict=True)):
            return type(model)(parts)
    return model
