"""Apply a reward model to one env or to a Gymnasium vector env.

``RewardWrapper`` scores each step of one env. ``VectorRewardWrapper`` scores a whole
vector step in one call of the model on a torch device, reading the stacked
``info["reward_state"]`` that Gymnasium's vector envs deliver.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from agentgym.core import apply_reward
from agentgym.rewards import RewardInput, RewardModel, RewardOutput, make_input, resolve_reward
from agentgym.spec import TaskSpec


def task_spec_of(env: gym.Env | VectorEnv) -> TaskSpec | None:
    """The TaskSpec of an env or of a vector env's sub-envs, when it has one."""
    if isinstance(env, VectorEnv):
        spec = env.get_attr("task_spec") if hasattr(env, "get_attr") else None
        return spec[0] if spec else None
    return getattr(env.unwrapped, "task_spec", None)


class RewardWrapper(gym.Wrapper):
    """Replace an env's reward with a reward model's, keeping the env's in info."""

    def __init__(self, env: gym.Env, reward: RewardModel | str) -> None:
        super().__init__(env)
        self.task_spec = task_spec_of(env)
        model = resolve_reward(reward, self.task_spec)
        if model is None:
            raise ValueError("RewardWrapper: reward 'env' needs no wrapper")
        self.reward_model = model

    def step(self, action: Any):
        obs, env_reward, terminated, truncated, info = self.env.step(action)
        if "reward_state" not in info:
            raise KeyError(
                "RewardWrapper: the env put no 'reward_state' in info; only envs that follow the "
                "agentgym contract (TaskEnv) can be scored by a reward model"
            )
        env_info = dict(info)
        env_info["env_reward_terms"] = info.get("reward_terms")
        env_reward = float(info.get("env_reward", env_reward))
        frame = self.env.render() if self.reward_model.needs_frames else None
        reward, terms = apply_reward(
            self.reward_model, self.task_spec, action, env_reward, env_info, frame
        )
        info["env_reward"] = env_reward
        info["reward_terms"] = terms
        return obs, reward, terminated, truncated, info


class VectorRewardWrapper(VectorWrapper):
    """Evaluate a reward model once per vector step on ``device``.

    The sub-envs should be made with their own reward (``reward="env"``); this wrapper
    reads their stacked ``reward_state``, ``success`` and ``reward_terms``. Sub-envs that
    are resetting this step (Gymnasium's next-step autoreset) get reward 0, exactly as
    they would with the model applied inside each env.
    """

    def __init__(
        self, env: VectorEnv, reward: RewardModel | str, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(env)
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(
                f"VectorRewardWrapper: autoreset_mode must be NEXT_STEP, got {mode}; rewards of "
                "final steps would otherwise be scored on reset states"
            )
        self.task_spec = task_spec_of(env)
        model = resolve_reward(reward, self.task_spec)
        if model is None:
            raise ValueError("VectorRewardWrapper: reward 'env' needs no wrapper")
        if model.needs_frames:
            raise ValueError(
                f"VectorRewardWrapper: {model.name} scores frames; apply it per rollout in the learner"
            )
        self.reward_model = model
        self.device = torch.device(device)
        self._resetting = np.zeros(self.num_envs, dtype=bool)
        self.last_output: RewardOutput | None = None

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        self._resetting[:] = False
        return self.env.reset(seed=seed, options=options)

    def step(self, actions: Any):
        obs, env_reward, terminated, truncated, infos = self.env.step(actions)
        reward, out = score_vector_step(
            self.reward_model,
            self.task_spec,
            self.device,
            actions,
            env_reward,
            infos,
            ~self._resetting,
        )
        self.last_output = out
        self._resetting = np.logical_or(terminated, truncated)
        return obs, reward, terminated, truncated, infos


def score_vector_step(
    model: RewardModel,
    task_spec: TaskSpec | None,
    device: torch.device,
    actions: Any,
    env_reward: np.ndarray,
    infos: dict[str, Any],
    live: np.ndarray,
) -> tuple[np.ndarray, RewardOutput]:
    """Score one vector step of N sub-envs with ``model`` in one call on ``device``.

    Reads the stacked ``reward_state``, ``success`` and ``reward_terms`` of ``infos``;
    sub-envs where ``live`` [N] is False (Gymnasium's next-step autoreset) get 0. Writes
    the env's reward to ``infos["env_reward"]`` and the model's terms to
    ``infos["reward_terms"]``; returns (rewards float64 [N], the model's output). The one
    scoring path of ``VectorRewardWrapper`` and of the learners' population members, each
    of which scores its own rows of a shared batch (in two halves, ``vector_step_input``
    then ``finish_vector_step``, when a model answers asynchronously).
    """
    batch = vector_step_input(task_spec, device, actions, env_reward, infos)
    return finish_vector_step(model(batch), live, env_reward, infos)


def vector_step_input(
    task_spec: TaskSpec | None,
    device: torch.device,
    actions: Any,
    env_reward: np.ndarray,
    infos: dict[str, Any],
) -> RewardInput:
    """The reward model's input for one vector step (see ``score_vector_step``)."""
    n = len(env_reward)
    terms_in = infos.get("reward_terms", {})
    env_terms = {
        k: np.where(terms_in.get(f"_{k}", np.ones(n, bool)), v, 0.0)
        for k, v in terms_in.items()
        if not k.startswith("_")
    }
    acts = np.asarray(actions)
    if acts.dtype.kind in "OUS":
        # Text commands: reward models see whether each command was valid, as they do
        # inside a single TextTaskEnv (agentgym.text_env), not the raw strings.
        acts = np.asarray(infos.get("action_valid", np.zeros(n, bool)), dtype=np.int64)
    return make_input(
        infos["reward_state"],
        acts,
        infos.get("env_reward", env_reward),
        env_terms,
        infos.get("success", np.zeros(n, bool)),
        task_spec,
        device,
    )


def input_rows(batch: RewardInput, rows: slice) -> RewardInput:
    """The rows ``rows`` of a reward model's input: what ``vector_step_input`` gives for
    those sub-envs' part of a vector step (views, no copies; text stays a list)."""
    return RewardInput(
        {name: value[rows] for name, value in batch.state.items()},
        batch.action[rows],
        batch.env_reward[rows],
        {name: value[rows] for name, value in batch.env_terms.items()},
        batch.success[rows],
        None if batch.frames is None else batch.frames[rows],
    )


def masked_output(out: RewardOutput, live: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A reward model's output on the host, zero where not ``live`` [N]: (reward [N],
    {term: [N]}), each in the model's dtype."""
    # Masked on the host, where the values go anyway: on the CPU a handful of numpy ops
    # cost ~1 us each against ~3 for torch's on tensors this small, and a population
    # pays them per member and vector step.
    live = np.asarray(live, dtype=bool)

    def masked_array(value: torch.Tensor) -> np.ndarray:
        array = value.cpu().numpy()
        return np.where(live, array, np.zeros((), dtype=array.dtype))  # keeps the dtype

    return masked_array(out.reward), {k: masked_array(v) for k, v in out.terms.items()}


def finish_vector_step(
    out: RewardOutput, live: np.ndarray, env_reward: np.ndarray, infos: dict[str, Any]
) -> tuple[np.ndarray, RewardOutput]:
    """The model's output ``out`` for one vector step, zeroed where not ``live`` and
    written into ``infos`` (see ``score_vector_step``)."""
    reward, terms = masked_output(out, live)
    infos["env_reward"] = np.asarray(infos.get("env_reward", env_reward))
    infos["reward_terms"] = terms
    device = out.reward.device
    masked = RewardOutput(
        torch.from_numpy(reward).to(device),
        {k: torch.from_numpy(v).to(device) for k, v in terms.items()},
    )
    return reward.astype(np.float64), masked
