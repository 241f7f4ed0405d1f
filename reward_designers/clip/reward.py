"""VLM-RM's zero-shot CLIP reward with goal-baseline projection.

Rocamonde et al., "Vision-Language Models are Zero-Shot Reward Models for Reinforcement
Learning" (ICLR 2024), section 2.3; their code: AlignmentResearch/vlmrm,
``src/vlmrm/reward_model.py`` (``CLIPReward``).

    x = the unit image embedding of a frame               (row vector, [D])
    g = mean of the unit embeddings of the goal prompts   (not re-normalised, as in VLM-RM)
    b = mean of the unit embeddings of the baseline prompts
    d = g - b
    P = alpha * d^T d / ||d||^2 + (1 - alpha) * I         (symmetric, [D, D])
    R(x) = 1 - 1/2 * ||(x - g) P||^2

alpha = 0 is the plain CLIP reward (with one goal prompt, exactly the cosine similarity
x . g); alpha = 1 keeps only the component of x - g along the goal-baseline direction.

Two ways to apply it. Per step (``gym.make(id, reward="clip:...", render_mode="rgb_array")``):
the env renders a frame each step and the reward scores a batch of one. Per rollout (the
PPO learner): the learner records ``render()`` frames ``[T, N, H, W, 3]`` and calls
``relabel(rollout)`` once before GAE, which scores every frame in large batches, reusing
the embeddings of frames it has seen before (a cache keyed on the frame's bytes).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from agentgym.config_fields import check_fields, check_ints, check_range, field_error
from agentgym.rewards.base import RewardInput, RewardOutput
from agentgym.spec import TaskSpec

if TYPE_CHECKING:
    from agentgym.learners.rollout import Rollout

log = logging.getLogger(__name__)

TERM = "clip"
PROMPT_SEPARATOR = "|"


@dataclass(frozen=True)
class ClipRewardConfig:
    """Everything a ``clip:`` reward spec can set (``clip:KEY=VALUE;KEY=VALUE``)."""

    model: str
    """A transformers CLIP/SigLIP folder or cached name, or ``open_clip:ARCH/TAG``,
    ``open_clip:ARCH@FILE``, ``open_clip:hf-hub:ORG/REPO``, ``open_clip:local-dir:PATH``."""
    goal: tuple[str, ...]
    """Prompts describing the goal state (``|`` separates several; their mean is g)."""
    baseline: tuple[str, ...] = ()
    """Prompts describing the default state (b); needed when alpha > 0."""
    alpha: float = 0.5
    """Goal-baseline projection strength in [0, 1]: 0 plain CLIP, 1 only the direction g - b."""
    backend: str = "auto"
    """auto (from the model value), transformers or open_clip."""
    device: str = "auto"
    """Where the model runs: auto (CUDA when present), cpu, cuda, cuda:1, ..."""
    batch_size: int = 256
    """Frames per forward pass when relabelling a rollout."""
    cache_size: int = 16384
    """Image embeddings kept for repeated frames (0 turns the cache off)."""
    resize: str = "squash"
    """How a frame becomes the model's square input: squash (VLM-RM's way: the whole frame,
    aspect ratio not kept) or center-crop (the model's own processor: short side resized,
    centre cropped, so a 400x600 frame loses its left and right 100 pixels)."""

    def __post_init__(self) -> None:
        if not self.model:
            raise field_error(self, "model", "a CLIP folder or open_clip:ARCH/TAG", self.model)
        if not self.goal or not all(p.strip() for p in self.goal):
            raise field_error(self, "goal", "at least one non-empty prompt", self.goal)
        check_range(self, "alpha", 0.0, 1.0)
        if self.alpha > 0 and not self.baseline:
            expected = (
                f"prompts: alpha={self.alpha} projects onto goal - baseline, so baseline= is "
                "required (or set alpha=0 for the plain CLIP reward)"
            )
            raise field_error(self, "baseline", expected, self.baseline)
        check_ints(self, ("batch_size",))
        check_ints(self, ("cache_size",), 0)
        from agentgym.reward_designers.clip.backends import RESIZE_MODES

        if self.resize not in RESIZE_MODES:
            from agentgym.registry import suggest

            expected = f"one of {list(RESIZE_MODES)}"
            raise field_error(
                self, "resize", expected, self.resize, suggest(self.resize, RESIZE_MODES)
            )


_KEYS = {f.name: f for f in fields(ClipRewardConfig)}
_ALIASES = {"batch": "batch_size", "cache": "cache_size", "goals": "goal", "baselines": "baseline"}


def parse_clip_args(args: str) -> ClipRewardConfig:
    """``model=...;goal=a|b;baseline=...;alpha=0.5`` -> ClipRewardConfig."""
    values: dict[str, Any] = {}
    for item in args.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key = _ALIASES.get(key.strip(), key.strip())
        if not sep:
            raise ValueError(f"clip reward: {item.strip()!r} is not KEY=VALUE")
        check_fields(ClipRewardConfig, [key])
        value = value.strip()
        if key in ("goal", "baseline"):
            values[key] = tuple(p.strip() for p in value.split(PROMPT_SEPARATOR) if p.strip())
        elif key == "alpha":
            values[key] = _number(key, value, float)
        elif key in ("batch_size", "cache_size"):
            values[key] = _number(key, value, int)
        else:
            values[key] = value
    for required in ("model", "goal"):
        if required not in values:
            raise ValueError(f"clip reward: {required}= is required (got keys {sorted(values)})")
    return ClipRewardConfig(**values)


def _number(key: str, value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise field_error(ClipRewardConfig, key, f"a {kind.__name__}", value) from None


def projection_matrix(
    goal: torch.Tensor, baseline: torch.Tensor | None, alpha: float
) -> torch.Tensor:
    """P = alpha * d^T d / ||d||^2 + (1 - alpha) * I with d = goal - baseline (rows [D])."""
    dim = goal.shape[-1]
    identity = torch.eye(dim, dtype=goal.dtype, device=goal.device)
    if alpha == 0.0 or baseline is None:
        return identity
    d = (goal - baseline).reshape(1, dim)
    norm2 = float((d * d).sum())
    if norm2 < 1e-12:
        raise ValueError(
            "clip reward: goal and baseline prompts embed to the same point; "
            "the goal-baseline direction is undefined (use different prompts or alpha=0)"
        )
    return alpha * (d.T @ d) / norm2 + (1.0 - alpha) * identity


def projected_reward(x: torch.Tensor, goal: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """R(x) = 1 - 1/2 ||(x - g) P||^2 for unit image embeddings x [B, D] -> [B]."""
    y = (x - goal) @ projection
    return 1.0 - 0.5 * (y * y).sum(dim=-1)


@dataclass
class _CacheStats:
    hits: int = 0
    misses: int = 0


def frame_keys(frames: np.ndarray) -> list[bytes]:
    """A 16-byte digest per frame of [B, H, W, 3] uint8 (with its shape, so crops differ)."""
    shape = repr(tuple(frames.shape[1:])).encode()
    keys = []
    for frame in np.ascontiguousarray(frames):
        h = hashlib.blake2b(shape, digest_size=16)
        h.update(frame.data)
        keys.append(h.digest())
    return keys


class ClipReward:
    """VLM-RM's CLIP reward: a RewardModel (per step) and a rollout relabeler.

    ``reward_from_spec`` builds one from ``clip:...``; the model weights load on first use
    and are shared by every ClipReward of the process with the same model and device.
    """

    needs_frames = True

    def __init__(self, config: ClipRewardConfig, encoder: Any = None) -> None:
        self.config = config
        self.name = TERM
        self._encoder = encoder
        self._goal: torch.Tensor | None = None
        self._baseline: torch.Tensor | None = None
        self._projection: torch.Tensor | None = None
        self._cache: OrderedDict[bytes, torch.Tensor] = OrderedDict()
        self.cache_stats = _CacheStats()

    # -- loading ----------------------------------------------------------------
    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            from agentgym.reward_designers.clip.backends import load_encoder

            self._encoder = load_encoder(self.config.model, self.config.backend, self.config.device)
        return self._encoder

    @property
    def device(self) -> torch.device:
        return self.encoder.device

    def _prompts(self) -> None:
        # Text embeddings are computed once: g and b are means of unit prompt embeddings,
        # deliberately not re-normalised (VLM-RM, CLIPReward.__init__).
        enc = self.encoder
        self._goal = enc.encode_text(list(self.config.goal)).mean(dim=0)
        self._baseline = (
            enc.encode_text(list(self.config.baseline)).mean(dim=0)
            if self.config.baseline
            else None
        )
        self._projection = projection_matrix(self._goal, self._baseline, self.config.alpha)

    @property
    def goal_embedding(self) -> torch.Tensor:
        if self._goal is None:
            self._prompts()
        return self._goal  # type: ignore[return-value]

    @property
    def baseline_embedding(self) -> torch.Tensor | None:
        if self._goal is None:
            self._prompts()
        return self._baseline

    @property
    def projection(self) -> torch.Tensor:
        if self._projection is None:
            self._prompts()
        return self._projection  # type: ignore[return-value]

    # -- scoring ----------------------------------------------------------------
    def embed_frames(self, frames: Any) -> torch.Tensor:
        """Unit image embeddings [B, D] of uint8 frames [B, H, W, 3], in batches of
        ``batch_size``, each distinct frame encoded once (within the call and across calls
        through the cache)."""
        arr = _as_uint8_frames(frames)
        n = arr.shape[0]
        dim = self.encoder.dim
        out = torch.empty((n, dim), dtype=torch.float32, device=self.device)
        if n == 0:
            return out
        keys = frame_keys(arr)
        todo: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            hit = self._cache.get(key) if self.config.cache_size else None
            if hit is not None:
                self._cache.move_to_end(key)
                out[i] = hit
                self.cache_stats.hits += 1
            else:
                todo.setdefault(key, []).append(i)
        self.cache_stats.misses += len(todo)
        if todo:
            firsts = [idx[0] for idx in todo.values()]
            bs = self.config.batch_size
            for start in range(0, len(firsts), bs):
                chunk = firsts[start : start + bs]
                emb = self.encoder.encode_frames(
                    torch.from_numpy(arr[chunk]), resize=self.config.resize
                )
                out[torch.as_tensor(chunk, device=out.device)] = emb.to(out.dtype)
            for key, idx in todo.items():
                if len(idx) > 1:
                    out[idx[1:]] = out[idx[0]].clone()
                if self.config.cache_size:
                    self._cache[key] = out[idx[0]].clone()
            while len(self._cache) > self.config.cache_size:
                self._cache.popitem(last=False)
        return out

    def reward_of_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """R(x) for unit image embeddings [B, D]."""
        return projected_reward(
            x.to(self.goal_embedding.device), self.goal_embedding, self.projection
        )

    def score_frames(self, frames: Any) -> torch.Tensor:
        """The reward [B] (float32, on the model's device) of uint8 frames [B, H, W, 3]."""
        return self.reward_of_embeddings(self.embed_frames(frames))

    def __call__(self, batch: RewardInput) -> RewardOutput:
        """The per-step path: frames [N, H, W, 3] from the env's ``render()``."""
        if batch.frames is None:
            raise ValueError(
                "clip reward: this batch has no frames; make the env with render_mode='rgb_array' "
                "(TaskEnv renders a frame each step for rewards with needs_frames)"
            )
        reward = self.score_frames(batch.frames).to(batch.env_reward.device)
        return RewardOutput(reward, {TERM: reward})

    def relabel(self, rollout: Rollout) -> dict[str, torch.Tensor]:
        """The rollout path: ``rollout.frames`` [T, N, H, W, 3] uint8 -> {"reward": [T, N],
        "clip": [T, N]}, on the device of the frames. Any T and N: frames are flattened and
        scored in chunks of ``batch_size`` (the last chunk may be short). Steps where
        ``rollout.valid`` is False (Gymnasium's autoreset steps) get 0 unscored."""
        frames = getattr(rollout, "frames", None)
        if frames is None:
            raise ValueError(
                "clip reward: the rollout has no frames; the learner records render() frames "
                "only for relabelers with needs_frames=True (check the envs' render_mode)"
            )
        if frames.ndim != 5 or frames.shape[-1] != 3:
            raise ValueError(
                f"clip reward: rollout.frames must be [T, N, H, W, 3], got {list(frames.shape)}"
            )
        t, n = int(frames.shape[0]), int(frames.shape[1])
        flat = frames.reshape(t * n, *frames.shape[2:])
        reward = torch.zeros(t * n, dtype=torch.float32, device=self.device)
        valid = getattr(rollout, "valid", None)
        if valid is None:
            reward = self.score_frames(flat)
        else:
            # Autoreset steps carry no transition (their reward is 0 in the learner), so
            # their frames are not worth a forward pass.
            keep = torch.as_tensor(valid).reshape(-1).to(torch.bool).cpu().numpy()
            if keep.any():
                index = np.flatnonzero(keep)
                kept = _as_uint8_frames(flat)[index]
                reward[torch.from_numpy(index).to(reward.device)] = self.score_frames(kept)
        reward = reward.reshape(t, n)
        if isinstance(frames, torch.Tensor):
            reward = reward.to(frames.device)
        return {"reward": reward, TERM: reward}

    def diagnose(
        self,
        env_id: str,
        policy: Callable[[np.ndarray], np.ndarray],
        run_dir: str | Path,
        *,
        step: int | None = None,
        seed: int = 0,
        episodes: int = 4,
        env_kwargs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The learner's evaluation hook: run ``episodes`` rendered episodes of ``policy``,
        score their frames, and write ``vlm/diagnostics.json`` and ``vlm/strip.png`` (the
        correlation panel of the report) into ``run_dir``. Returns the diagnostics."""
        from agentgym.reward_designers.clip.report import evaluate_clip_reward

        return evaluate_clip_reward(
            self,
            env_id,
            policy,
            run_dir,
            episodes=episodes,
            seed=seed,
            step=step,
            env_kwargs=env_kwargs,
        )

    # -- pickling: the weights are shared per process, not copied -----------------
    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["config"])  # type: ignore[misc]

    def __repr__(self) -> str:
        c = self.config
        return (
            f"ClipReward(model={c.model!r}, goal={list(c.goal)}, baseline={list(c.baseline)}, "
            f"alpha={c.alpha}, resize={c.resize!r})"
        )


def _as_uint8_frames(frames: Any) -> np.ndarray:
    arr = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(
            f"clip reward: frames must be uint8 [B, H, W, 3], got {arr.dtype} {list(arr.shape)}"
        )
    return arr


def reward_from_spec(args: str, task: TaskSpec | None = None) -> ClipReward:
    """The ``clip`` reward kind: ``clip:model=PATH;goal=...;baseline=...;alpha=0.5``.

    Registered in ``agentgym.rewards.spec.REWARD_KINDS``. The model path is checked now;
    the weights load on first use (once per process).
    """
    from pathlib import Path

    from agentgym.reward_designers.clip.backends import resolve_backend

    config = parse_clip_args(args)
    backend, name = resolve_backend(config.model, config.backend)
    if backend == "transformers" and not Path(name).exists() and (name.startswith((".", "/", "~"))):
        raise ValueError(f"clip reward: model={config.model!r}: no such folder")
    return ClipReward(config)


__all__ = [
    "ClipReward",
    "ClipRewardConfig",
    "parse_clip_args",
    "projected_reward",
    "projection_matrix",
    "reward_from_spec",
]
