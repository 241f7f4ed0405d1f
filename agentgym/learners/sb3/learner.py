"""stable-baselines3's PPO trained from a ``PPOConfig`` into an agentgym run folder.

``train_sb3_ppo`` trains SB3's PPO with the hyper-parameters of a ``PPOConfig`` (same
rollout length, minibatch size, epochs, network, normalisation) on the VecEnv of
vec_env.py (any per-step agentgym reward) and writes the same run folder as
``agentgym.learners.ppo.learner.PPO``: logs/metrics.jsonl with the same rows, checkpoints,
evaluation videos, and the same TensorBoard scalars under logs/tb (not SB3's own tags).
It is both the door for people who live in SB3 and the speed and quality baseline of our
own PPO.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

# The adapter's names stay importable from here (docs/runs.md imports them so).
from agentgym.learners.base import RunRequest
from agentgym.learners.ppo.config import PPOConfig
from agentgym.learners.sb3.vec_env import make_sb3_vec_env

log = logging.getLogger(__name__)

Row = dict[str, Any]


def sb3_ppo_kwargs(config: PPOConfig, device: str) -> dict[str, Any]:
    """SB3 PPO arguments equal to a PPOConfig's hyper-parameters."""
    batch = config.num_envs * config.num_steps
    if batch % config.num_minibatches:
        raise ValueError(
            f"num_minibatches: {config.num_minibatches} must divide num_envs * num_steps = {batch}"
        )
    lr = float(config.learning_rate)
    hidden = list(config.hidden_sizes)
    return {
        "n_steps": config.num_steps,
        "batch_size": batch // config.num_minibatches,
        "n_epochs": config.update_epochs,
        # SB3 schedules take progress_remaining (1 -> 0): linear anneal to 0 like ours.
        "learning_rate": (lambda progress: progress * lr) if config.anneal_lr else lr,
        "gamma": config.gamma,
        "gae_lambda": config.gae_lambda,
        "clip_range": config.clip_coef,
        "clip_range_vf": config.clip_coef if config.clip_vloss else None,
        "ent_coef": config.ent_coef,
        "vf_coef": config.vf_coef,
        "max_grad_norm": config.max_grad_norm,
        "target_kl": config.target_kl,
        "seed": config.seed,
        "device": device,
        "policy_kwargs": {
            "net_arch": {"pi": hidden, "vf": hidden},
            "activation_fn": torch.nn.Tanh,
            "ortho_init": True,
            "log_std_init": 0.0,
        },
        "verbose": 0,
    }


class _EpisodeTracker:
    """Per-env running returns (env reward); rollout-level means of the reward terms."""

    def __init__(self, num_envs: int) -> None:
        self.returns = np.zeros(num_envs)
        self.lengths = np.zeros(num_envs, dtype=np.int64)
        self.clear()

    def clear(self) -> None:
        self.finished_returns: list[float] = []
        self.finished_lengths: list[int] = []
        self.finished_success: list[bool] = []
        self.term_sums: dict[str, float] = defaultdict(float)
        self.env_reward_sum = 0.0
        self.steps = 0

    def add(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        # Returns are of the env's own reward, as agentgym's PPO logs them, so that runs
        # on different rewards compare on one scale.
        env_rewards = np.asarray(
            [float(info.get("env_reward", r)) for info, r in zip(infos, rewards, strict=True)]
        )
        self.returns += env_rewards
        self.lengths += 1
        for i, info in enumerate(infos):
            for key, value in (info.get("reward_terms") or {}).items():
                self.term_sums[key] += float(value)
            self.env_reward_sum += env_rewards[i]
            self.steps += 1
            if dones[i]:
                self.finished_returns.append(float(self.returns[i]))
                self.finished_lengths.append(int(self.lengths[i]))
                if "success" in info:
                    self.finished_success.append(bool(info["success"]))
                self.returns[i] = 0.0
                self.lengths[i] = 0

    def row(self) -> Row:
        row: Row = {}
        if self.finished_returns:
            row["episode_return"] = float(np.mean(self.finished_returns))
            row["episode_length"] = float(np.mean(self.finished_lengths))
            row["episodes"] = float(len(self.finished_returns))
        if self.finished_success:
            row["success_rate"] = float(np.mean(self.finished_success))
        for key, total in self.term_sums.items():
            row[f"reward_terms/{key}"] = total / max(self.steps, 1)
        row["env_reward"] = self.env_reward_sum / max(self.steps, 1)
        return row


# SB3's logger keys -> the metrics.jsonl names of agentgym's PPO.
_SB3_KEYS = {
    "train/policy_gradient_loss": "loss/policy",
    "train/value_loss": "loss/value",
    "train/entropy_loss": "loss/entropy",
    "train/approx_kl": "approx_kl",
    "train/clip_fraction": "clipfrac",
    "train/learning_rate": "learning_rate",
}

STATE_FILE = "sb3_state.json"
CHECKPOINT = "latest.zip"
VECNORMALIZE = "vecnormalize.json"


def _run_logger_class() -> type:
    from stable_baselines3.common.callbacks import BaseCallback

    class RunLogger(BaseCallback):
        """Writes agentgym's metrics.jsonl rows, evaluations and checkpoints during SB3 PPO."""

        def __init__(self, trainer: SB3Trainer) -> None:
            super().__init__(verbose=0)
            self.trainer = trainer
            self.pending: Row | None = None
            self.stop = False

        def _on_training_start(self) -> None:
            self.tracker = _EpisodeTracker(self.training_env.num_envs)
            self.session_steps0 = self.model.num_timesteps
            self.paused = 0.0  # evaluation and checkpoint time, left out of steps/s
            # SB3 counts epochs run (an early stop on target_kl included) only in this
            # attribute and in the logger's train/n_updates, a running total.
            self.updates = int(self.model._n_updates)

        def _on_step(self) -> bool:
            normalizer = self.model.get_vec_normalize_env()
            rewards = (
                normalizer.get_original_reward()
                if normalizer is not None
                else self.locals["rewards"]
            )
            self.tracker.add(
                np.asarray(rewards, dtype=np.float64), self.locals["dones"], self.locals["infos"]
            )
            return not self.stop

        def _on_rollout_end(self) -> None:
            row = {"step": int(self.model.num_timesteps), **self.tracker.row()}
            self.tracker.clear()
            self.pending = row

        def _on_rollout_start(self) -> None:
            self._flush()

        def _on_training_end(self) -> None:
            self._flush()

        def _flush(self) -> None:
            """Complete the last rollout's row with the losses of the update after it."""
            if self.pending is None:
                return
            row, self.pending = self.pending, None
            values = self.model.logger.name_to_value
            for sb3_key, key in _SB3_KEYS.items():
                if sb3_key in values:
                    row[key] = float(values[sb3_key])
            if "loss/entropy" in row:
                row["loss/entropy"] = -row["loss/entropy"]  # SB3 logs -entropy; ours the entropy
            if "train/n_updates" in values:
                updates = int(values["train/n_updates"])
                row["epochs"] = float(updates - self.updates)  # epochs of this update
                self.updates = updates
            elapsed = self.trainer.session_time()
            steps = self.model.num_timesteps - self.session_steps0
            row["time"] = self.trainer.elapsed_before + elapsed
            row["steps_per_s"] = steps / max(elapsed - self.paused, 1e-9)
            ordered = {
                "step": row.pop("step"),
                "time": row.pop("time"),
                "steps_per_s": row.pop("steps_per_s"),
                **row,
            }
            if self.trainer.emit(ordered) is False:
                self.stop = True
            pause = time.perf_counter()
            self.trainer.maybe_evaluate()
            self.trainer.maybe_checkpoint(elapsed)
            self.paused += time.perf_counter() - pause

    return RunLogger


class SB3Trainer:
    """SB3 PPO trained from a PPOConfig into an agentgym run folder."""

    config_class = PPOConfig
    default_reward = "env"
    several_rewards = False
    checkpoint_file = CHECKPOINT

    @classmethod
    def check_request(cls, config: PPOConfig, rewards: Sequence[str]) -> None:
        """The env id exists, acts with vectors (not text), and every reward spec parses
        against its TaskSpec."""
        from agentgym.catalog import check_rewards
        from agentgym.learners.spaces import probe_spaces, refuse_language_env

        check_rewards(config.env_id, rewards)  # looks the env up first (did-you-mean)
        refuse_language_env(*probe_spaces(config.env_id), config.env_id, "sb3-ppo")

    @classmethod
    def train_in_run(cls, request: RunRequest) -> dict[str, Any]:
        """Train (or resume, not bit-identically) in ``run_dir`` (``Learner`` contract)."""
        return cls(request.config, request.run_dir, request.callback, resume=request.resume).learn()

    def __init__(
        self,
        config: PPOConfig,
        run_dir: str | Path,
        callback: Callable[[Row], bool | None] | None = None,
        resume: bool = False,
    ) -> None:
        from stable_baselines3 import PPO as SB3PPO
        from stable_baselines3.common.logger import Logger
        from stable_baselines3.common.vec_env import VecNormalize

        from agentgym.learners.device import resolve_device
        from agentgym.learners.logger import RunLogger

        self.config = config
        self.run_dir = Path(run_dir)
        self.callback = callback
        self.device = resolve_device(config.device)
        if self.device == "cpu" and config.torch_threads > 0:
            torch.set_num_threads(config.torch_threads)  # the same threads as agentgym's PPO
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        venv = make_sb3_vec_env(config, self.device)
        state: dict[str, Any] = {}
        if resume:
            if not (self.ckpt_dir / CHECKPOINT).is_file():
                raise FileNotFoundError(
                    f"{self.ckpt_dir / CHECKPOINT}: no SB3 checkpoint to resume from"
                )
            state = json.loads((self.ckpt_dir / STATE_FILE).read_text())
            if isinstance(venv, VecNormalize):
                load_normalizer(venv, self.ckpt_dir / VECNORMALIZE)
            # Not SB3PPO.load: it cloudpickle-loads the zip's "data" (code). The model is
            # built from the config as for a new run, and only its tensors are read back
            # (torch.load(weights_only=True) inside set_parameters).
            self.model = SB3PPO("MlpPolicy", venv, **sb3_ppo_kwargs(config, self.device))
            self.model.set_parameters(
                str(self.ckpt_dir / CHECKPOINT), exact_match=True, device=self.device
            )
            self.model.num_timesteps = int(state["step"])
        else:
            self.model = SB3PPO("MlpPolicy", venv, **sb3_ppo_kwargs(config, self.device))
        # SB3's logger only collects its values for RunLogger's rows (no outputs, no
        # folder): the rows and TensorBoard scalars are agentgym's own, so SB3 runs and
        # agentgym PPO runs overlay tag for tag.
        self.model.set_logger(Logger(folder=None, output_formats=[]))
        self.elapsed_before = float(state.get("elapsed", 0.0))
        self.next_eval = int(state.get("next_eval", config.eval_every))
        self.next_checkpoint = int(state.get("next_checkpoint", config.checkpoint_every))
        self.metrics = RunLogger(
            self.run_dir, resume_step=int(self.model.num_timesteps) if resume else None
        )
        self.last_eval: dict[str, Any] = {}
        self.last_row: Row = {}
        self.session_start = time.perf_counter()

    def emit(self, row: Row) -> bool | None:
        self.metrics.write(row)
        if not any(k.startswith("eval/") for k in row):
            self.last_row = row
        return self.callback(row) if self.callback is not None else None

    def learn(self) -> dict[str, float]:
        """Train to config.total_steps (from the checkpoint when resumed); final metrics."""
        remaining = self.config.total_steps - self.model.num_timesteps
        logger = _run_logger_class()(self)
        self.session_start = time.perf_counter()
        if remaining > 0:
            self.model.learn(
                total_timesteps=remaining,
                callback=logger,
                log_interval=1,
                reset_num_timesteps=False,
                progress_bar=False,
            )
        if self.config.eval_episodes > 0 and self.last_eval.get("step") != self.model.num_timesteps:
            self.evaluate_and_log()
        self.save(self.elapsed_before + self.session_time())
        self.metrics.close()
        final = {k: v for k, v in self.last_row.items() if k != "time"}
        final.update(self.last_eval)
        final["step"] = int(self.model.num_timesteps)
        final["status"] = "STOPPED" if logger.stop else "DONE"
        return final

    def session_time(self) -> float:
        return time.perf_counter() - self.session_start

    # -- evaluation and checkpoints -------------------------------------------------
    def maybe_evaluate(self) -> None:
        every = self.config.eval_every
        if every and self.config.eval_episodes > 0 and self.model.num_timesteps >= self.next_eval:
            self.evaluate_and_log()
            while self.next_eval <= self.model.num_timesteps:
                self.next_eval += every

    def evaluate_and_log(self) -> None:
        step = int(self.model.num_timesteps)
        video = self.run_dir / "videos" / f"eval_{step}.mp4" if self.config.video else None
        # The evaluation seed of agentgym's PPO, so both learners face the same episodes.
        result = self.evaluate(
            self.config.eval_episodes, seed=self.config.seed + 1_000_003, video_path=video
        )
        row: Row = {"step": step, "time": round(self.elapsed_before + self.session_time(), 3)}
        row.update({f"eval/{k}": v for k, v in result.items() if k != "video"})
        if "video" in result:
            row["eval/video"] = Path(result["video"]).relative_to(self.run_dir).as_posix()
        self.last_eval = {k: v for k, v in row.items() if k != "time"}
        self.emit(row)

    def maybe_checkpoint(self, session_elapsed: float) -> None:
        every = self.config.checkpoint_every
        if every and self.model.num_timesteps >= self.next_checkpoint:
            while self.next_checkpoint <= self.model.num_timesteps:
                self.next_checkpoint += every
            self.save(self.elapsed_before + session_elapsed)

    def save(self, elapsed: float) -> None:
        """latest.zip (policy, optimiser, step), the VecNormalize statistics, the schedule."""
        self.model.save(self.ckpt_dir / CHECKPOINT)
        normalizer = self.model.get_vec_normalize_env()
        if normalizer is not None:
            save_normalizer(normalizer, self.ckpt_dir / VECNORMALIZE)
        state = {
            "elapsed": elapsed,
            "next_eval": self.next_eval,
            "next_checkpoint": self.next_checkpoint,
            "step": int(self.model.num_timesteps),
        }
        tmp = self.ckpt_dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.ckpt_dir / STATE_FILE)

    def evaluate(
        self, episodes: int, seed: int, video_path: Path | None = None
    ) -> dict[str, float]:
        """Deterministic episodes, scored like agentgym's PPO (learners/evaluate.py):
        success_rate, fitness, mean_return (the env's own reward), mean_length."""
        from agentgym.learners.evaluate import run_episodes

        normalizer = self.model.get_vec_normalize_env()

        def policy(obs: np.ndarray) -> np.ndarray:
            if normalizer is not None:
                obs = normalizer.normalize_obs(obs)
            return self.model.predict(obs, deterministic=True)[0]

        result = run_episodes(
            self.config.env_id,
            policy,
            episodes,
            seed,
            video_path,
            self.config.render_width,
            self.config.render_height,
        )
        return {k: v for k, v in result.items() if v is not None}


def save_normalizer(normalizer: Any, path: Path) -> None:
    """VecNormalize's running statistics as JSON (SB3's own ``save`` pickles the object)."""
    stats = {
        name: {
            "mean": np.asarray(rms.mean, dtype=np.float64).tolist(),
            "var": np.asarray(rms.var, dtype=np.float64).tolist(),
            "count": float(rms.count),
        }
        for name, rms in (("obs_rms", normalizer.obs_rms), ("ret_rms", normalizer.ret_rms))
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(stats))
    tmp.replace(path)


def load_normalizer(normalizer: Any, path: Path) -> None:
    """Restore ``save_normalizer``'s statistics into a fresh VecNormalize of the same run."""
    from agentgym.learners.checkpoint import CheckpointError

    if not path.is_file():
        old = path.with_suffix(".pkl")
        why = (
            f"{old.name} is a pickle (older agentgym), which is never loaded: it could run code"
            if old.is_file()
            else "it is missing"
        )
        raise CheckpointError(f"cannot resume from {path.parent}: {why}; expected {path.name}")
    try:
        stats = json.loads(path.read_text())
        for name in ("obs_rms", "ret_rms"):
            rms = getattr(normalizer, name)
            mean = np.asarray(stats[name]["mean"], dtype=np.float64).reshape(rms.mean.shape)
            var = np.asarray(stats[name]["var"], dtype=np.float64).reshape(rms.var.shape)
            rms.mean, rms.var, rms.count = mean, var, float(stats[name]["count"])
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt ({err})") from err


def train_sb3_ppo(
    config: PPOConfig, run_dir: str | Path, callback: Callable[[Row], bool | None] | None = None
) -> dict[str, float]:
    """Train SB3's PPO with a PPOConfig's hyper-parameters into ``run_dir``; final metrics."""
    return SB3Trainer(config, run_dir, callback).learn()


def resume_sb3_ppo(
    config: PPOConfig, run_dir: str | Path, callback: Callable[[Row], bool | None] | None = None
) -> dict[str, float]:
    """Continue an SB3 run from run_dir/checkpoints/latest.zip to config.total_steps.

    Not bit-identical to an uninterrupted run (SB3 does not checkpoint its RNG and env
    states); agentgym's PPO is, for that.
    """
    return SB3Trainer(config, run_dir, callback, resume=True).learn()
