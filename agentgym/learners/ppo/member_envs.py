"""One population member's vector env: construction, reward model, episode bookkeeping.

Everything here is on the host side of the env boundary: numpy in, numpy out. The
learner moves observations to its device each step and the rest once per rollout.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from agentgym.learners.ppo.config import PPOConfig
from agentgym.learners.rollout import Rollout, RolloutRewardModel
from agentgym.rewards import parse_reward_spec
from agentgym.wrappers import VectorRewardWrapper


class MemberStep(NamedTuple):
    """One vector step of a member's envs, every field [N, ...] numpy (``info`` as given)."""

    obs: np.ndarray
    reward: np.ndarray
    """The reward that trains: the env's, or the member's reward model's (float32)."""
    env_reward: np.ndarray
    """The env's own reward (float32), the task metric whatever reward trains."""
    terminated: np.ndarray
    truncated: np.ndarray
    success: np.ndarray
    """The task's success flag (False for envs without one)."""
    info: dict[str, Any]


def check_spaces(obs_space: gym.Space, act_space: gym.Space, env_id: str) -> tuple[int, int, bool]:
    """(obs_dim, act_dim, discrete) for the MLP policy, or a clear error."""
    if not isinstance(obs_space, spaces.Box):
        raise ValueError(
            f"PPOConfig.env_id {env_id!r}: the MLP policy needs a Box observation space, got "
            f"{obs_space}; flatten dict/discrete observations with a Gymnasium wrapper first"
        )
    if isinstance(act_space, spaces.Discrete):
        return int(np.prod(obs_space.shape)), int(act_space.n), True
    if isinstance(act_space, spaces.Box):
        return int(np.prod(obs_space.shape)), int(np.prod(act_space.shape)), False
    raise ValueError(
        f"PPOConfig.env_id {env_id!r}: actions must be Discrete or Box, got {act_space}"
    )


def make_vector_env(config: PPOConfig, render: bool = False) -> gym.vector.VectorEnv:
    """``gym.make_vec`` with the config's size and mode; frames when ``render``."""
    kwargs: dict[str, Any] = {}
    if render:
        kwargs = {
            "render_mode": "rgb_array",
            "width": config.render_width,
            "height": config.render_height,
        }
    vector_kwargs: dict[str, Any] = {}
    if config.vectorization == "async":
        # spawn, not fork: a forked child deadlocks when the parent holds an EGL context
        # (eval videos, frame rewards); see ../shared/FACTS.md.
        vector_kwargs = {"shared_memory": True, "context": "spawn"}

    def make(**kw):
        return gym.make_vec(
            config.env_id,
            num_envs=config.num_envs,
            vectorization_mode=config.vectorization,
            vector_kwargs=vector_kwargs,
            **kw,
        )

    try:
        try:
            return make(**kwargs)
        except TypeError:
            if not render:
                raise
            # Envs with a fixed frame size (CartPole) take no width/height.
            return make(render_mode="rgb_array")
    except gym.error.Error as err:
        raise ValueError(f"PPOConfig.env_id {config.env_id!r}: {err}") from err


def _terms_from_info(info: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reward components of one vector step -> {name: (values [N], present mask [N])}."""
    terms = info.get("reward_terms")
    if isinstance(terms, dict):
        return {
            k: (np.asarray(v, dtype=np.float64), terms.get(f"_{k}", True))
            for k, v in terms.items()
            if not k.startswith("_")
        }
    # Gymnasium's own envs (HalfCheetah: reward_forward, reward_ctrl) name them reward_*.
    return {
        k[len("reward_") :]: (np.asarray(v, dtype=np.float64), info.get(f"_{k}", True))
        for k, v in info.items()
        if k.startswith("reward_") and isinstance(v, np.ndarray) and v.dtype.kind == "f"
    }


class MemberEnvs:
    """A member's vector env with its per-step reward wrapper or rollout relabeler."""

    def __init__(
        self, config: PPOConfig, device: torch.device, relabel: RolloutRewardModel | None = None
    ) -> None:
        self.config = config
        model = None
        if config.reward != "env":
            probe = gym.make(config.env_id)
            spec = getattr(probe.unwrapped, "task_spec", None)
            probe.close()
            model = parse_reward_spec(config.reward, spec)
            if relabel is None and callable(getattr(model, "relabel", None)):
                relabel = model  # a rollout-level model (CLIP, SPA) from the reward spec
                model = None
        self.relabel = relabel
        self.needs_frames = bool(relabel is not None and getattr(relabel, "needs_frames", False))
        self.needs_infos = bool(relabel is not None and getattr(relabel, "needs_infos", False))
        envs = make_vector_env(config, render=self.needs_frames)
        if model is not None:
            envs = VectorRewardWrapper(envs, model, device)
        self.envs = envs
        self.num_envs = config.num_envs
        self.episode_return = np.zeros(self.num_envs)
        self.episode_length = np.zeros(self.num_envs, dtype=np.int64)
        self.finished: list[tuple[float, int, float]] = []  # (return, length, success or nan)
        self.term_sums: dict[str, float] = {}
        self.env_reward_sum = 0.0
        self.valid_steps = 0

    def reset(self, seeds: list[int]) -> np.ndarray:
        obs, _ = self.envs.reset(seed=seeds)
        self.episode_return[:] = 0.0
        self.episode_length[:] = 0
        return obs

    def step(self, actions: np.ndarray, valid: np.ndarray) -> MemberStep:
        """Step the envs with ``actions``; ``valid`` [N] marks the sub-envs whose step is a
        real transition (not Gymnasium's autoreset step), the only ones the statistics count."""
        space = self.envs.single_action_space
        if isinstance(space, spaces.Box):  # the Gaussian's samples are unbounded; the env's are not
            actions = np.clip(actions, space.low, space.high)
        obs, reward, terminated, truncated, info = self.envs.step(actions)
        reward = np.asarray(reward, dtype=np.float32)
        env_reward = (
            np.asarray(info["env_reward"], dtype=np.float32) if "env_reward" in info else reward
        )
        success = np.asarray(info.get("success", np.zeros(self.num_envs, bool)), dtype=bool)
        has_success = "success" in info
        # Bookkeeping of the env's own return (the task metric), whatever reward trains.
        self.episode_return += np.where(valid, env_reward, 0.0)
        self.episode_length += valid
        self.env_reward_sum += float(env_reward[valid].sum())
        self.valid_steps += int(valid.sum())
        for name, (values, present) in _terms_from_info(info).items():
            mask = valid & np.asarray(present, dtype=bool)
            self.term_sums[name] = self.term_sums.get(name, 0.0) + float(values[mask].sum())
        for i in np.flatnonzero(terminated | truncated):
            self.finished.append(
                (
                    float(self.episode_return[i]),
                    int(self.episode_length[i]),
                    float(success[i]) if has_success else float("nan"),
                )
            )
            self.episode_return[i] = 0.0
            self.episode_length[i] = 0
        return MemberStep(obs, reward, env_reward, terminated, truncated, success, info)

    def relabel_rewards(self, rollout: Rollout) -> torch.Tensor:
        """This member's rewards [T, N] from its rollout-level reward model, zero on
        autoreset steps; the model's other outputs are logged as reward terms."""
        model = self.relabel
        out = model.relabel(rollout)
        if "reward" not in out:
            raise ValueError(
                f"{model.name}.relabel must return a dict with 'reward' [T, N]; got keys {sorted(out)}"
            )
        device = rollout.rewards.device
        reward = out["reward"].to(device, torch.float32)
        if reward.shape != rollout.rewards.shape:
            raise ValueError(
                f"{model.name}.relabel: 'reward' must have shape "
                f"{list(rollout.rewards.shape)}, got {list(reward.shape)}"
            )
        mask = rollout.valid.float()
        n = mask.sum().clamp(min=1.0)
        for name, value in out.items():
            if name != "reward":
                total = float((value.to(device, torch.float32) * mask).sum() / n) * float(n)
                self.term_sums[name] = self.term_sums.get(name, 0.0) + total
        return reward * mask

    def take_stats(self) -> dict[str, float]:
        """Episode and reward statistics since the last call (then cleared)."""
        row: dict[str, float] = {}
        if self.finished:
            returns, lengths, successes = zip(*self.finished, strict=True)
            row["episode_return"] = float(np.mean(returns))
            row["episode_length"] = float(np.mean(lengths))
            row["episodes"] = float(len(self.finished))
            if not np.isnan(successes).any():
                row["success_rate"] = float(np.mean(successes))
        if self.valid_steps:
            row["env_reward"] = self.env_reward_sum / self.valid_steps
            for name, total in self.term_sums.items():
                row[f"reward_terms/{name}"] = total / self.valid_steps
        self.finished, self.term_sums = [], {}
        self.env_reward_sum, self.valid_steps = 0.0, 0
        return row

    def render(self) -> np.ndarray:
        """Frames of every sub-env, [N, H, W, 3] uint8."""
        return np.stack(self.envs.render())

    def close(self) -> None:
        self.envs.close()
