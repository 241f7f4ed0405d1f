"""stable-baselines3 VecEnvs of agentgym envs scored by an agentgym reward.

``AgentgymRewardVecEnv`` applies any per-step agentgym reward spec to an SB3 VecEnv,
one batched call of the reward model per vector step (SB3 hands back a list of info
dicts; their ``reward_state`` entries are stacked into the batch a reward program
expects). ``make_sb3_vec_env`` builds the training VecEnv of a ``PPOConfig`` (sub-envs,
this reward, normalisation) that ``train_sb3_ppo`` (learner.py) trains on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from agentgym.rewards import RewardModel, RewardOutput, make_input, resolve_reward
from agentgym.spec import TaskSpec

if TYPE_CHECKING:
    from agentgym.learners.ppo.config import PPOConfig

__all__ = ["AgentgymRewardVecEnv", "is_agentgym_env", "make_sb3_vec_env"]


class AgentgymRewardVecEnv(VecEnvWrapper):
    """Replace the reward of an SB3 VecEnv of agentgym envs with an agentgym reward.

    The sub-envs should be made with their own reward (``reward="env"``, the default);
    this wrapper reads each step's ``info["reward_state"]``, ``info["success"]`` and
    ``info["reward_terms"]``, scores all envs in one call on ``device``, and writes the
    new components to ``info["reward_terms"]`` (the env's own reward stays in
    ``info["env_reward"]``). SB3 resets a finished env inside ``step_wait`` but keeps
    the final step's info, so a final step is scored on its own state.
    """

    def __init__(
        self,
        venv: VecEnv,
        reward: RewardModel | str,
        task_spec: TaskSpec | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(venv)
        if task_spec is None:
            try:
                task_spec = venv.get_attr("task_spec", [0])[0]
            except AttributeError as err:
                raise ValueError(
                    "AgentgymRewardVecEnv: the sub-envs have no task_spec; only agentgym envs "
                    "(TaskEnv) describe the state a reward reads"
                ) from err
        self.task_spec = task_spec
        model = resolve_reward(reward, task_spec)
        if model is None:
            raise ValueError("AgentgymRewardVecEnv: reward 'env' needs no wrapper")
        if model.needs_frames:
            raise ValueError(
                f"AgentgymRewardVecEnv: {model.name} scores frames; SB3 cannot relabel rollouts, "
                "train it with agentgym's PPO (--learner ppo)"
            )
        self.reward_model = model
        self.device = torch.device(device)
        self._actions: np.ndarray | None = None
        self.last_output: RewardOutput | None = None

    def reset(self) -> Any:
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)
        self.venv.step_async(actions)

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, env_rewards, dones, infos = self.venv.step_wait()
        if any("reward_state" not in info for info in infos):
            raise KeyError(
                "AgentgymRewardVecEnv: a sub-env put no 'reward_state' in info; only envs that "
                "follow the agentgym contract (TaskEnv) can be scored by a reward model"
            )
        batch = make_input(
            _stack([info["reward_state"] for info in infos]),
            self._actions,
            [info.get("env_reward", r) for info, r in zip(infos, env_rewards, strict=True)],
            _stack_terms([info.get("reward_terms") or {} for info in infos]),
            [bool(info.get("success", False)) for info in infos],
            self.task_spec,
            self.device,
        )
        out = self.reward_model(batch)
        self.last_output = out
        terms = {k: v.detach().cpu().numpy() for k, v in out.terms.items()}
        for i, (info, env_reward) in enumerate(zip(infos, env_rewards, strict=True)):
            info["env_reward"] = float(info.get("env_reward", env_reward))
            info["reward_terms"] = {k: float(v[i]) for k, v in terms.items()}
        return obs, out.reward.detach().cpu().numpy().astype(np.float32), dones, infos


def _stack(states: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in states[0]:
        values = [s[key] for s in states]
        out[key] = (
            values if isinstance(values[0], str) else np.stack([np.asarray(v) for v in values])
        )
    return out


def _stack_terms(terms: list[dict[str, float]]) -> dict[str, np.ndarray]:
    keys = dict.fromkeys(k for t in terms for k in t)
    return {k: np.asarray([t.get(k, 0.0) for t in terms], dtype=np.float32) for k in keys}


def is_agentgym_env(env_id: str) -> bool:
    """Whether ``env_id`` makes a TaskEnv (which accepts ``reward=`` and has a TaskSpec)."""
    from gymnasium.envs.registration import load_env_creator

    from agentgym.core import TaskEnv

    entry = gym.spec(env_id).entry_point
    creator = load_env_creator(entry) if isinstance(entry, str) else entry
    return isinstance(creator, type) and issubclass(creator, TaskEnv)


def make_sb3_vec_env(config: PPOConfig, device: str = "cpu") -> VecEnv:
    """The training VecEnv of a PPOConfig: sub-envs, the agentgym reward, normalisation."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

    env_id = config.env_id
    if config.reward != "env" and not is_agentgym_env(env_id):
        raise ValueError(
            f"reward: {env_id!r} is not an agentgym env, so it only takes reward 'env', got "
            f"{config.reward!r}"
        )
    if config.vectorization == "native":
        raise ValueError(
            "PPOConfig.vectorization: 'native', but the stable-baselines3 baseline steps SB3's "
            "own VecEnv of per-env envs; use 'auto' (DummyVecEnv), 'sync' or 'async'"
        )
    if config.vectorization == "threads":
        raise ValueError(
            "PPOConfig.vectorization: 'threads' steps agentgym's own threaded vector env, "
            "which SB3's VecEnvs do not use; use 'auto' (DummyVecEnv), 'sync' or 'async'"
        )
    fns = [lambda: gym.make(env_id) for _ in range(config.num_envs)]
    if config.vectorization == "async":
        # spawn, not fork: fork deadlocks when the parent holds an EGL context (FACTS.md).
        venv: VecEnv = SubprocVecEnv(fns, start_method="spawn")
    else:
        venv = DummyVecEnv(fns)
    venv.seed(config.seed)
    if config.reward != "env":
        venv = AgentgymRewardVecEnv(venv, config.reward, device=device)
    if config.norm_obs or config.norm_reward:
        venv = VecNormalize(
            venv, norm_obs=config.norm_obs, norm_reward=config.norm_reward, gamma=config.gamma
        )
    return venv
