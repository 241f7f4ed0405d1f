"""``PPOConfig``: every hyper-parameter of the PPO and population learners.

Each field carries a one-line docstring (a string literal under it);
``agentgym.config_fields.field_docs`` reads them, so the CLI's ``--help`` and the docs
come from this one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from agentgym.config_fields import (
    check_choice,
    check_ints,
    check_range,
    config_from_dict,
    field_error,
)

VECTORIZATIONS = ("auto", "native", "mjx", "sync", "threads", "async")
"""The vector env kinds a learner can step (``member_envs.vectorization_mode``)."""


@dataclass(frozen=True)
class PPOConfig:
    """Hyper-parameters of a PPO run (defaults suit agentgym/Reach-v0)."""

    env_id: str = "agentgym/Reach-v0"
    """Gymnasium env id: an agentgym/ id or any registered Gymnasium id (CartPole-v1, ...)."""
    reward: str = "env"
    """Reward spec (agentgym.rewards.parse_reward_spec); non-agentgym envs need 'env'."""
    total_steps: int = 100_000
    """Env steps to train for (summed over the vector env's sub-envs)."""
    num_envs: int = 8
    """Sub-envs in the vector env."""
    num_steps: int = 64
    """Rollout length per sub-env between updates."""
    vectorization: str = "auto"
    """Vector env kind: auto (native when the env has one, else sync), native (the env's
    batched vector env), mjx (the native env with its physics on MuJoCo XLA, a JAX
    device: the GPU where JAX has one; HalfCheetah, Hopper, Walker2d; the mjx extra),
    sync (per-env envs in one process), threads (sync with the per-env steps on every
    core: MuJoCo envs) or async (one process each)."""
    seed: int = 0
    """Seed of parameters, action sampling, minibatch order and env resets."""
    device: str = "auto"
    """Torch device: auto (cuda when present, else cpu), cpu or cuda[:i]."""
    torch_threads: int = 1
    """torch.set_num_threads on CPU for the update (rollouts run torch on one thread); small
    matrices run fastest on one thread (0 = leave torch's count as it is)."""
    compile: bool = False
    """torch.compile the whole update step (PPO's minibatch step, ~5x faster on CPU, and its
    rollout policy step, normalisation and buffer writes included, on one thread whatever
    torch_threads is; SAC's gradient step, ~1.5x): rounding differs."""
    learning_rate: float = 3e-4
    """Adam learning rate (start value when annealed)."""
    anneal_lr: bool = True
    """Linearly anneal the learning rate to 0 over total_steps."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    num_minibatches: int = 4
    """Minibatches per epoch (minibatch size = num_envs * num_steps / num_minibatches)."""
    update_epochs: int = 10
    """Passes over each rollout."""
    norm_adv: bool = True
    """Normalise advantages within each minibatch."""
    clip_coef: float = 0.2
    """PPO clip range of the probability ratio."""
    clip_vloss: bool = True
    """Clip the value loss around the rollout's values, with clip_coef."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient-norm clip (per population member)."""
    target_kl: float | None = None
    """Stop a rollout's epochs early when the approximate KL exceeds this (None: never)."""
    norm_obs: bool = True
    """Normalise observations with running statistics."""
    norm_reward: bool = True
    """Scale rewards by the running std of the discounted return."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the actor and of the critic MLPs (tanh)."""
    init_log_std: float = 0.0
    """Initial log standard deviation of Gaussian policies."""
    eval_every: int = 0
    """Env steps between evaluations (0: only at the end when eval_episodes > 0)."""
    eval_episodes: int = 10
    """Episodes per evaluation (deterministic policy)."""
    video: bool = False
    """Record a video of the first episode of each evaluation (envs that render)."""
    render_width: int = 224
    """Frame width for videos and frame-based rewards (envs that accept a width)."""
    render_height: int = 224
    """Frame height for videos and frame-based rewards (envs that accept a height)."""
    checkpoint_every: int = 50_000
    """Env steps between checkpoints (0: only at the end). Each checkpoint is also a reset
    point of the envs, which makes a resumed run bit-identical to an uninterrupted one."""
    keep_checkpoints: bool = False
    """Keep a step_<N>.pt copy of every checkpoint besides latest.pt."""
    log_every: int = 1
    """Iterations (rollout + update) between log rows."""

    def __post_init__(self) -> None:
        check_choice(self, "vectorization", VECTORIZATIONS)
        if not (self.device in ("auto", "cpu", "cuda") or str(self.device).startswith("cuda:")):
            raise field_error(
                self, "device", "'auto', 'cpu', 'cuda' or 'cuda:<index>'", self.device
            )
        positive = ("total_steps", "num_envs", "num_steps", "num_minibatches", "update_epochs")
        check_ints(self, (*positive, "log_every"))
        check_ints(self, ("eval_every", "eval_episodes", "checkpoint_every", "torch_threads"), 0)
        if self.batch_size % self.num_minibatches:
            expected = f"a divisor of num_envs * num_steps = {self.batch_size}"
            raise field_error(self, "num_minibatches", expected, self.num_minibatches)
        check_range(self, "gamma", 0.0, 1.0)
        check_range(self, "gae_lambda", 0.0, 1.0)
        if not self.hidden_sizes or any(int(h) <= 0 for h in self.hidden_sizes):
            expected = "a non-empty tuple of positive ints"
            raise field_error(self, "hidden_sizes", expected, self.hidden_sizes)
        object.__setattr__(self, "hidden_sizes", tuple(int(h) for h in self.hidden_sizes))
        if not isinstance(self.reward, str) or not self.reward.strip():
            raise field_error(self, "reward", "a reward spec string such as 'env'", self.reward)

    @property
    def batch_size(self) -> int:
        """Transitions per rollout: num_envs * num_steps."""
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches

    def to_dict(self) -> dict[str, Any]:
        """Plain types only (lists for tuples), as stored in checkpoints and run folders."""
        out = dataclasses.asdict(self)
        out["hidden_sizes"] = list(self.hidden_sizes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PPOConfig:
        """Build a config from ``to_dict`` output; unknown keys are an error with a suggestion."""
        return config_from_dict(cls, data)
