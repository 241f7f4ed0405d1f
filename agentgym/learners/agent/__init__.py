"""Language-model policies for text, web and tool envs (SPA-RL's pipeline): behaviour
cloning on expert demonstrations (``bc``), then PPO on the policy's own episodes
(``learner``; its losses are PPO's, ``update``), with rollouts sampled by the policy or a
vLLM engine (``sampling``)."""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "AgentPPO",
    "AgentPPOConfig",
    "Episode",
    "LMPolicy",
    "PromptFormat",
    "Step",
    "bc_examples",
    "behaviour_clone",
    "make_sampler",
    "packaged_gguf",
    "policy_path",
    "read_demos",
    "require_vllm_rollouts",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AgentPPO": "learner",
        "AgentPPOConfig": "config",
        "Episode": "episodes",
        "Step": "episodes",
        "LMPolicy": "policy",
        "PromptFormat": "policy",
        "policy_path": "pretrained",
        "packaged_gguf": "pretrained",
        "bc_examples": "bc",
        "behaviour_clone": "bc",
        "read_demos": "bc",
        "make_sampler": "sampling",
        "require_vllm_rollouts": "sampling",
    },
)
