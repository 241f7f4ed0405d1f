"""The episodes agent PPO collects, and the ``Rollout`` view SPA's relabel hook reads."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from agentgym.learners.rollout import Rollout, RolloutRewardModel


class Step:
    """One step of one episode while it is being collected."""

    __slots__ = (
        "prompt",
        "action",
        "logprob",
        "ref_logprob",
        "value",
        "feature",
        "reward",
        "valid_action",
        "terms",
    )

    def __init__(self, prompt: list[int], action: list[int]) -> None:
        self.prompt, self.action = prompt, action


class Episode:
    """One episode: its reset seed, steps, (observation, action) history and outcome."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.steps: list[Step] = []
        self.history: list[tuple[str, str]] = []
        self.success = False
        self.fitness = 0.0
        """The task fitness at the episode's end (``info["fitness"]``; else the success)."""
        self.terminated = False
        self.final_value = 0.0
        self.final_prompt: list[int] | None = None


def episodes_to_rollout(episodes: list[Episode], dev: torch.device) -> Rollout:
    """Episodes as a ``Rollout`` [T, E]: one column per episode, padded with valid=False.
    ``obs`` holds the policy's hidden state at each action's end (SPA's features)."""
    T, E = max(len(ep.steps) for ep in episodes), len(episodes)
    H = episodes[0].steps[0].feature.shape[-1]
    obs = torch.zeros(T, E, H, device=dev)
    z = lambda dtype=torch.float32: torch.zeros(T, E, dtype=dtype, device=dev)  # noqa: E731
    rewards, logp, values = z(), z(), z()
    terms, truncs, success, valid = (z(torch.bool) for _ in range(4))
    ground, task = z(torch.bool), z(torch.long)
    for e, ep in enumerate(episodes):
        L = len(ep.steps)
        obs[:L, e] = torch.stack([s.feature for s in ep.steps])
        rewards[:L, e] = torch.tensor([s.reward for s in ep.steps])
        logp[:L, e] = torch.tensor([s.logprob for s in ep.steps])
        values[:L, e] = torch.tensor([s.value for s in ep.steps])
        ground[:L, e] = torch.tensor([s.valid_action for s in ep.steps])
        valid[:L, e] = True
        task[:L, e] = ep.seed
        terms[L - 1, e] = ep.terminated
        truncs[L - 1, e] = not ep.terminated
        success[L - 1, e] = ep.success
    return Rollout(
        obs=obs,
        actions=z(torch.long),
        logprobs=logp,
        values=values,
        rewards=rewards,
        terminations=terms,
        truncations=truncs,
        env_rewards=rewards.clone(),
        success=success,
        reward_state={"last_action_valid": ground, "task_id": task},
        valid=valid,
    )


def relabel_episodes(
    model: RolloutRewardModel, episodes: list[Episode], dev: torch.device
) -> dict[str, float]:
    """Give every step the reward ``model`` relabels it with (SPA's progress reward);
    returns the model's other outputs as ``reward_terms/<name>``, means over the steps."""
    rollout = episodes_to_rollout(episodes, dev)
    out = model.relabel(rollout)
    for e, ep in enumerate(episodes):
        for t, step in enumerate(ep.steps):
            step.reward = float(out["reward"][t, e])
    return {
        f"reward_terms/{name}": float(value[rollout.valid].mean())
        for name, value in out.items()
        if name != "reward"
    }


def step_reward_terms(episodes: list[Episode]) -> dict[str, float]:
    """The env-side reward's named terms (``info["reward_terms"]``: ``sparse/success``,
    ``oni/intrinsic``, ...) as ``reward_terms/<name>``, means over the steps."""
    sums: dict[str, float] = {}
    steps = 0
    for ep in episodes:
        for step in ep.steps:
            steps += 1
            for name, value in getattr(step, "terms", {}).items():
                sums[name] = sums.get(name, 0.0) + float(value)
    return {f"reward_terms/{name}": total / steps for name, total in sums.items()} if steps else {}


def grounding_accuracy(episodes: list[Episode]) -> float:
    """Share of valid actions over all steps of ``episodes`` (SPA-RL's grounding accuracy)."""
    flags = [s.valid_action for ep in episodes for s in ep.steps]
    return float(np.mean(flags)) if flags else float("nan")


def mission_of(env: Any, info: dict[str, Any]) -> str:
    state = info.get("reward_state") or {}
    return str(state.get("mission") or getattr(env.unwrapped, "mission", ""))
