"""VLM-RM's zero-shot CLIP reward with goal-baseline projection (``reward``), the image and
text encoders behind it (``backends``: transformers, open_clip) and its diagnostics and
report section (``report``)."""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "ClipLoadError",
    "ClipReward",
    "ClipRewardConfig",
    "evaluate_clip_reward",
    "load_encoder",
    "parse_clip_args",
    "projected_reward",
    "projection_matrix",
    "reward_from_spec",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ClipReward": "reward",
        "ClipRewardConfig": "reward",
        "parse_clip_args": "reward",
        "projected_reward": "reward",
        "projection_matrix": "reward",
        "reward_from_spec": "reward",
        "ClipLoadError": "backends",
        "load_encoder": "backends",
        "evaluate_clip_reward": "report",
    },
)
