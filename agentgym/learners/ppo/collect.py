"""One rollout of the PPO learner: step the envs, relabel, normalise rewards, GAE.

``RolloutCollector.collect`` is the first half of each iteration of ``PPO.learn``
(learner.py): it steps every live member's envs ``num_steps`` times with every tensor on
the device, hands rollout-level reward models their rollout (rollout.py), reports the
members whose envs raise (in a population) or whose reward is not finite, and returns the
``Batch`` that ``ppo_update`` (update.py) trains on.

The collector owns the env state that lives between rollouts: the last observations,
which sub-envs are inside an episode, and the reset count that seeds the next reset. A
rollout starts with a reset when one was asked for (learner.py's docstring says why
checkpoints are reset points), so the state a checkpoint needs is the reset count alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from agentgym.learners.checkpoint import reset_seeds
from agentgym.learners.gae import compute_gae
from agentgym.learners.normalize import ObsNormalizer, RewardNormalizer
from agentgym.learners.ppo.compiled import compiled_act
from agentgym.learners.ppo.member_envs import MemberBatch
from agentgym.learners.ppo.networks import (
    StackedActorCritic,
    log_prob_entropy,
    policy_noise,
    sample_actions,
)
from agentgym.learners.ppo.update import Batch
from agentgym.learners.rollout import Rollout, stack_reward_states

__all__ = ["CollectedRollout", "MemberStop", "PolicyStep", "RolloutCollector"]


class PolicyStep(NamedTuple):
    """The policy's side of one vector step, every tensor [K, N, ...] on the device."""

    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor


class MemberStop(NamedTuple):
    """A member the rollout stopped: its envs raised (ERROR) or its reward was not
    finite (NONFINITE), at env step ``step`` of the run."""

    member: int
    status: str
    step: int
    message: str


class CollectedRollout(NamedTuple):
    """What ``collect`` returns: the update's batch and the members stopped on the way."""

    batch: Batch
    stops: list[MemberStop]


class RolloutCollector:
    """Collects the rollouts of K members' envs (one ``MemberBatch`` of K*N sub-envs)
    with the stacked policy ``net``.

    ``obs_norm`` and ``reward_norm`` are the learner's normalisers: the collector folds
    each rollout's observations and returns into them and normalises with them.
    ``isolate_failures`` turns an exception of a member's envs into an ERROR stop of that
    member instead of raising it.
    """

    def __init__(
        self,
        envs: MemberBatch,
        net: StackedActorCritic,
        generators: Sequence[torch.Generator],
        obs_norm: ObsNormalizer,
        reward_norm: RewardNormalizer,
        act_shape: tuple[int, ...],
        device: torch.device,
        isolate_failures: bool = False,
    ) -> None:
        self.envs, self.members = envs, envs.members
        self.net, self.generators = net, generators
        self.obs_norm, self.reward_norm = obs_norm, reward_norm
        self.act_shape, self.device = act_shape, device
        self.isolate_failures = isolate_failures
        self.config = self.members[0].config  # members share env, num_envs and num_steps
        k, n = len(self.members), self.config.num_envs
        self._raw_obs = np.zeros((k, n, net.obs_dim), dtype=np.float32)
        self._valid = np.ones((k, n), dtype=bool)  # False where the next step is an autoreset
        self._needs_reset = True
        self._resets = 0
        # PPOConfig.compile compiles the policy step too, normalisation and the rollout
        # buffers' writes included (compiled.py's compiled_act).
        self._compiled_act = (
            compiled_act(
                tuple(net.layer_shapes),
                net.members,
                net.discrete,
                device.type,
                obs_norm.clip if obs_norm.enabled else None,
            )
            if self.config.compile
            else None
        )
        self._bound_act: Any = None

    def reset_at_next_rollout(self) -> None:
        """Start the next rollout from a reset: a reset point (learner.py)."""
        self._needs_reset = True

    def _reset(self, alive: Sequence[bool]) -> None:
        """Reset every sub-env, member k's with seeds from (its seed, reset count);
        stopped members' observations are left zero."""
        n = self.config.num_envs
        seeds = [reset_seeds(m.config.seed, self._resets, n) for m in self.members]
        obs = self.envs.reset(seeds).reshape(len(self.members), n, -1)
        raw = np.where(np.asarray(alive, dtype=bool)[:, None, None], obs, 0.0).astype(np.float32)
        self._resets += 1
        self._valid[:] = True
        self.reward_norm.reset_returns()
        self._raw_obs = raw
        self.obs_norm.update(torch.from_numpy(raw).to(self.device))
        self._needs_reset = False

    def _act(self, obs: torch.Tensor) -> PolicyStep:
        """Sample every member's actions for the normalised ``obs`` [K, N, F] (the eager
        policy step; ``_act_compiled`` is the compiled one)."""
        with torch.no_grad():
            out, value = self.net(obs)
            action = sample_actions(self.net, out, self.generators)
            logp, _ = log_prob_entropy(self.net, out, action)
        return PolicyStep(action, logp, value)

    def _act_compiled(self, args: tuple[torch.Tensor, ...]) -> None:
        """The compiled policy step on ``args`` (compiled_act's: parameters, raw
        observations, normaliser statistics, this step's noise and buffer rows); it
        writes the rows."""
        with torch.no_grad():
            if self._bound_act is None:
                # Every step's tensors are laid out alike (the C++ wrapper asserts each
                # one's size and stride per call): bound once, not per step, and on the
                # one thread ``collect`` runs torch on, so inductor writes no OpenMP
                # loops (a population of 8 x 8 envs on two threads: 0.56 s of policy
                # steps against 0.24 on one, Reach, 16k steps a member).
                self._bound_act = self._compiled_act.bind(*args)
            self._bound_act(*args)

    def collect(self, alive: Sequence[bool], global_step: int) -> CollectedRollout:
        """Step the envs of the members where ``alive`` holds ``num_steps`` times, from
        env step ``global_step`` of the run; the update's batch and the members stopped.

        Torch runs on one CPU thread meanwhile, whatever ``torch_threads`` gives the
        update: a rollout's tensors are small, and ATen's parallel loops wake OpenMP
        threads that then spin on the cores the envs' own thread pool steps on
        (HalfCheetah's preset on 2 threads, 2 cores: 1.07 s collecting at 1 thread
        against 1.55 at 2, 2026-12-06)."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._collect(alive, global_step)
        finally:
            torch.set_num_threads(threads)

    def _collect(self, alive: Sequence[bool], global_step: int) -> CollectedRollout:
        if self._needs_reset:
            self._reset(alive)
        cfg, dev, net = self.config, self.device, self.net
        T, K, N = cfg.num_steps, len(self.members), cfg.num_envs
        alive, stops = list(alive), []
        obs_buf = torch.empty((T, K, N, net.obs_dim), device=dev)
        act_buf = torch.empty(
            (T, K, N, *self.act_shape),
            device=dev,
            dtype=torch.long if net.discrete else torch.float32,
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
        relabeled = [k for k, m in enumerate(self.members) if m.relabel is not None and alive[k]]
        raw_buf = torch.empty((T, K, N, net.obs_dim), device=dev)
        frames: dict[int, list[np.ndarray]] = {
            k: [] for k in relabeled if self.members[k].needs_frames
        }
        states: dict[int, list[dict[str, Any]]] = {k: [] for k in relabeled}
        infos: dict[int, list[dict[str, Any]]] = {
            k: [] for k in relabeled if self.members[k].needs_infos
        }
        env_acts: dict[int, list[np.ndarray]] = {
            k: [] for k in relabeled if self.members[k].needs_env_actions
        }
        live = [k for k in range(K) if alive[k]]
        # The envs' observations are written into self._raw_obs in place (the policy
        # step copies them into raw_buf first): on the CPU, ``raw_host`` is that array.
        # Stopped members' rows are zero, as after a reset.
        self._raw_obs[~np.asarray(alive, dtype=bool)] = 0.0
        raw_host = torch.from_numpy(self._raw_obs)
        rows: list[tuple[torch.Tensor, ...]] = []
        if self._compiled_act is not None:
            # The compiled policy step draws the rollout's noise at once, one call per
            # member instead of one per step (the eager path keeps its per-step draws,
            # and with them its digests), and writes each step's buffer rows itself.
            noise = policy_noise(net, (T * N, net.act_dim), self.generators, dev)
            noise = noise.view(K, T, N, -1)
            mean, std = self.obs_norm.affine()
            buffers = (raw_buf, obs_buf, act_buf, logp_buf, value_buf)
            rows = list(zip(noise.unbind(1), *(b.unbind(0) for b in buffers), strict=True))

        for t in range(T):
            valid[t] = self._valid
            if rows:
                self._act_compiled((net.flat, raw_host.to(dev), mean, std, *rows[t]))
                actions = rows[t][3].cpu().numpy()  # the env boundary (act_buf's row)
            else:
                raw_buf[t] = raw_host.to(dev)
                obs = self.obs_norm(raw_buf[t])
                obs_buf[t] = obs
                policy = self._act(obs)
                act_buf[t] = policy.actions
                logp_buf[t] = policy.logprobs
                value_buf[t] = policy.values
                actions = policy.actions.cpu().numpy()  # the env boundary
            if env_acts:
                clipped = self.envs.env_actions(actions, alive)
            try:
                step = self.envs.step(actions, self._valid, alive)
                errors = step.errors
            except Exception as err:
                if not self.isolate_failures:
                    raise
                # The envs themselves raised: they are every member's.
                step, errors = None, [err if alive[k] else None for k in range(K)]
            rendered = None
            if step is not None and any(k in frames and alive[k] for k in live):
                rendered = self.envs.render()
            for k in live:
                error = errors[k]
                if error is not None and alive[k]:
                    if not self.isolate_failures:
                        raise error
                    message = f"{type(error).__name__}: {error}"
                    stops.append(MemberStop(k, "ERROR", global_step + (t + 1) * N, message))
                    alive[k] = False
            if step is None:
                continue
            # The scored members' rows: every member's, whole arrays, in the common case;
            # a stopped or failed member's rows are left as they were.
            scored = slice(None) if len(step.scored) == K else step.scored
            self._raw_obs[scored] = step.obs.reshape(K, N, -1)[scored]
            rewards[t, scored] = step.reward[scored]
            env_rewards[t, scored] = step.env_reward[scored]
            terms[t, scored] = step.terminated[scored]
            truncs[t, scored] = step.truncated[scored]
            success[t, scored] = step.success[scored]
            self._valid[scored] = ~(step.terminated[scored] | step.truncated[scored])
            for k in states:
                if k not in step.scored:
                    continue
                info = step.member_info(k)
                states[k].append(info.get("reward_state", {}))
                if k in frames:
                    frames[k].append(rendered[k])
                if k in infos:
                    infos[k].append(info)
                if k in env_acts:
                    env_acts[k].append(clipped[k])
        with torch.no_grad():
            last_value = net(self.obs_norm(torch.from_numpy(self._raw_obs).to(dev)))[1]
        self.obs_norm.update(raw_buf.transpose(0, 1).reshape(K, T * N, -1))

        def to(a):
            return torch.from_numpy(a).to(dev)

        rewards_t, valid_t = to(rewards), to(valid)
        terms_t, truncs_t = to(terms), to(truncs)
        for k in relabeled:
            if not alive[k]:
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
                env_actions=to(np.stack(env_acts[k])) if k in env_acts else None,
            )
            try:
                rewards_t[:, k] = self.members[k].relabel_rewards(rollout)
            except Exception as err:  # the member's reward model: reported, not raised
                if not self.isolate_failures:
                    raise
                message = f"{type(err).__name__}: {err}"
                stops.append(MemberStop(k, "ERROR", global_step + T * N, message))
                alive[k] = False
        for k in np.flatnonzero(~torch.isfinite(rewards_t).all(0).all(-1).cpu().numpy()):
            if alive[k]:
                bad_t = int(np.flatnonzero(~np.isfinite(rewards_t[:, k].cpu().numpy()).all(-1))[0])
                at = global_step + (bad_t + 1) * N
                message = f"the reward was not finite at step {at}"
                stops.append(MemberStop(int(k), "NONFINITE", at, message))
                alive[k] = False
        dead = torch.tensor([not a for a in alive], device=dev)
        # Stopped members get zeros, so their NaNs cannot reach the shared backward pass.
        rewards_t = torch.where(dead.view(1, K, 1), 0.0, torch.nan_to_num(rewards_t))
        valid_t = valid_t & ~dead.view(1, K, 1)
        rewards_t = self.reward_norm(rewards_t, terms_t | truncs_t, valid_t)
        advantages, returns = compute_gae(
            rewards_t, value_buf, last_value, terms_t, truncs_t, cfg.gamma, cfg.gae_lambda
        )

        def flat(x):
            return x.transpose(0, 1).reshape(K, T * N, *x.shape[3:])

        batch = Batch(
            flat(obs_buf),
            flat(act_buf),
            flat(logp_buf),
            flat(advantages),
            flat(returns),
            flat(value_buf),
            flat(valid_t),
        )
        return CollectedRollout(batch, stops)

    # -- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, int]:
        """The reset count: all a checkpoint (a reset point) needs of the env state."""
        return {"resets": self._resets}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from ``state_dict()``; the next rollout starts from a reset."""
        self._resets = int(state["resets"])
        self._needs_reset = True

    def member_state_dict(self, k: int) -> dict[str, Any]:
        """``state_dict()`` and, for inspection, the seeds member k's envs resume from."""
        n = self.config.num_envs
        seeds = reset_seeds(self.members[k].config.seed, self._resets, n)
        return {**self.state_dict(), "env_seeds": seeds}

    def load_member_state_dicts(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore from every member's ``member_state_dict`` (they share the reset count)."""
        self.load_state_dict(states[0])
