"""PPO for language-model agents in text and web envs (SPA-RL's pipeline).

    behaviour cloning (agent_bc) -> exploration -> progress-estimator training -> PPO

``AgentPPO`` collects whole episodes from ``num_envs`` envs at once (one batched
generation per step across the envs still running; a finished env starts the next
episode at once), so every episode a rollout holds is finished and SPA can relabel it.
Each step is one (prompt, action) pair: the policy's action log-probability is the sum
over the action tokens, the value comes from a head on the last prompt token
(``agent_policy``). The per-step reward is the env's (or the reward spec's, or the
relabelled SPA reward) minus ``kl_coef * (log pi(a|s) - log pi_ref(a|s))``, the KL
penalty to the reference (behaviour-cloned) policy as in Ziegler et al. 2019 and TRL.
GAE runs over each episode's steps (bootstrapping on truncation), then the clipped PPO
objective updates the policy and the value head.

With an ``spa`` reward the learner first explores ``explore_episodes`` episodes with the
initial policy and trains the progress estimator on them (SPA-RL section 3.2), then the
estimator keeps retraining on every rollout's episodes (``SPAConfig.retrain_every``).
Exploration steps count as env steps, so runs at equal ``total_steps`` are comparable.

Actions are sampled by the policy itself, or with ``rollout_backend="vllm"`` by an
in-process vLLM engine synced to the policy after every update (``agent_sampling``); the
log-probs PPO uses come from the policy either way.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentgym.config_fields import config_from_dict
from agentgym.learners.agent.config import AgentPPOConfig
from agentgym.learners.agent.episodes import (
    Episode,
    Step,
    episodes_to_rollout,
    grounding_accuracy,
    mission_of,
    relabel_episodes,
    step_reward_terms,
)
from agentgym.learners.agent.policy import LMPolicy, PromptFormat
from agentgym.learners.agent.pretrained import policy_path
from agentgym.learners.agent.sampling import make_sampler, require_vllm_rollouts
from agentgym.learners.agent.update import kl_penalised_targets, minibatch_losses
from agentgym.learners.base import RunRequest
from agentgym.learners.checkpoint import LATEST, load_checkpoint, save_checkpoint
from agentgym.learners.logger import RunLogger
from agentgym.rewards.episodic import per_env
from agentgym.rewards.metrics import reward_metrics

log = logging.getLogger(__name__)

EVAL_SEED = 1_000_003  # held-out episode seeds start here; training seeds stay below it


def _is_relabel(model: Any) -> bool:
    return callable(getattr(model, "relabel", None))


class AgentPPO:
    """PPO on a transformers causal-LM policy acting in a text env."""

    config_class = AgentPPOConfig
    default_reward = "sparse"
    several_rewards = False
    checkpoint_file = LATEST

    @classmethod
    def check_request(cls, config: AgentPPOConfig, rewards: Sequence[str]) -> None:
        """Env id, policy folder and reward spec checked, and the env acts in text."""
        import gymnasium as gym

        import agentgym  # noqa: F401  (registers the envs)
        from agentgym.rewards import parse_reward_spec

        env_spec = gym.spec(config.env_id)
        policy_path(config.policy)
        env = gym.make(env_spec.id)
        task = getattr(env.unwrapped, "task_spec", None)
        text_actions = isinstance(env.action_space, gym.spaces.Text)
        env.close()
        if not text_actions:
            raise ValueError(
                f"--env {config.env_id!r}: --learner agent-ppo acts with text commands, and this "
                f"env's actions are {type(env.action_space).__name__}; pick a text, web or tool "
                "env (agentgym envs --family text)"
            )
        if config.reward != "env":
            parse_reward_spec("spa:" if config.reward == "spa" else config.reward, task)

    @classmethod
    def train_in_run(cls, request: RunRequest) -> dict[str, Any]:
        """Train (or resume) in ``run_dir``; the final metrics (``Learner`` contract)."""
        agent = (
            cls.resume(request.run_dir)
            if request.resume
            else cls(request.config, run_dir=request.run_dir)
        )
        # A resume may have extended the budget (--steps); the checkpoint holds the old one.
        agent.config = replace(agent.config, total_steps=request.config.total_steps)
        try:
            return agent.learn(callback=request.callback)
        finally:
            agent.close()

    def __init__(
        self,
        config: AgentPPOConfig,
        run_dir: str | Path | None = None,
        policy: LMPolicy | None = None,
        resume_state: dict[str, Any] | None = None,
    ) -> None:
        import gymnasium as gym

        import agentgym  # noqa: F401  (registers the envs)
        from agentgym.learners.device import resolve_device
        from agentgym.rewards import parse_reward_spec

        self.config = cfg = config
        if cfg.rollout_backend == "vllm":
            require_vllm_rollouts()  # before loading anything
        if cfg.torch_threads > 0:
            torch.set_num_threads(cfg.torch_threads)
        self.device = torch.device(resolve_device(cfg.device))
        probe = gym.make(cfg.env_id)
        spec = getattr(probe.unwrapped, "task_spec", None)
        probe.close()
        reward_text = "spa:" if cfg.reward == "spa" else cfg.reward
        model = None if reward_text == "env" else parse_reward_spec(reward_text, spec)
        self.relabel = model if _is_relabel(model) else None
        env_reward = None if (self.relabel is not None or model is None) else model
        self.reward_model = model
        kwargs: dict[str, Any] = {}
        if cfg.max_episode_steps:
            kwargs["max_episode_steps"] = cfg.max_episode_steps
        # A reward that pays once per episode (subgoals) needs one copy per env (per_env).
        self.envs = [
            gym.make(
                cfg.env_id, reward=None if env_reward is None else per_env(env_reward), **kwargs
            )
            for _ in range(cfg.num_envs)
        ]
        fmt = PromptFormat(cfg.history, cfg.max_prompt_tokens, cfg.max_action_tokens, cfg.chat)
        torch.manual_seed(cfg.seed)
        self.policy = policy or LMPolicy.from_pretrained(
            cfg.policy, fmt, self.device, lora_rank=cfg.lora_rank
        )
        self.policy.fmt = fmt
        self.policy.to(self.device)
        # The reference policy of the KL penalty: the adapters switched off under LoRA,
        # else a frozen copy of the starting weights.
        self.reference = None
        if cfg.kl_coef > 0 and not self.policy.lora:
            self.reference = copy.deepcopy(self.policy).eval().requires_grad_(False)
        params = [p for p in self.policy.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.global_step = 0
        self.updates = 0
        self.episodes_started = 0
        self.explored = False
        if resume_state is not None:
            self._load_state(resume_state)
        self.sampler = make_sampler(
            cfg.rollout_backend,
            self.policy,
            cfg.policy,
            seed=cfg.seed,
            gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
            dtype=cfg.vllm_dtype,
        )
        self.logger = (
            RunLogger(self.run_dir, resume_step=self.global_step if resume_state else None)
            if self.run_dir is not None
            else None
        )

    # -- collecting episodes --------------------------------------------------------------
    def _next_seed(self) -> int:
        cfg = self.config
        task = self.episodes_started // cfg.group_size
        seed = cfg.seed * 100_000 + (task % cfg.task_seeds if cfg.task_seeds else task)
        self.episodes_started += 1
        return seed

    @torch.no_grad()
    def run_episodes(
        self,
        count: int,
        greedy: bool = False,
        seeds: list[int] | None = None,
        score: bool = True,
        generator: torch.Generator | None = None,
    ) -> list[Episode]:
        """Play ``count`` episodes with the current policy, ``num_envs`` at a time;
        ``score=False`` skips the log-probs, values and features PPO needs."""
        from agentgym.text_env import observation_text

        policy = self.policy
        policy.eval()
        pending = list(seeds) if seeds is not None else [self._next_seed() for _ in range(count)]
        finished: list[Episode] = []
        running: dict[
            int, tuple[Episode, str, str]
        ] = {}  # env index -> (episode, obs text, mission)

        def start(i: int) -> None:
            if pending:
                ep = Episode(pending.pop(0))
                obs, info = self.envs[i].reset(seed=ep.seed)
                running[i] = (ep, observation_text(obs), mission_of(self.envs[i], info))

        for i in range(len(self.envs)):
            start(i)
        while running:
            order = sorted(running)
            prompts = [
                policy.encode_prompt(running[i][2], running[i][0].history, running[i][1])
                for i in order
            ]
            actions = self.sampler.generate(
                prompts,
                greedy=greedy,
                generator=generator or self.generator,
                temperature=self.config.temperature,
            )
            if score:
                out = policy.evaluate(prompts, actions)
                ref = None
                if self.config.kl_coef > 0:
                    ref = (
                        self.reference.evaluate(prompts, actions)
                        if self.reference is not None
                        else policy.evaluate(prompts, actions, reference=True)
                    ).logprob
            for j, i in enumerate(order):
                ep, obs_text, mission = running[i]
                step = Step(prompts[j], actions[j])
                if score:
                    step.logprob, step.value = float(out.logprob[j]), float(out.value[j])
                    step.feature = out.features[j]
                    step.ref_logprob = float(ref[j]) if ref is not None else step.logprob
                text = policy.decode_action(actions[j])
                obs, reward, terminated, truncated, info = self.envs[i].step(text)
                step.reward = float(reward)
                step.valid_action = bool(info.get("action_valid", True))
                step.terms = info.get("reward_terms", {})
                ep.steps.append(step)
                ep.history.append((obs_text, text))
                if terminated or truncated:
                    ep.success = bool(info.get("success", False))
                    ep.fitness = float(info.get("fitness", ep.success))
                    ep.terminated = bool(terminated)
                    if truncated and not terminated and score:
                        ep.final_prompt = policy.encode_prompt(
                            mission, ep.history, observation_text(obs)
                        )
                    finished.append(ep)
                    del running[i]
                    start(i)
                else:
                    running[i] = (ep, observation_text(obs), mission)
        truncated_eps = [ep for ep in finished if ep.final_prompt is not None]
        if truncated_eps:  # bootstrap values of time-limited episodes (Pardo et al. 2018)
            eos = [[policy.eos]] * len(truncated_eps)
            values = policy.evaluate([ep.final_prompt for ep in truncated_eps], eos).value
            for ep, v in zip(truncated_eps, values.tolist(), strict=True):
                ep.final_value = v
        return finished

    def explore(self) -> dict[str, float]:
        """SPA's exploration phase: episodes of the initial policy train the estimator."""
        row: dict[str, float] = {}
        if self.relabel is None or self.explored or not self.config.explore_episodes:
            self.explored = True
            return row
        episodes = self.run_episodes(self.config.explore_episodes)
        self.global_step += sum(len(ep.steps) for ep in episodes)
        self.relabel.relabel(
            episodes_to_rollout(episodes, self.device)
        )  # adds them to the buffer and fits
        if getattr(self.relabel, "trainings", 1) == 0 and hasattr(self.relabel, "fit"):
            self.relabel.fit()
        self.explored = True
        row["spa/explore_success"] = float(np.mean([ep.success for ep in episodes]))
        row["spa/fit_loss"] = float(getattr(self.relabel, "last_fit_loss", float("nan")))
        return row

    # -- the update -------------------------------------------------------------------
    def update(self, episodes: list[Episode]) -> dict[str, float]:
        """Relabel (SPA), KL-penalise, GAE, and the clipped PPO update on these episodes."""
        cfg, dev = self.config, self.device
        row: dict[str, float] = {}
        if self.relabel is not None:
            row.update(relabel_episodes(self.relabel, episodes, self.device))
            row["spa/fit_loss"] = float(getattr(self.relabel, "last_fit_loss", float("nan")))
        targets, kl_ref = kl_penalised_targets(episodes, cfg.kl_coef, cfg.gamma, cfg.gae_lambda)
        adv_all = torch.tensor([t.advantage for t in targets])
        if cfg.norm_adv and len(targets) > 1:
            adv_all = (adv_all - adv_all.mean()) / (adv_all.std() + 1e-8)
        self.policy.train()
        params = [p for p in self.policy.parameters() if p.requires_grad]
        stats: dict[str, list[float]] = {}
        for _ in range(cfg.update_epochs):
            order = torch.randperm(len(targets), generator=self.generator).tolist()
            for i in range(0, len(order), cfg.minibatch_size):
                idx = order[i : i + cfg.minibatch_size]
                steps = [targets[j].step for j in idx]
                losses = minibatch_losses(
                    self.policy.evaluate([s.prompt for s in steps], [s.action for s in steps]),
                    old_logprobs=torch.tensor([s.logprob for s in steps], device=dev),
                    old_values=torch.tensor([s.value for s in steps], device=dev),
                    advantages=adv_all[idx].to(dev),
                    returns=torch.tensor([targets[j].ret for j in idx], device=dev),
                    clip_coef=cfg.clip_coef,
                )
                loss = losses.policy + cfg.vf_coef * losses.value - cfg.ent_coef * losses.entropy
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                self.optimizer.step()
                for name, value in {**losses.metrics(), "grad_norm": float(grad_norm)}.items():
                    stats.setdefault(name, []).append(value)
        self.policy.eval()
        self.sampler.sync(self.policy)
        self.updates += 1
        # PPO's names (the report reads them); means over the update's minibatches.
        row.update({k: float(np.mean(v)) for k, v in stats.items()})
        row["epochs"] = float(cfg.update_epochs)
        row["learning_rate"] = cfg.learning_rate
        row["kl_ref"] = float(kl_ref.mean())
        return row

    # -- evaluation, the loop, checkpoints ----------------------------------------------------
    def eval_seeds(self, n: int) -> list[int]:
        """Held-out task seeds, or the fixed training tasks in turn when ``task_seeds``."""
        cfg = self.config
        if cfg.task_seeds:
            return [cfg.seed * 100_000 + i % cfg.task_seeds for i in range(n)]
        return [EVAL_SEED + i for i in range(n)]

    def evaluate(self, episodes: int | None = None) -> dict[str, float]:
        """Success rate, task fitness and grounding accuracy on held-out seeds (the same seeds and
        sampling noise at every evaluation, so evaluations compare)."""
        n = self.config.eval_episodes if episodes is None else episodes
        if n <= 0:
            return {}
        eps = self.run_episodes(
            n,
            greedy=self.config.eval_greedy,
            seeds=self.eval_seeds(n),
            score=False,
            generator=torch.Generator().manual_seed(EVAL_SEED),
        )
        return {
            "eval/success_rate": float(np.mean([ep.success for ep in eps])),
            "eval/fitness": float(np.mean([ep.fitness for ep in eps])),
            "eval/grounding_accuracy": grounding_accuracy(eps),
            "eval/episode_length": float(np.mean([len(ep.steps) for ep in eps])),
        }

    def learn(
        self, callback: Callable[[dict[str, Any]], bool | None] | None = None
    ) -> dict[str, Any]:
        """Train until ``total_steps`` env steps; returns the last log row (with eval/ keys)."""
        cfg = self.config
        start_time, start_step = time.time(), self.global_step
        row: dict[str, Any] = {}
        if self.global_step == 0:
            row = {"step": 0, **self.evaluate()}
            self._log(row, callback)
        if not self.explored:
            row = {"step": None, **self.explore()}
            row["step"] = self.global_step
            self._log(row, callback)
        while self.global_step < cfg.total_steps:
            episodes = self.run_episodes(cfg.episodes_per_update)
            self.global_step += sum(len(ep.steps) for ep in episodes)
            row = {
                "step": self.global_step,
                "episode_return": float(
                    np.mean([sum(s.reward for s in ep.steps) for ep in episodes])
                ),
                "success_rate": float(np.mean([ep.success for ep in episodes])),
                "grounding_accuracy": grounding_accuracy(episodes),
                "episode_length": float(np.mean([len(ep.steps) for ep in episodes])),
                "episodes": float(len(episodes)),
            }
            row.update(self.update(episodes))
            if self.relabel is None:  # the relabelled terms come from update()
                row.update(step_reward_terms(episodes))
            row.update(reward_metrics(self.reward_model))
            row["steps_per_s"] = (self.global_step - start_step) / max(
                time.time() - start_time, 1e-9
            )
            done = self.global_step >= cfg.total_steps
            if done or (cfg.eval_every_updates and self.updates % cfg.eval_every_updates == 0):
                row.update(self.evaluate())
            if self.run_dir is not None and (
                done
                or (
                    cfg.checkpoint_every_updates
                    and self.updates % cfg.checkpoint_every_updates == 0
                )
            ):
                self.save(self.run_dir / "checkpoints" / LATEST)
            if self._log(row, callback) is False:
                break
        if self.run_dir is not None:  # also when exploration alone used up the budget
            self.save(self.run_dir / "checkpoints" / LATEST)
            self.policy.save_pretrained(self.run_dir / "policy")
        if self.logger is not None:
            self.logger.close()
        return row

    def _log(
        self, row: dict[str, Any], callback: Callable[[dict[str, Any]], bool | None] | None
    ) -> bool | None:
        log.info(
            "agent-ppo %s", {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
        )
        if self.logger is not None:
            self.logger.write(row)
        return callback(row) if callback is not None else None

    def state_dict(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "global_step": self.global_step,
            "updates": self.updates,
            "episodes_started": self.episodes_started,
            "explored": self.explored,
            "relabel": self.relabel.state_dict() if hasattr(self.relabel, "state_dict") else None,
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.global_step = int(state["global_step"])
        self.updates = int(state["updates"])
        self.episodes_started = int(state["episodes_started"])
        self.explored = bool(state["explored"])
        if state.get("relabel") is not None and hasattr(self.relabel, "load_state_dict"):
            self.relabel.load_state_dict(state["relabel"])

    def save(self, path: str | Path) -> Path:
        """An atomic checkpoint (tensors and plain values only; weights_only-safe)."""
        return save_checkpoint(self.state_dict(), path)

    @classmethod
    def resume(cls, run_dir: str | Path) -> AgentPPO:
        """Continue the run in ``run_dir`` from ``checkpoints/latest.pt``."""
        run_dir = Path(run_dir)
        state = load_checkpoint(run_dir / "checkpoints" / LATEST)
        return cls(
            config_from_dict(AgentPPOConfig, state["config"]), run_dir=run_dir, resume_state=state
        )

    def close(self) -> None:
        self.sampler.close()
        for env in self.envs:
            env.close()
