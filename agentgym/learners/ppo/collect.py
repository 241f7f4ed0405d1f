"""One rollout of the PPO learner: step the envs, relabel, normalise rewards, GAE.

``collect_rollout`` is the first half of each iteration of ``PPO.learn`` (ppo.py); it
steps every live member's envs ``num_steps`` times with every tensor on the device, hands
rollout-level reward models their rollout (rollout.py), stops members whose envs raise
(in a population) or whose reward is not finite, and returns the ``Batch`` that
``ppo_update`` (update.py) trains on. ``reset_envs`` starts the envs again at a reset
point (ppo.py's docstring says why checkpoints are reset points). Both read and advance
the learner's env state (``_raw_obs``, ``_valid``), which only they and ``PPO._setup``
touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from agentgym.learners.checkpoint import reset_seeds
from agentgym.learners.gae import compute_gae
from agentgym.learners.ppo.networks import log_prob_entropy, sample_actions
from agentgym.learners.ppo.update import Batch
from agentgym.learners.rollout import Rollout, stack_reward_states

if TYPE_CHECKING:
    from agentgym.learners.ppo.learner import PPO

__all__ = ["collect_rollout", "reset_envs"]


def reset_envs(agent: PPO) -> None:
    """Reset every live member's sub-envs with seeds from (seed, reset count): a reset point."""
    raw = np.zeros((agent.k, agent.config.num_envs, agent.obs_dim), dtype=np.float32)
    for k, member in enumerate(agent.members):
        if agent.alive[k]:
            seeds = reset_seeds(agent.configs[k].seed, agent.resets, agent.config.num_envs)
            raw[k] = member.reset(seeds).reshape(agent.config.num_envs, -1)
    agent.resets += 1
    agent._valid[:] = True
    agent.reward_norm.returns.zero_()
    agent._raw_obs = raw
    agent.obs_norm.update(torch.from_numpy(raw).to(agent.device))
    agent._needs_reset = False


def collect_rollout(agent: PPO) -> Batch:
    """Step every live member's envs ``num_steps`` times; return the update's batch."""
    cfg, dev = agent.config, agent.device
    T, K, N = cfg.num_steps, agent.k, cfg.num_envs
    obs_buf = torch.empty((T, K, N, agent.obs_dim), device=dev)
    act_buf = torch.empty(
        (T, K, N, *agent.act_shape),
        device=dev,
        dtype=torch.long if agent.net.discrete else torch.float32,
    )
    logp_buf = torch.empty((T, K, N), device=dev)
    value_buf = torch.empty((T, K, N), device=dev)
    # Values returned by the envs stay on the host until the rollout ends: one copy
    # per rollout instead of several per step.
    rewards = np.zeros((T, K, N), dtype=np.float32)
    env_rewards = np.zeros((T, K, N), dtype=np.float32)
    terms = np.zeros((T, K, N), dtype=bool)
    truncs = np.zeros((T, K, N), dtype=bool)
    success = np.zeros((T, K, N), dtype=bool)
    valid = np.zeros((T, K, N), dtype=bool)
    relabeled = [k for k, m in enumerate(agent.members) if m.relabel is not None and agent.alive[k]]
    raw_buf = torch.empty((T, K, N, agent.obs_dim), device=dev)
    frames: dict[int, list[np.ndarray]] = {
        k: [] for k in relabeled if agent.members[k].needs_frames
    }
    states: dict[int, list[dict[str, Any]]] = {k: [] for k in relabeled}
    infos: dict[int, list[dict[str, Any]]] = {
        k: [] for k in relabeled if agent.members[k].needs_infos
    }
    next_raw = np.zeros((K, N, agent.obs_dim), dtype=np.float32)
    live = [k for k in range(K) if agent.alive[k]]

    for t in range(T):
        raw_buf[t] = torch.from_numpy(agent._raw_obs).to(dev)
        obs = agent.obs_norm(raw_buf[t])
        obs_buf[t] = obs
        valid[t] = agent._valid
        with torch.no_grad():
            out, value = agent.net(obs)
            action = sample_actions(agent.net, out, agent.generators)
            logp, _ = log_prob_entropy(agent.net, out, action)
        act_buf[t] = action
        logp_buf[t] = logp
        value_buf[t] = value
        actions = action.cpu().numpy()  # the env boundary
        for k in live:
            member = agent.members[k]
            if not agent.alive[k]:
                continue
            try:
                o, r, er, te, tr, su, info = member.step(actions[k], agent._valid[k])
            except Exception as err:
                if not agent.isolate_failures:
                    raise
                agent._stop(
                    k, "ERROR", agent.global_step + (t + 1) * N, f"{type(err).__name__}: {err}"
                )
                continue
            next_raw[k] = o.reshape(N, -1)
            rewards[t, k], env_rewards[t, k], terms[t, k], truncs[t, k], success[t, k] = (
                r,
                er,
                te,
                tr,
                su,
            )
            agent._valid[k] = ~(te | tr)
            if k in states:
                states[k].append(info.get("reward_state", {}))
                if k in frames:
                    frames[k].append(member.render())
                if k in infos:
                    infos[k].append(info)
        agent._raw_obs = next_raw.copy()
    with torch.no_grad():
        last_value = agent.net(agent.obs_norm(torch.from_numpy(agent._raw_obs).to(dev)))[1]
    agent.obs_norm.update(raw_buf.transpose(0, 1).reshape(K, T * N, -1))

    def to(a):
        return torch.from_numpy(a).to(dev)

    rewards_t, valid_t = to(rewards), to(valid)
    terms_t, truncs_t = to(terms), to(truncs)
    for k in relabeled:
        if not agent.alive[k]:
            continue
        rollout = Rollout(
            obs=raw_buf[:, k],
            actions=act_buf[:, k],
            logprobs=logp_buf[:, k],
            values=value_buf[:, k],
            rewards=rewards_t[:, k],
            terminations=terms_t[:, k],
            truncations=truncs_t[:, k],
            env_rewards=to(env_rewards[:, k]),
            success=to(success[:, k]),
            frames=to(np.stack(frames[k])) if k in frames else None,
            reward_state=stack_reward_states(states[k], dev),
            infos=infos.get(k),
            valid=valid_t[:, k],
        )
        rewards_t[:, k] = _relabel(agent, k, rollout)
    for k in np.flatnonzero(~torch.isfinite(rewards_t).all(0).all(-1).cpu().numpy()):
        if agent.alive[k]:
            bad_t = int(np.flatnonzero(~np.isfinite(rewards_t[:, k].cpu().numpy()).all(-1))[0])
            agent._stop(
                int(k),
                "NONFINITE",
                agent.global_step + (bad_t + 1) * N,
                f"the reward was not finite at step {agent.global_step + (bad_t + 1) * N}",
            )
    dead = torch.tensor([not a for a in agent.alive], device=dev)
    # Stopped members get zeros, so their NaNs cannot reach the shared backward pass.
    rewards_t = torch.where(dead.view(1, K, 1), 0.0, torch.nan_to_num(rewards_t))
    valid_t = valid_t & ~dead.view(1, K, 1)
    rewards_t = agent.reward_norm(rewards_t, terms_t | truncs_t, valid_t)
    advantages, returns = compute_gae(
        rewards_t, value_buf, last_value, terms_t, truncs_t, cfg.gamma, cfg.gae_lambda
    )

    def flat(x):
        return x.transpose(0, 1).reshape(K, T * N, *x.shape[3:])

    return Batch(
        flat(obs_buf),
        flat(act_buf),
        flat(logp_buf),
        flat(advantages),
        flat(returns),
        flat(value_buf),
        flat(valid_t),
    )


def _relabel(agent: PPO, k: int, rollout: Rollout) -> torch.Tensor:
    """Member k's rewards from its rollout-level reward model (logged by term)."""
    model = agent.members[k].relabel
    out = model.relabel(rollout)
    if "reward" not in out:
        raise ValueError(
            f"{model.name}.relabel must return a dict with 'reward' [T, N]; got keys {sorted(out)}"
        )
    reward = out["reward"].to(agent.device, torch.float32)
    if reward.shape != rollout.rewards.shape:
        raise ValueError(
            f"{model.name}.relabel: 'reward' must have shape "
            f"{list(rollout.rewards.shape)}, got {list(reward.shape)}"
        )
    mask = rollout.valid.float()
    n = mask.sum().clamp(min=1.0)
    member = agent.members[k]
    for name, value in out.items():
        if name != "reward":
            total = float((value.to(agent.device, torch.float32) * mask).sum() / n) * float(n)
            member.term_sums[name] = member.term_sums.get(name, 0.0) + total
    return reward * mask
