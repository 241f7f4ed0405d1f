"""SAC (Haarnoja et al. 2018, with automatic entropy tuning): continuous actions, replay.

Read top to bottom: ``learn`` alternates one vector step of every member's envs
(``_env_step``: act, step, store the transitions) with ``gradient_steps`` calls of
``sac_update`` (update.py) every ``train_freq`` vector steps, then logs, checkpoints and
evaluates. Like PPO, it is written for K members at once (``population.py``); the single
learner is K = 1 and both share every line.

Autoreset and truncation. Gymnasium's vector envs (NEXT_STEP mode, what ``gym.make_vec``
builds and the reward wrapper needs) return the final observation on the step that ends
an episode and reset on the next step, whose action is ignored and whose reward is 0.
That reset step is not a transition and is not stored; every stored transition's
``next_obs`` is the true next observation, and only a *termination* stops the bootstrap:
a truncation (TimeLimit) stores terminated = 0, so the critic target bootstraps from
Q(final obs). In SAME_STEP mode the final observation is in ``info["final_obs"]``
(``final_observations``); both modes are handled.

Checkpoints are reset points, as in PPO: after one is written every sub-env is reset with
seeds from (seed, reset count), so a run resumed from it continues exactly as the
uninterrupted run does (bit-identical on CPU). A checkpoint holds the networks, targets,
optimisers, log alpha, the replay buffer, the observation statistics and the RNG states.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from agentgym.learners.base import Callback, RunRequest
from agentgym.learners.checkpoint import LATEST, load_checkpoint, reset_seeds, save_checkpoint
from agentgym.learners.device import resolve_device
from agentgym.learners.logger import RunLogger
from agentgym.learners.members import MemberLearner
from agentgym.learners.normalize import ObsNormalizer
from agentgym.learners.ppo.member_envs import MemberBatch, MemberEnvs
from agentgym.learners.ppo.update import require_cpp_compiler
from agentgym.learners.sac.compiled import compiled_update
from agentgym.learners.sac.config import SACConfig
from agentgym.learners.sac.networks import ActorCritics
from agentgym.learners.sac.optim import StackedAdam
from agentgym.learners.sac.replay import ReplayBuffer
from agentgym.learners.sac.update import draw_normal, sac_update

CHECKPOINT_FORMAT = "sac-1"


def check_spaces(obs_space: gym.Space, act_space: gym.Space, env_id: str) -> tuple[int, int]:
    """(obs_dim, act_dim), or an error naming the space SAC cannot work with."""
    if not isinstance(act_space, spaces.Box):
        raise ValueError(
            f"SACConfig.env_id {env_id!r}: SAC needs continuous actions (a Box action space), "
            f"got {act_space}; train discrete actions with --learner ppo"
        )
    if not (np.isfinite(act_space.low).all() and np.isfinite(act_space.high).all()):
        raise ValueError(
            f"SACConfig.env_id {env_id!r}: SAC squashes actions into the action space's bounds, "
            f"but {act_space} is unbounded; wrap the env with gymnasium.wrappers.ClipAction "
            "or RescaleAction first"
        )
    if not isinstance(obs_space, spaces.Box):
        raise ValueError(
            f"SACConfig.env_id {env_id!r}: the MLP networks need a Box observation space, got "
            f"{obs_space}; flatten dict/discrete observations with a Gymnasium wrapper first"
        )
    return int(np.prod(obs_space.shape)), int(np.prod(act_space.shape))


def final_observations(obs: np.ndarray, info: dict[str, Any], mode: AutoresetMode) -> np.ndarray:
    """The observation each sub-env reached with this step's action.

    NEXT_STEP: ``obs`` itself (an ending step returns its final observation). SAME_STEP: the
    ended sub-envs' rows of ``obs`` are already reset observations; their final ones are in
    ``info["final_obs"]`` (``final_observation`` before Gymnasium 1.0).
    """
    if mode == AutoresetMode.NEXT_STEP:
        return obs
    key = "final_obs" if "final_obs" in info else "final_observation"
    if key not in info:
        return obs
    out = np.array(obs, copy=True)
    for i in np.flatnonzero(info[f"_{key}"]):
        out[i] = info[key][i]
    return out


def _sampling_seed(seed: int) -> int:
    # Parameters come from a generator seeded with `seed`; exploration and replay sampling
    # use a second stream derived from it (as PPO does).
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


class SAC(MemberLearner):
    """Soft actor-critic on a Gymnasium vector env with a bounded Box action space.

    >>> agent = SAC(SACConfig(env_id="Pendulum-v1", total_steps=20_000), run_dir="runs/pend")
    >>> final = agent.learn()           # {'eval/mean_return': ..., 'episode_return': ...}
    >>> agent = SAC.resume("runs/pend")  # after a crash: continues from checkpoints/latest.pt
    """

    isolate_failures = False  # a population stops only the failing member; SAC raises
    config_class = SACConfig
    default_reward = "env"
    several_rewards = False
    checkpoint_file = LATEST

    @classmethod
    def check_request(cls, config: SACConfig, rewards: Sequence[str]) -> None:
        """The env id exists, has spaces SAC can act in, and every reward spec parses
        against its TaskSpec and scores single steps."""
        from agentgym.catalog import check_rewards, task_spec
        from agentgym.learners.spaces import probe_spaces, refuse_language_env
        from agentgym.rewards import parse_reward_spec

        obs_space, act_space = probe_spaces(config.env_id)
        learner = "sac-population" if cls.several_rewards else "sac"
        refuse_language_env(obs_space, act_space, config.env_id, learner)
        check_spaces(obs_space, act_space, config.env_id)
        check_rewards(config.env_id, rewards)
        for spec in rewards:
            if spec == "env":
                continue
            model = parse_reward_spec(spec, task_spec(config.env_id))
            if callable(getattr(model, "relabel", None)):
                raise ValueError(
                    f"SACConfig.reward {spec!r}: {model.name} rewards whole rollouts (frames or "
                    "episodes), which SAC's per-step replay cannot relabel; use --learner ppo"
                )

    @classmethod
    def train_in_run(cls, request: RunRequest) -> dict[str, Any]:
        """Train (or resume) in ``run_dir``; the final metrics (``Learner`` contract)."""
        agent = (
            cls.resume(request.run_dir)
            if request.resume
            else cls(request.config, run_dir=request.run_dir)
        )
        agent.continue_to(request.config.total_steps)  # a resume may have extended it
        try:
            return agent.learn(callback=request.callback)
        finally:
            agent.close()

    def __init__(self, config: SACConfig, run_dir: str | Path | None = None) -> None:
        self._setup([config], [run_dir])

    # -- construction ---------------------------------------------------------------
    def _setup(
        self,
        configs: Sequence[SACConfig],
        run_dirs: Sequence[str | Path | None],
        resume_step: int | None = None,
    ) -> None:
        base = configs[0]
        for cfg in configs[1:]:
            if cfg.env_id != base.env_id or cfg.num_envs != base.num_envs:
                raise ValueError("population members must share env_id and num_envs")
        self.configs = list(configs)
        self.k = len(configs)
        self.device = torch.device(resolve_device(base.device))
        if base.compile and self.device.type == "cpu":
            require_cpp_compiler("SACConfig.compile")
        if self.device.type == "cpu" and base.torch_threads:
            torch.set_num_threads(base.torch_threads)
        self.run_dirs = [Path(d) if d is not None else None for d in run_dirs]
        self.members = [MemberEnvs(cfg, self.device) for cfg in configs]  # type: ignore[arg-type]
        for cfg, member in zip(configs, self.members, strict=True):
            if member.relabel is not None:
                raise ValueError(
                    f"SACConfig.reward {cfg.reward!r}: a rollout-level reward model; SAC needs "
                    "per-step rewards (use --learner ppo)"
                )
        self.batch = MemberBatch(self.members, base)  # type: ignore[arg-type]
        envs = self.batch.envs
        self.obs_dim, self.act_dim = check_spaces(
            envs.single_observation_space, envs.single_action_space, base.env_id
        )
        self.autoreset_mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if self.autoreset_mode == AutoresetMode.DISABLED:
            raise ValueError(f"SACConfig.env_id {base.env_id!r}: vector env without autoreset")
        space = envs.single_action_space
        self.act_shape = tuple(space.shape)
        self._low = space.low.reshape(-1).astype(np.float32)
        self._span = (space.high - space.low).reshape(-1).astype(np.float32)
        seeds = [c.seed for c in configs]
        self.nets = ActorCritics(
            self.obs_dim,
            self.act_dim,
            base.hidden_sizes,
            seeds,
            self.device,
            critic_layer_norm=base.critic_layer_norm,
        )
        self.log_alpha = torch.full(
            (self.k,), math.log(base.alpha), device=self.device, requires_grad=True
        )
        self.target_entropy = (
            float(-self.act_dim) if base.target_entropy is None else float(base.target_entropy)
        )
        k = self.k
        self.optimizers = {
            "actor": StackedAdam(self.nets.actor.parameters(), lambda m: [m], base.learning_rate),
            "critic": StackedAdam(
                self.nets.critic.parameters(), lambda m: [m, k + m], base.learning_rate
            ),
            "alpha": StackedAdam([self.log_alpha], lambda m: [m], base.learning_rate),
        }
        self.generators = [
            torch.Generator(device=self.device).manual_seed(_sampling_seed(s)) for s in seeds
        ]
        self.replay = ReplayBuffer(k, base.capacity, self.obs_dim, self.act_dim, self.device)
        self.obs_norm = ObsNormalizer(k, (self.obs_dim,), self.device, enabled=base.norm_obs)
        self.global_step = 0
        self.resets = 0
        self.elapsed = 0.0
        self.status = ["RUNNING"] * k
        self.stopped_at: list[int | None] = [None] * k
        self.errors: list[str | None] = [None] * k
        self.last_rows: list[dict[str, Any]] = [{} for _ in range(k)]
        self.last_eval: list[dict[str, Any]] = [{} for _ in range(k)]
        self._held: dict[int, dict[str, Any]] = {}  # stopped members' state at their stop
        self._weight = torch.ones(k, device=self.device)  # 1 for members that train
        self._stat_sums: dict[str, torch.Tensor] = {}
        self._stat_count = 0
        self._resume_step = resume_step
        self._loggers: list[RunLogger | None] | None = None
        self._needs_reset = True
        self._obs = torch.zeros((k, base.num_envs, self.obs_dim), device=self.device)
        self._valid = np.ones((k, base.num_envs), dtype=bool)

    @property
    def config(self) -> SACConfig:
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
            if self._needs_reset:
                self._reset_envs()
            self._env_step()
            previous, self.global_step = self.global_step, self.global_step + base.num_envs
            vector_steps = self.global_step // base.num_envs
            if self.global_step >= base.learning_starts and vector_steps % base.train_freq == 0:
                for _ in range(base.gradient_steps):
                    self._gradient_step()
            session = time.perf_counter() - session_start
            self.elapsed = elapsed_before + session
            if self._crossed(previous, base.log_every) or self.global_step >= base.total_steps:
                speed = (self.global_step - start_step) / max(session, 1e-9)
                for k, row in enumerate(self._rows(speed)):
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

    # -- acting and storing -------------------------------------------------------------
    def _reset_envs(self) -> None:
        """Reset every sub-env, member k's with seeds from (its seed, reset count);
        stopped members' observations are left zero."""
        n = self.config.num_envs
        seeds = [reset_seeds(cfg.seed, self.resets, n) for cfg in self.configs]
        obs = self.batch.reset(seeds).reshape(self.k, n, -1)
        alive = np.asarray(self.alive, dtype=bool)[:, None, None]
        raw = np.where(alive, obs, 0.0).astype(np.float32)
        self.resets += 1
        self._valid[:] = True
        self._obs = torch.from_numpy(raw).to(self.device)
        self.obs_norm.update(self._obs)
        self._needs_reset = False

    def _explore(self) -> torch.Tensor:
        """Actions in [-1, 1], [K, N, A]: uniform before learning_starts, then pi's samples."""
        n, a = self.config.num_envs, self.act_dim
        if self.global_step < self.config.learning_starts:
            uniform = [torch.rand((n, a), generator=g, device=self.device) for g in self.generators]
            return torch.stack(uniform) * 2.0 - 1.0
        with torch.no_grad():
            noise = draw_normal((n, a), self.generators, self.device)
            return self.nets.sample(self.obs_norm(self._obs), noise).action

    def _env_step(self) -> None:
        """One vector step of every live member; its transitions go to the replay buffer."""
        n = self.config.num_envs
        actions = self._explore()
        scaled = self._low + (actions.cpu().numpy() + 1.0) * 0.5 * self._span  # the env boundary
        next_obs = np.zeros((self.k, n, self.obs_dim), dtype=np.float32)
        stored_next = np.zeros_like(next_obs)
        rewards = np.zeros((self.k, n), dtype=np.float32)
        terminated = np.zeros((self.k, n), dtype=np.float32)
        keep = self._valid.copy()
        alive = self.alive
        step = self.global_step + n
        try:
            result = self.batch.step(scaled.reshape(self.k, n, *self.act_shape), self._valid, alive)
            errors = result.errors
        except Exception as err:
            if not self.isolate_failures:
                raise
            result, errors = None, [err if alive[k] else None for k in range(self.k)]
        scored = [] if result is None else result.scored
        for k in range(self.k):
            if errors[k] is not None:  # its reward model's error, or the envs' own
                if not self.isolate_failures:
                    raise errors[k]
                message = f"{type(errors[k]).__name__}: {errors[k]}"
                self._stop(k, "ERROR", step, message)
                keep[k] = False
                continue
            if result is None or k not in scored:
                keep[k] = False
                continue
            reward, term, trunc = result.reward[k], result.terminated[k], result.truncated[k]
            if not np.isfinite(reward[self._valid[k]]).all():
                self._stop(k, "NONFINITE", step, f"the reward was not finite at step {step}")
                keep[k] = False
                continue
            obs = result.obs[k]
            next_obs[k] = obs.reshape(n, -1)
            if self.autoreset_mode != AutoresetMode.NEXT_STEP:  # final observations in info
                obs = final_observations(obs, result.member_info(k), self.autoreset_mode)
            stored_next[k] = obs.reshape(n, -1)
            rewards[k], terminated[k] = reward, term
            if self.autoreset_mode == AutoresetMode.NEXT_STEP:
                self._valid[k] = ~(term | trunc)  # the next step of an ended sub-env resets it
        # One host-to-device copy: next observations, stored next observations, r, terminated.
        packed = torch.from_numpy(
            np.concatenate(
                [next_obs, stored_next, rewards[..., None], terminated[..., None]], axis=-1
            )
        ).to(self.device)
        d = self.obs_dim
        self.replay.add(
            self._obs,
            actions,
            packed[..., 2 * d],
            packed[..., d : 2 * d],
            packed[..., 2 * d + 1],
            keep,
        )
        self._obs = packed[..., :d]
        self.obs_norm.update(self._obs)

    def _stop(self, k: int, status: str, step: int, message: str) -> None:
        self._held[k] = self._member_snapshot(k)  # frozen here: its rows stop moving
        super()._stop(k, status, step, message)
        self._weight[k] = 0.0

    # -- learning -----------------------------------------------------------------------
    def _gradient_step(self) -> None:
        base = self.config
        batch = self.replay.sample(base.batch_size, self.generators)
        if self.obs_norm.enabled:
            batch = batch._replace(
                obs=self.obs_norm(batch.obs), next_obs=self.obs_norm(batch.next_obs)
            )
        update = compiled_update if base.compile else sac_update
        stats = update(
            self.nets,
            self.optimizers,
            self.log_alpha,
            batch,
            gamma=base.gamma,
            tau=base.tau,
            target_entropy=self.target_entropy,
            autotune=base.autotune,
            weight=self._weight,
            generators=self.generators,
        )
        self._hold_stopped()
        for name, value in stats.items():
            total = self._stat_sums.get(name)
            self._stat_sums[name] = value if total is None else total + value
        self._stat_count += 1

    def _hold_stopped(self) -> None:
        """Put stopped members' parameters back: zero gradients still move them through
        Adam's momentum, and a stopped member must stay as it was at its stop."""
        for k, held in self._held.items():
            self._load_params(k, held)

    # -- logs ---------------------------------------------------------------------------
    def _rows(self, speed: float) -> list[dict[str, Any]]:
        means: dict[str, list[float]] = {}
        if self._stat_count:
            means = {
                name: (total / self._stat_count).tolist() for name, total in self._stat_sums.items()
            }
        self._stat_sums, self._stat_count = {}, 0
        rows = []
        for k in range(self.k):
            row: dict[str, Any] = {
                "step": self.global_step,
                "time": round(self.elapsed, 3),
                "steps_per_s": speed,
            }
            if self.k > 1:
                row["member"] = k
            row.update(self.batch.take_stats(k))
            row.update({name: values[k] for name, values in means.items()})
            row["learning_rate"] = self.configs[k].learning_rate
            row["status"] = self.status[k]
            self.last_rows[k] = {**self.last_rows[k], **row}
            rows.append(row)
        return rows

    # -- evaluation -------------------------------------------------------------------
    def deterministic_policy(self, k: int) -> Callable[[np.ndarray], np.ndarray]:
        def act(obs: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                x = torch.as_tensor(obs, dtype=torch.float32, device=self.device).reshape(1, -1)
                x = self.obs_norm(x.unsqueeze(0).expand(self.k, -1, -1))
                action = self.nets.deterministic(x)[k].cpu().numpy()
            return (self._low + (action + 1.0) * 0.5 * self._span).reshape(1, *self.act_shape)

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
    def _member_snapshot(self, k: int) -> dict[str, Any]:
        rows = self.nets.critic_rows(k)
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.configs[k].to_dict(),
            "actor": self.nets.actor.member_rows([k]),
            "critic": self.nets.critic.member_rows(rows),
            "critic_target": self.nets.critic_target.member_rows(rows),
            "log_alpha": self.log_alpha.detach()[k : k + 1].clone(),
            "optimizers": {name: opt.member_state(k) for name, opt in self.optimizers.items()},
            "obs_norm": self.obs_norm.member_state_dict(k),
            "replay": self.replay.member_state(k),
            "rng": {"sampling": self.generators[k].get_state(), "torch": torch.get_rng_state()},
        }

    def member_state(self, k: int) -> dict[str, Any]:
        """Member k's checkpoint: a single-learner checkpoint that SAC.resume can read.
        A stopped member's is its state at the step it stopped."""
        state = self._held.get(k) or self._member_snapshot(k)
        return {
            **state,
            "global_step": self.global_step,
            "resets": self.resets,
            "elapsed": self.elapsed,
            "status": self.status[k],
            # Env state at resume is reset_seeds(seed, resets): stored for inspection.
            "env_seeds": reset_seeds(self.configs[k].seed, self.resets, self.configs[k].num_envs),
        }

    def _load_params(self, k: int, state: dict[str, Any]) -> None:
        rows = self.nets.critic_rows(k)
        self.nets.actor.load_rows([k], state["actor"])
        self.nets.critic.load_rows(rows, state["critic"])
        self.nets.critic_target.load_rows(rows, state["critic_target"])
        with torch.no_grad():
            self.log_alpha[k] = state["log_alpha"][0].to(self.device)

    def _load_member_states(self, states: Sequence[dict[str, Any]]) -> None:
        for k, state in enumerate(states):
            if state.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(
                    f"checkpoint format {state.get('format')!r}, expected {CHECKPOINT_FORMAT!r} "
                    "(a SAC checkpoint)"
                )
            self._load_params(k, state)
        for name, opt in self.optimizers.items():
            opt.load_member_states([s["optimizers"][name] for s in states])
        self.obs_norm.load_member_state_dicts([s["obs_norm"] for s in states])
        self.replay.load_member_states([s["replay"] for s in states])
        for gen, s in zip(self.generators, states, strict=True):
            gen.set_state(s["rng"]["sampling"].cpu())  # generator states are CPU byte tensors
        torch.set_rng_state(states[0]["rng"]["torch"].cpu())
        self.global_step = int(states[0]["global_step"])
        self.resets = int(states[0]["resets"])
        self.elapsed = float(states[0]["elapsed"])
        self.status = [str(s["status"]) for s in states]
        self._held = {k: dict(s) for k, s in enumerate(states) if s["status"] != "RUNNING"}
        self._weight = torch.tensor(self.alive, dtype=torch.float32, device=self.device)
        self._needs_reset = True

    def _checkpoint_all(self) -> None:
        for k, run_dir in enumerate(self.run_dirs):
            if run_dir is None:
                continue
            folder = run_dir / "checkpoints"
            state = self.member_state(k)
            save_checkpoint(state, folder / LATEST)
            if self.configs[k].keep_checkpoints:
                save_checkpoint(state, folder / f"step_{self.global_step}.pt")
        # Every checkpoint is a reset point, written or not, so that a run behaves the
        # same with and without a run folder (see the module docstring).
        self._needs_reset = True

    @classmethod
    def load(
        cls, path: str | Path, run_dir: str | Path | None = None, device: str | None = None
    ) -> SAC:
        """A learner restored from a checkpoint file (config included)."""
        state = load_checkpoint(path)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                f"{path}: checkpoint format {state.get('format')!r}, expected "
                f"{CHECKPOINT_FORMAT!r} (a SAC checkpoint)"
            )
        config = SACConfig.from_dict(state["config"])
        if device is not None:
            config = SACConfig.from_dict({**config.to_dict(), "device": device})
        agent = cls.__new__(cls)
        agent._setup([config], [run_dir], resume_step=int(state["global_step"]))
        agent._load_member_states([state])
        return agent

    @classmethod
    def resume(cls, run_dir: str | Path) -> SAC:
        """Continue a run from ``run_dir/checkpoints/latest.pt`` (config is stored inside)."""
        run_dir = Path(run_dir)
        return cls.load(run_dir / "checkpoints" / LATEST, run_dir=run_dir)

    def parameters_digest(self, k: int = 0) -> str:
        """SHA-256 of member k's actor, critics, target critics and log alpha (bitwise)."""
        rows = self.nets.critic_rows(k)
        tensors = [
            *self.nets.actor.member_rows([k]),
            *self.nets.critic.member_rows(rows),
            *self.nets.critic_target.member_rows(rows),
            self.log_alpha.detach()[k : k + 1],
        ]
        digest = hashlib.sha256()
        for t in tensors:
            digest.update(t.cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()
