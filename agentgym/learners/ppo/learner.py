"""PPO (Schulman et al. 2017): one readable learner, discrete and continuous actions.

Read top to bottom: ``learn`` alternates ``RolloutCollector.collect`` (collect.py: a
rollout of ``num_steps`` vector steps, every tensor on the device, then rollout
relabelling, reward normalisation and GAE) and ``ppo_update`` (update.py), then logs,
checkpoints and evaluates.

The learner is written for K members at once (``population.py`` trains K reward programs
in one process); the single learner is K = 1, so both share every line of the algorithm.

Checkpoints are reset points: right after one is written every sub-env is reset with
seeds derived from (seed, reset count). A run resumed from that checkpoint therefore
starts from exactly the state the uninterrupted run continues from, and on CPU the two
are bit-identical. Episodes in progress at a checkpoint are cut there (they are neither
counted nor bootstrapped through), so ``checkpoint_every`` should be many episodes long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from agentgym.learners.base import Callback, RunRequest
from agentgym.learners.checkpoint import (
    CHECKPOINT_FORMAT,
    LATEST,
    load_checkpoint,
    save_checkpoint,
)
from agentgym.learners.device import resolve_device
from agentgym.learners.logger import RunLogger
from agentgym.learners.members import MemberLearner
from agentgym.learners.normalize import ObsNormalizer, RewardNormalizer
from agentgym.learners.ppo.collect import RolloutCollector
from agentgym.learners.ppo.config import PPOConfig
from agentgym.learners.ppo.member_envs import MemberBatch, MemberEnvs, check_spaces
from agentgym.learners.ppo.networks import StackedActorCritic, deterministic_actions
from agentgym.learners.ppo.optim import StackedAdam
from agentgym.learners.ppo.rng import MemberGenerators
from agentgym.learners.ppo.update import ppo_update
from agentgym.learners.rollout import RolloutRewardModel

_Learner = TypeVar("_Learner", bound="PPO")


class PPO(MemberLearner):
    """Proximal policy optimisation on a Gymnasium vector env.

    >>> agent = PPO(PPOConfig(env_id="CartPole-v1", total_steps=50_000), run_dir="runs/cp")
    >>> final = agent.learn()          # {'eval/success_rate': ..., 'episode_return': ...}
    >>> agent = PPO.resume("runs/cp")  # after a crash: continues from checkpoints/latest.pt
    """

    isolate_failures = False  # a population stops only the failing member; PPO raises
    config_class = PPOConfig
    default_reward = "env"
    several_rewards = False
    checkpoint_file = LATEST

    @classmethod
    def check_request(cls, config: PPOConfig, rewards: Sequence[str]) -> None:
        """The env id exists, acts with vectors (not text), and every reward spec parses
        against its TaskSpec."""
        from agentgym.catalog import check_rewards
        from agentgym.learners.spaces import probe_spaces, refuse_language_env

        check_rewards(config.env_id, rewards)  # looks the env up first (did-you-mean)
        learner = "population" if cls.several_rewards else "ppo"
        refuse_language_env(*probe_spaces(config.env_id), config.env_id, learner)

    @classmethod
    def train_in_run(cls, request: RunRequest) -> dict[str, Any]:
        """Train (or resume) in ``run_dir``; the final metrics (``Learner`` contract)."""
        agent = (
            cls.resume(request.run_dir)
            if request.resume
            else cls(request.config, run_dir=request.run_dir)
        )
        agent.continue_to(request.config.total_steps)  # a resume may have extended it
        return agent.learn(callback=request.callback)

    def __init__(
        self,
        config: PPOConfig,
        run_dir: str | Path | None = None,
        relabel: RolloutRewardModel | None = None,
    ) -> None:
        self._setup([config], [run_dir], [relabel])

    # -- construction ---------------------------------------------------------------
    def _setup(
        self,
        configs: Sequence[PPOConfig],
        run_dirs: Sequence[str | Path | None],
        relabels: Sequence[RolloutRewardModel | None],
    ) -> None:
        base = configs[0]
        for cfg in configs[1:]:
            if cfg.env_id != base.env_id or cfg.batch_size != base.batch_size:
                raise ValueError("population members must share env_id, num_envs and num_steps")
        self.configs = list(configs)
        self.k = len(configs)
        self.device = torch.device(resolve_device(base.device))
        if self.device.type == "cpu" and base.torch_threads:
            torch.set_num_threads(base.torch_threads)
        self.run_dirs = [Path(d) if d is not None else None for d in run_dirs]
        self.members = [
            MemberEnvs(cfg, self.device, rl, score_rollouts=True)
            for cfg, rl in zip(configs, relabels, strict=True)
        ]
        self.batch = MemberBatch(self.members, base)
        envs = self.batch.envs
        self.obs_shape = tuple(envs.single_observation_space.shape)
        self.obs_dim, self.act_dim, discrete = check_spaces(
            envs.single_observation_space, envs.single_action_space, base.env_id
        )
        self.act_shape = () if discrete else tuple(envs.single_action_space.shape)
        self.net = StackedActorCritic(
            self.obs_dim,
            self.act_dim,
            discrete,
            base.hidden_sizes,
            [c.seed for c in configs],
            self.device,
            base.init_log_std,
        )
        self.optimizer = StackedAdam(
            self.net.flat, self.net.grad, self.net.row_member, self.k, eps=1e-5
        )
        self.generators = MemberGenerators([c.seed for c in configs], self.device)
        self.obs_norm = ObsNormalizer(self.k, (self.obs_dim,), self.device, enabled=base.norm_obs)
        self.reward_norm = RewardNormalizer(
            self.k, base.num_envs, base.gamma, self.device, enabled=base.norm_reward
        )
        self.collector = RolloutCollector(
            self.batch,
            self.net,
            self.generators,
            self.obs_norm,
            self.reward_norm,
            self.act_shape,
            self.device,
            isolate_failures=self.isolate_failures,
        )
        self.global_step = 0
        self.elapsed = 0.0
        self.status = ["RUNNING"] * self.k
        self.stopped_at: list[int | None] = [None] * self.k
        self.errors: list[str | None] = [None] * self.k
        self.last_rows: list[dict[str, Any]] = [{} for _ in range(self.k)]
        self.last_eval: list[dict[str, Any]] = [{} for _ in range(self.k)]
        self._resume_step: int | None = None  # the step a resumed run's logs continue from
        self._loggers: list[RunLogger | None] | None = None
        # Wall seconds this object spent collecting rollouts (envs, policy steps, reward
        # models) and updating, over every session in this process (not checkpointed):
        # where a run's time goes (bench/bench_population.py reports them; on CUDA, queued
        # kernels count where something waits for them).
        self.phase_seconds = {"collect": 0.0, "update": 0.0}

    @property
    def config(self) -> PPOConfig:
        """The (first member's) configuration."""
        return self.configs[0]

    # -- the training loop ----------------------------------------------------------
    def _learn(self, callback: Callback | None) -> list[dict[str, Any]]:
        base = self.config
        if self._loggers is None:
            self._loggers = [
                RunLogger(d, self._resume_step) if d is not None else None for d in self.run_dirs
            ]
        start_step, session_start = self.global_step, time.perf_counter()
        elapsed_before = self.elapsed
        stop = False
        while self.global_step < base.total_steps and any(self.alive) and not stop:
            frac = 1.0 - self.global_step / base.total_steps if base.anneal_lr else 1.0
            lr = base.learning_rate * frac
            phase_start = time.perf_counter()
            batch, stopped = self.collector.collect(self.alive, self.global_step)
            for member_stop in stopped:
                self._stop(*member_stop)
            update_start = time.perf_counter()
            stats = ppo_update(
                self.net,
                self.optimizer,
                batch,
                base,
                lr,
                torch.tensor(self.alive, device=self.device),
                self.generators,
            )
            now = time.perf_counter()
            self.phase_seconds["collect"] += update_start - phase_start
            self.phase_seconds["update"] += now - update_start
            previous, self.global_step = self.global_step, self.global_step + base.batch_size
            session = now - session_start
            self.elapsed = elapsed_before + session
            speed = (self.global_step - start_step) / max(session, 1e-9)
            iteration = self.global_step // base.batch_size
            if iteration % base.log_every == 0 or self.global_step >= base.total_steps:
                for k in range(self.k):
                    row = self._row(k, stats, lr, speed)
                    self._log(k, row)
                    if callback is not None and callback(row) is False:
                        stop = True
            if self._crossed(previous, base.checkpoint_every):
                self._checkpoint_all()
            if base.eval_episodes and self._crossed(previous, base.eval_every):
                self._evaluate_all(callback)
        self._checkpoint_all()
        if base.eval_episodes and self.last_eval[0].get("step") != self.global_step:
            self._evaluate_all(callback)
        for logger in self._loggers:
            if logger is not None:
                logger.close()
        self._loggers = None
        self._resume_step = self.global_step
        return [self._final(k) for k in range(self.k)]

    # -- logs ---------------------------------------------------------------------------
    def _row(
        self, k: int, stats: dict[str, torch.Tensor], lr: float, speed: float
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "step": self.global_step,
            "time": round(self.elapsed, 3),
            "steps_per_s": speed,
        }
        if self.k > 1:
            row["member"] = k
        row.update(self.batch.take_stats(k))
        for name, value in stats.items():
            row[name] = float(value[k])
        row["learning_rate"] = lr
        row["status"] = self.status[k]
        self.last_rows[k] = {**self.last_rows[k], **row}
        return row

    # -- evaluation -------------------------------------------------------------------
    def deterministic_policy(self, k: int) -> Callable[[np.ndarray], np.ndarray]:
        """Member k's deterministic policy: one raw observation (a batch of one) -> its
        action (a batch of one), the mode of the member's policy on the normalised input."""

        def act(obs: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                x = torch.as_tensor(obs, device=self.device).reshape(1, -1)
                x = self.obs_norm.member(k, x)
                out, _ = self.net(x.unsqueeze(0).expand(self.k, -1, -1))
                action = deterministic_actions(self.net, out[k])
            action_np = action.cpu().numpy()
            return action_np if self.net.discrete else action_np.reshape(1, *self.act_shape)

        return act

    def _evaluate_all(self, callback: Callback | None) -> None:
        for k in range(self.k):
            if not self.alive[k]:
                continue
            cfg, run_dir = self.configs[k], self.run_dirs[k]
            video = None
            if cfg.video and run_dir is not None:
                video = run_dir / "videos" / f"eval_{self.global_step}.mp4"
            result = self._evaluate_member(k, cfg.eval_episodes, cfg.seed + 1_000_003, video)
            self.last_eval[k] = {**result, "step": self.global_step}
            diagnose = getattr(self.members[k].relabel, "diagnose", None)
            if callable(diagnose) and run_dir is not None:
                # Rewards that look at pixels report how they track success (the report's
                # VLM diagnostics panel), so a reward that learns nothing shows early.
                diagnose(
                    cfg.env_id,
                    self.deterministic_policy(k),
                    run_dir,
                    step=self.global_step,
                    seed=cfg.seed + 2_000_003,
                    episodes=min(cfg.eval_episodes, 4),
                )
            row: dict[str, Any] = {"step": self.global_step, "time": round(self.elapsed, 3)}
            if self.k > 1:
                row["member"] = k
            row.update({f"eval/{key}": value for key, value in result.items() if key != "video"})
            if "video" in result and run_dir is not None:
                row["eval/video"] = str(Path(result["video"]).relative_to(run_dir))
            self._log(k, row)
            if callback is not None:
                callback(row)

    # -- checkpoints ------------------------------------------------------------------
    def member_state(self, k: int) -> dict[str, Any]:
        """Member k's checkpoint: a single-learner checkpoint that PPO.resume can read,
        assembled from each component's state of member k."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.configs[k].to_dict(),
            "global_step": self.global_step,
            "elapsed": self.elapsed,
            "status": self.status[k],
            "params": self.net.member_parameters(k),
            "adam": self.optimizer.member_state_dict(k),
            "obs_norm": self.obs_norm.member_state_dict(k),
            "reward_norm": self.reward_norm.member_state_dict(k),
            "rng": self.generators.member_state_dict(k),
            # "resets" and, for inspection, "env_seeds": format 1 keeps them at the top level.
            **self.collector.member_state_dict(k),
        }

    def load_member_states(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every member from its ``member_state`` (one per member, in order)."""
        self.net.load_member_parameters([s["params"] for s in states])
        self.optimizer.load_member_state_dicts([s["adam"] for s in states])
        self.obs_norm.load_member_state_dicts([s["obs_norm"] for s in states])
        self.reward_norm.load_member_state_dicts([s["reward_norm"] for s in states])
        self.generators.load_member_state_dicts([s["rng"] for s in states])
        self.collector.load_member_state_dicts(states)  # the next rollout starts from a reset
        self.global_step = int(states[0]["global_step"])
        self.elapsed = float(states[0]["elapsed"])
        self.status = [str(s["status"]) for s in states]
        self._resume_step = self.global_step

    def _checkpoint_all(self) -> None:
        for k, run_dir in enumerate(self.run_dirs):
            if run_dir is None:
                continue
            folder = run_dir / "checkpoints"
            save_checkpoint(self.member_state(k), folder / LATEST)
            if self.configs[k].keep_checkpoints:
                save_checkpoint(self.member_state(k), folder / f"step_{self.global_step}.pt")
        # Every checkpoint is a reset point, written or not, so that a run behaves the
        # same with and without a run folder (see the module docstring).
        self.collector.reset_at_next_rollout()

    @classmethod
    def load(
        cls,
        path: str | Path,
        run_dir: str | Path | None = None,
        relabel: RolloutRewardModel | None = None,
        device: str | None = None,
    ) -> PPO:
        """A learner restored from a checkpoint file (config included)."""
        state = load_checkpoint(path)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                f"{path}: checkpoint format {state.get('format')!r}, expected {CHECKPOINT_FORMAT}"
            )
        config = PPOConfig.from_dict(state["config"])
        if device is not None:
            config = PPOConfig.from_dict({**config.to_dict(), "device": device})
        return cls._from_checkpoints([state], [config], [run_dir], [relabel])

    @classmethod
    def _from_checkpoints(
        cls: type[_Learner],
        states: Sequence[dict[str, Any]],
        configs: Sequence[PPOConfig],
        run_dirs: Sequence[str | Path | None],
        relabels: Sequence[RolloutRewardModel | None],
    ) -> _Learner:
        """A learner of ``configs`` restored from its members' checkpoints ``states``."""
        agent = cls.__new__(cls)  # __init__ builds a fresh learner (PPO and Population differ)
        agent._setup(configs, run_dirs, relabels)
        agent.load_member_states(states)
        return agent

    @classmethod
    def resume(cls, run_dir: str | Path, relabel: RolloutRewardModel | None = None) -> PPO:
        """Continue a run from ``run_dir/checkpoints/latest.pt`` (config is stored inside)."""
        run_dir = Path(run_dir)
        return cls.load(run_dir / "checkpoints" / LATEST, run_dir=run_dir, relabel=relabel)

    def parameters_digest(self, k: int = 0) -> str:
        """SHA-256 of member k's parameters (bitwise; for reproducibility checks)."""
        import hashlib

        rows = self.net.member_parameters(k).cpu().contiguous()
        return hashlib.sha256(rows.numpy().tobytes()).hexdigest()
