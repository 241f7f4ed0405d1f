"""SPA-RL's stepwise progress attribution: a progress ``estimator`` trained on the
policy's own trajectories spreads each episode's final reward over its steps (``reward``),
with the settings and the ``spa:`` spec in ``config``."""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "BODIES",
    "FINAL_REWARDS",
    "GROUNDINGS",
    "RESIDUALS",
    "VARIANTS",
    "Episode",
    "ProgressEstimator",
    "SPAConfig",
    "SPAReward",
    "Segment",
    "leave_one_out_baseline",
    "pad_episodes",
    "parse_spa_args",
    "reward_from_spec",
    "split_episodes",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **{
            name: "config"
            for name in (
                "BODIES",
                "FINAL_REWARDS",
                "GROUNDINGS",
                "RESIDUALS",
                "VARIANTS",
                "SPAConfig",
                "parse_spa_args",
            )
        },
        "Episode": "estimator",
        "ProgressEstimator": "estimator",
        "pad_episodes": "estimator",
        "SPAReward": "reward",
        "Segment": "reward",
        "leave_one_out_baseline": "reward",
        "reward_from_spec": "reward",
        "split_episodes": "reward",
    },
)
