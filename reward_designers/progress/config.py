"""The settings of SPA's reward: ``SPAConfig`` and the ``spa:`` spec that sets it.

``spa:alpha=1;beta=0.5;body=gru`` parses (``parse_spa_args``) into an ``SPAConfig``
whose fields each say what they set; a bad key or value gets a ValueError naming it.
The reward itself is in ``reward.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from agentgym.config_fields import check_choice, check_fields, check_ints, field_error

VARIANTS = ("paper", "released")
BODIES = ("mlp", "gru")
FINAL_REWARDS = ("success", "return")
RESIDUALS = ("none", "uniform", "last")
GROUNDINGS = ("bonus", "penalty")


@dataclass(frozen=True)
class SPAConfig:
    """Everything an ``spa:`` reward spec can set (``spa:alpha=1;beta=0.5;body=gru``)."""

    alpha: float = 1.0
    """Weight of the estimated progress c_t in the step reward."""
    beta: float = 0.5
    """Weight of the grounding signal g_t (1 for a valid action, else 0)."""
    variant: str = "paper"
    """paper (alpha*c_t + beta*g_t) or released (the leave-one-out ablation of SPA-RL's code)."""
    body: str = "mlp"
    """Estimator body over per-step features: mlp (per step) or gru (over the episode)."""
    hidden: int = 64
    """Hidden width of the estimator body."""
    final_reward: str = "success"
    """R of an episode: success (the task's flag at its end) or return (its summed reward)."""
    residual: str = "none"
    """none (raw c_t, as the paper), uniform or last: where R - sum c_t goes in a finished episode."""
    grounding: str = "bonus"
    """bonus: beta * g_t (the paper); penalty: beta * (g_t - 1), which does not pay a policy
    for making its episodes longer (with a bonus, ending an episode forfeits later bonuses)."""
    grounding_bonus: float = 0.5
    """Per-step grounding bonus of the released variant (0.5 in SPA-RL's code)."""
    lr: float = 1e-3
    """Adam learning rate of the estimator."""
    epochs: int = 30
    """Passes over the episode buffer per (re)training."""
    batch_episodes: int = 32
    """Episodes per estimator minibatch."""
    buffer_episodes: int = 1024
    """Most recent finished episodes kept for (re)training."""
    min_episodes: int = 8
    """Finished episodes needed before the first training (before it, c_t = 0)."""
    retrain_every: int = 1
    """Rollouts between retrainings on the buffer (0: train only when fit() is called)."""
    device: str = "auto"
    """Where the estimator runs: auto (CUDA when present), cpu, cuda, ..."""
    seed: int = 0
    """Seed of the estimator's initialisation and minibatch order."""

    def __post_init__(self) -> None:
        check_choice(self, "variant", VARIANTS)
        check_choice(self, "body", BODIES)
        check_choice(self, "final_reward", FINAL_REWARDS)
        check_choice(self, "residual", RESIDUALS)
        check_choice(self, "grounding", GROUNDINGS)
        check_ints(self, ("hidden", "epochs", "batch_episodes", "buffer_episodes", "min_episodes"))
        check_ints(self, ("retrain_every",), 0)


def parse_spa_args(args: str) -> SPAConfig:
    """``alpha=1;beta=0.5;body=gru`` -> SPAConfig (ValueError naming a bad key or value)."""
    kinds = {f.name: {"float": float, "int": int}.get(str(f.type), str) for f in fields(SPAConfig)}
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in args.split(";"))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"spa reward: expected KEY=VALUE, got {part!r}")
        check_fields(SPAConfig, [key])
        try:
            values[key] = kinds[key](value.strip())
        except ValueError:
            raise field_error(SPAConfig, key, f"a {kinds[key].__name__}", value.strip()) from None
    return SPAConfig(**values)
