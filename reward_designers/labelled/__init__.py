"""Rewards from LLM labels of the agent's own observations (issue #23): ONI's intrinsic
reward (``oni``: an asynchronous ``labeller``, a ``classifier`` distilling its labels)
and subgoal bonuses (``subgoals``: LLM proposals judged by ``rules`` or the LLM)."""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "AsyncLabeller",
    "CaptionClassifier",
    "LabelStats",
    "OniConfig",
    "OniReward",
    "SubgoalConfig",
    "SubgoalReward",
    "caption_features",
    "parse_options",
    "parse_subgoals",
    "rule_for",
    "text_key",
    "yes_no",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AsyncLabeller": "labeller",
        "LabelStats": "labeller",
        "text_key": "labeller",
        "CaptionClassifier": "classifier",
        "caption_features": "classifier",
        "OniConfig": "oni",
        "OniReward": "oni",
        "SubgoalConfig": "subgoals",
        "SubgoalReward": "subgoals",
        "parse_subgoals": "proposals",
        "parse_options": "options",
        "rule_for": "rules",
        "yes_no": "llm_ask",
    },
)
