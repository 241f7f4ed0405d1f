"""``SACConfig``: every hyper-parameter of the SAC and SAC-population learners.

Each field carries a one-line docstring (a string literal under it); the CLI's ``--help``
and the docs read them (``agentgym.config_fields.field_docs`` reads them).
Defaults are stable-baselines3's / CleanRL's SAC defaults except ``learning_starts``
(see its docstring) and ``log_every``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from agentgym.learners.ppo.config import VECTORIZATIONS
from agentgym.registry import suggest


@dataclass(frozen=True)
class SACConfig:
    """Hyper-parameters of a SAC run (Haarnoja et al. 2018, automatic entropy tuning)."""

    env_id: str = "agentgym/Reach-v0"
    """Gymnasium env id with a bounded Box action space (agentgym/Reach-v0, Pendulum-v1, ...)."""
    reward: str = "env"
    """Reward spec (agentgym.rewards.parse_reward_spec); non-agentgym envs need 'env'."""
    total_steps: int = 100_000
    """Env steps to train for (summed over the vector env's sub-envs)."""
    num_envs: int = 1
    """Sub-envs in the vector env (each vector step adds num_envs transitions)."""
    vectorization: str = "auto"
    """Vector env kind: auto (native when the env has one, else sync), native (the env's
    batched vector env), sync (per-env envs in one process) or async (one process each)."""
    seed: int = 0
    """Seed of parameters, exploration, replay sampling and env resets."""
    device: str = "auto"
    """Torch device: auto (cuda when present, else cpu), cpu or cuda[:i]."""
    torch_threads: int = 1
    """torch.set_num_threads on CPU (0 = leave torch's count as it is)."""
    compile: bool = False
    """torch.compile the whole gradient step (sac/compiled.py): ~1.5x faster on CPU, rounding differs."""
    learning_rate: float = 3e-4
    """Adam learning rate of the actor, the critics and the entropy coefficient."""
    buffer_size: int = 1_000_000
    """Replay buffer capacity in transitions (held on the device; at most total_steps are allocated)."""
    batch_size: int = 256
    """Transitions per gradient step."""
    tau: float = 0.005
    """Polyak coefficient of the target critics: target <- (1 - tau) target + tau online."""
    gamma: float = 0.99
    """Discount factor."""
    learning_starts: int = 1_000
    """Env steps of uniform random actions before the first gradient step. SB3 uses 100 and
    CleanRL 5000; 1000 is 20 Reach episodes (5 of Pendulum) and 5% of a 20k-step
    candidate-scoring run, where 5000 would be a quarter of it."""
    train_freq: int = 1
    """Vector steps between training phases."""
    gradient_steps: int = 1
    """Gradient steps per training phase."""
    alpha: float = 1.0
    """Initial entropy coefficient (SB3's 'auto_1.0'); fixed when autotune is off."""
    autotune: bool = True
    """Tune the entropy coefficient towards target_entropy (Haarnoja et al. 2018b, sec. 5)."""
    target_entropy: float | None = None
    """Target policy entropy for autotune (None: -dim(A))."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the actor and of each critic MLP (ReLU)."""
    critic_layer_norm: bool = False
    """Normalise each hidden layer of the critics (and their targets) before its ReLU, as
    layer norm without a learned scale or shift (RLPD, Ball et al. 2023; Nauman et al. 2024
    find it the most effective single change to SAC on MetaWorld). It keeps the critics'
    features bounded, so Q cannot run away; no parameters are added."""
    norm_obs: bool = False
    """Normalise observations with running statistics (the buffer keeps raw observations)."""
    eval_every: int = 0
    """Env steps between evaluations (0: only at the end when eval_episodes > 0)."""
    eval_episodes: int = 10
    """Episodes per evaluation (deterministic policy: tanh of the Gaussian's mean)."""
    video: bool = False
    """Record a video of the first episode of each evaluation (envs that render)."""
    render_width: int = 224
    """Frame width for videos (envs that accept a width)."""
    render_height: int = 224
    """Frame height for videos (envs that accept a height)."""
    checkpoint_every: int = 50_000
    """Env steps between checkpoints (0: only at the end). Each checkpoint is also a reset
    point of the envs, which makes a resumed run bit-identical to an uninterrupted one."""
    keep_checkpoints: bool = False
    """Keep a step_<N>.pt copy of every checkpoint besides latest.pt."""
    log_every: int = 1_000
    """Env steps between log rows (losses are means over the gradient steps in between)."""

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f"SACConfig.{name}: expected {expected}, got {getattr(self, name)!r}")

        if self.vectorization not in VECTORIZATIONS:
            hint = suggest(str(self.vectorization), list(VECTORIZATIONS))
            raise ValueError(
                f"SACConfig.vectorization: expected one of {', '.join(VECTORIZATIONS)}, "
                f"got {self.vectorization!r}.{hint}"
            )
        if not (self.device in ("auto", "cpu", "cuda") or str(self.device).startswith("cuda:")):
            raise bad("device", "'auto', 'cpu', 'cuda' or 'cuda:<index>'")
        positive = (
            "total_steps",
            "num_envs",
            "buffer_size",
            "batch_size",
            "train_freq",
            "log_every",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise bad(name, "a positive int")
        for name in (
            "gradient_steps",
            "learning_starts",
            "eval_every",
            "eval_episodes",
            "checkpoint_every",
            "torch_threads",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise bad(name, "an int >= 0")
        if self.buffer_size < self.num_envs:
            raise bad(
                "buffer_size", f"at least num_envs ({self.num_envs}): one vector step's transitions"
            )
        if not (0.0 <= self.gamma <= 1.0):
            raise bad("gamma", "a float in [0, 1]")
        if not (0.0 < self.tau <= 1.0):
            raise bad("tau", "a float in (0, 1]")
        if not self.learning_rate > 0:
            raise bad("learning_rate", "a float > 0")
        if not self.alpha > 0:
            raise bad("alpha", "a float > 0 (the entropy coefficient; log alpha is learned)")
        if not self.hidden_sizes or any(int(h) <= 0 for h in self.hidden_sizes):
            raise bad("hidden_sizes", "a non-empty tuple of positive ints")
        object.__setattr__(self, "hidden_sizes", tuple(int(h) for h in self.hidden_sizes))
        if not isinstance(self.reward, str) or not self.reward.strip():
            raise bad("reward", "a reward spec string such as 'env'")

    @property
    def capacity(self) -> int:
        """Replay slots allocated per member: buffer_size, or total_steps when smaller."""
        return min(self.buffer_size, self.total_steps)

    def replay_bytes(self, obs_dim: int, act_dim: int) -> int:
        """Bytes of one member's full replay buffer, and of its copy in a checkpoint:
        float32 observations, next observations, actions, rewards and terminations for
        ``capacity`` transitions (Humanoid at 200k steps: 572 MB)."""
        return self.capacity * (2 * obs_dim + act_dim + 2) * 4

    def to_dict(self) -> dict[str, Any]:
        """Plain types only (lists for tuples), as stored in checkpoints and run folders."""
        out = dataclasses.asdict(self)
        out["hidden_sizes"] = list(self.hidden_sizes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SACConfig:
        """Build a config from ``to_dict`` output; unknown keys are an error with a suggestion."""
        names = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in names]
        if unknown:
            raise ValueError(
                f"SACConfig: unknown field {unknown[0]!r}.{suggest(unknown[0], names)}"
            )
        data = dict(data)
        if "hidden_sizes" in data:
            data["hidden_sizes"] = tuple(data["hidden_sizes"])
        return cls(**data)
