"""The RewardModel protocol: one interface for every reward source.

A reward model maps a batch of transitions (``RewardInput``, every tensor with the
leading dimension ``num_envs``) to a total reward ``[num_envs]`` and its named
components (``RewardOutput``). Per-step models run inside wrappers; models that need
whole rollouts (CLIP on frames, SPA on trajectories) also implement ``relabel``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch

from agentgym.spec import TaskSpec

StateBatch = dict[str, "torch.Tensor | list[str]"]


class RewardInput(NamedTuple):
    """A batch of N transitions as a reward model sees them."""

    state: StateBatch
    """The TaskSpec's state variables after the step: tensors [N, ...], text as list[str]."""
    action: torch.Tensor
    """The actions taken, [N, ...]."""
    env_reward: torch.Tensor
    """The env's own reward, [N] (privileged: only EnvReward reads it)."""
    env_terms: dict[str, torch.Tensor]
    """The env's own named reward components, each [N]."""
    success: torch.Tensor
    """The task's success flag, [N] bool (privileged: only SparseSuccessReward reads it)."""
    frames: torch.Tensor | None = None
    """Rendered frames [N, H, W, 3] uint8, present only for models with needs_frames."""

    @property
    def num_envs(self) -> int:
        return int(self.env_reward.shape[0])


class RewardOutput(NamedTuple):
    reward: torch.Tensor
    """Total reward, [N] float32."""
    terms: dict[str, torch.Tensor]
    """Named components, each [N] float32; they sum to ``reward``."""


@runtime_checkable
class RewardModel(Protocol):
    """Anything that scores a batch of transitions."""

    name: str
    needs_frames: bool

    def __call__(self, batch: RewardInput) -> RewardOutput: ...


class RewardError(ValueError):
    """A reward model produced something other than (reward [N], terms {name: [N]})."""


def _as_float_vector(value: Any, n: int, device: torch.device, what: str) -> torch.Tensor:
    if isinstance(value, (int, float, bool)):
        return torch.full((n,), float(value), dtype=torch.float32, device=device)
    if not isinstance(value, torch.Tensor):
        raise RewardError(
            f"{what} must be a torch.Tensor of shape [{n}], got {type(value).__name__}"
        )
    if value.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise RewardError(f"{what} must be floating point, got dtype {value.dtype}")
    if value.shape == (n, 1):
        value = value.reshape(n)
    if tuple(value.shape) != (n,):
        raise RewardError(
            f"{what} must have shape [{n}] (one value per env), got {list(value.shape)}"
        )
    return value.to(device=device, dtype=torch.float32)


def check_output(
    reward: Any, terms: Any, n: int, device: torch.device, source: str
) -> RewardOutput:
    """Validate what a reward model returned and coerce it to float32 [N] tensors."""
    total = _as_float_vector(reward, n, device, f"{source}: the total reward")
    if not isinstance(terms, Mapping):
        raise RewardError(
            f"{source}: the components must be a dict of name -> tensor, got {type(terms).__name__}"
        )
    clean: dict[str, torch.Tensor] = {}
    for key, value in terms.items():
        if not isinstance(key, str):
            raise RewardError(f"{source}: component names must be str, got {key!r}")
        clean[key] = _as_float_vector(value, n, device, f"{source}: component {key!r}")
    return RewardOutput(total, clean)


def to_tensor_state(
    reward_state: Mapping[str, Any], spec: TaskSpec | None, device: torch.device | str = "cpu"
) -> StateBatch:
    """Batched ``reward_state`` (arrays [N, ...], text as sequences) -> tensors on ``device``.

    Gymnasium's vector envs add a boolean mask ``_name`` beside each stacked key; those
    are dropped here.
    """
    out: StateBatch = {}
    text = spec.text_state_names if spec is not None else ()
    for name, value in reward_state.items():
        if name.startswith("_"):
            continue
        if (
            name in text
            or (isinstance(value, np.ndarray) and value.dtype.kind in "OUS")
            or (isinstance(value, Sequence) and value and isinstance(value[0], str))
        ):
            out[name] = [str(v) for v in value]
            continue
        arr = np.asarray(value)
        dtype = torch.float32 if arr.dtype.kind == "f" else None
        out[name] = torch.as_tensor(arr, dtype=dtype, device=device)
    return out


def stack_one(reward_state: Mapping[str, Any]) -> dict[str, Any]:
    """One env's reward_state -> a batch of one."""
    return {k: [v] if isinstance(v, str) else np.asarray(v)[None] for k, v in reward_state.items()}


def make_input(
    reward_state: Mapping[str, Any],
    action: Any,
    env_reward: Any,
    env_terms: Mapping[str, Any],
    success: Any,
    spec: TaskSpec | None,
    device: torch.device | str = "cpu",
    frames: Any = None,
) -> RewardInput:
    """Build a RewardInput from batched numpy values (leading dimension N)."""
    env_reward_t = torch.as_tensor(np.asarray(env_reward, dtype=np.float32), device=device)
    n = int(env_reward_t.shape[0])
    act = np.asarray(action)
    action_t = torch.as_tensor(
        act, dtype=torch.float32 if act.dtype.kind == "f" else None, device=device
    )
    terms = {
        k: torch.as_tensor(np.asarray(v, dtype=np.float32), device=device)
        for k, v in env_terms.items()
        if not k.startswith("_")
    }
    success_t = torch.as_tensor(np.asarray(success, dtype=bool), device=device).reshape(n)
    frames_t = None if frames is None else torch.as_tensor(np.asarray(frames), device=device)
    return RewardInput(
        to_tensor_state(reward_state, spec, device),
        action_t,
        env_reward_t,
        terms,
        success_t,
        frames_t,
    )
