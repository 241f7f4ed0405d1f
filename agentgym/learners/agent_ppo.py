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

Rollouts are generated with transformers; ``rollout_backend="vllm"`` is refused with a
clear error when vllm is not installed (it is not part of the CPU test venv).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentgym.learners.agent_policy import LMPolicy, PromptFormat
from agentgym.learners.checkpoint import LATEST, load_checkpoint, save_checkpoint
from agentgym.learners.gae import compute_gae
from agentgym.learners.logger import RunLogger
from agentgym.learners.rollout import Rollout

log = logging.getLogger(__name__)

EVAL_SEED = 1_000_003  # held-out episode seeds start here; training seeds stay below it


@dataclass(frozen=True)
class AgentPPOConfig:
    """Hyper-parameters of agent PPO (defaults suit a tiny policy on a short text task)."""

    env_id: str = "agentgym/BabyAI-GoToLocal-v0"
    """A text, web or tool env (actions are text commands)."""
    policy: str = ""
    """The policy: hf:PATH, a transformers causal-LM folder (behaviour-cloned first, usually)."""
    reward: str = "sparse"
    """Reward spec: env, sparse, a program, or spa[:KEY=VALUE;...] (SPA, relabelled per rollout)."""
    total_steps: int = 4000
    """Env steps to train for (exploration steps included)."""
    num_envs: int = 8
    """Envs stepped together (one batched generation per step)."""
    episodes_per_update: int = 16
    """Finished episodes per PPO update."""
    max_episode_steps: int = 0
    """Cap on an episode's length (0: the env's own time limit)."""
    explore_episodes: int = 32
    """SPA: episodes of the initial policy the estimator trains on before PPO starts."""
    group_size: int = 1
    """Episodes per task (same reset seed) in a rollout; >1 gives SPA's released variant its groups."""
    task_seeds: int = 0
    """Train and evaluate on this many fixed tasks (reset seeds); 0: a new task every episode
    and held-out tasks for evaluation."""
    seed: int = 0
    """Seed of sampling, minibatch order, the estimator and the env seeds."""
    device: str = "auto"
    """Torch device: auto (cuda when present), cpu, cuda[:i]."""
    torch_threads: int = 0
    """torch.set_num_threads on CPU (0 = torch's default)."""
    learning_rate: float = 1e-4
    """AdamW learning rate of the policy and value head."""
    update_epochs: int = 2
    """Passes over each rollout."""
    minibatch_size: int = 32
    """Steps per minibatch."""
    clip_coef: float = 0.2
    """PPO clip range of the probability ratio."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    ent_coef: float = 0.0
    """Bonus on the mean token entropy of the actions."""
    kl_coef: float = 0.05
    """Per-step KL penalty to the reference policy (0 turns it off)."""
    gamma: float = 0.99
    """Discount factor over env steps."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    norm_adv: bool = True
    """Normalise advantages over the rollout."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""
    temperature: float = 1.0
    """Sampling temperature of rollouts (log-probs are of the temperature-1 policy)."""
    history: int = 2
    """(observation, action) pairs in the prompt before the current observation."""
    max_prompt_tokens: int = 384
    """Longest prompt; older history is dropped first."""
    max_action_tokens: int = 12
    """Most tokens of one action (EOS included)."""
    lora_rank: int = 0
    """LoRA rank (peft); 0 trains every weight."""
    rollout_backend: str = "transformers"
    """transformers, or vllm (GPU, needs vllm installed)."""
    eval_episodes: int = 32
    """Greedy held-out episodes per evaluation (0: none)."""
    eval_greedy: bool = False
    """Evaluate with greedy decoding (else sampled, from a fixed evaluation seed)."""
    eval_every: int = 0
    """Updates between evaluations (0: only at the start and the end)."""
    checkpoint_every: int = 1
    """Updates between checkpoints (0: only at the end)."""

    def __post_init__(self) -> None:
        positive = (
            "total_steps",
            "num_envs",
            "episodes_per_update",
            "update_epochs",
            "minibatch_size",
            "max_prompt_tokens",
            "max_action_tokens",
            "group_size",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"AgentPPOConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.rollout_backend not in ("transformers", "vllm"):
            raise ValueError(
                f"AgentPPOConfig.rollout_backend must be transformers or vllm, "
                f"got {self.rollout_backend!r}"
            )
        if not self.policy:
            raise ValueError("AgentPPOConfig.policy is required: hf:PATH of a causal-LM folder")


def _is_relabel(model: Any) -> bool:
    return callable(getattr(model, "relabel", None))


class _Step:
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
    )

    def __init__(self, prompt: list[int], action: list[int]) -> None:
        self.prompt, self.action = prompt, action


class _Episode:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.steps: list[_Step] = []
        self.history: list[tuple[str, str]] = []
        self.success = False
        self.terminated = False
        self.final_value = 0.0
        self.final_prompt: list[int] | None = None


class AgentPPO:
    """PPO on a transformers causal-LM policy acting in a text env."""

    def __init__(
        self,
        config: AgentPPOConfig,
        run_dir: str | Path | None = None,
        policy: LMPolicy | None = None,
        resume_state: dict[str, Any] | None = None,
    ) -> None:
        import gymnasium as gym

        import agentgym  # noqa: F401  (registers the envs)
        from agentgym.rewards import parse_reward_spec
        from agentgym.runs.manifest import resolve_device

        self.config = cfg = config
        if cfg.rollout_backend == "vllm":
            try:
                import vllm  # noqa: F401
            except ImportError as err:
                raise ImportError(
                    "rollout_backend='vllm' needs vllm on a GPU machine (pip install vllm); "
                    "it is not installed here, use rollout_backend='transformers'"
                ) from err
            raise NotImplementedError(
                "rollout_backend='vllm': weight sync into an in-process vLLM engine "
                "is not implemented yet; use rollout_backend='transformers'"
            )
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
        kwargs: dict[str, Any] = {"reward": env_reward}
        if cfg.max_episode_steps:
            kwargs["max_episode_steps"] = cfg.max_episode_steps
        self.envs = [gym.make(cfg.env_id, **kwargs) for _ in range(cfg.num_envs)]
        fmt = PromptFormat(cfg.history, cfg.max_prompt_tokens, cfg.max_action_tokens)
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
    ) -> list[_Episode]:
        """Play ``count`` episodes with the current policy, ``num_envs`` at a time;
        ``score=False`` skips the log-probs, values and features PPO needs."""
        from agentgym.agent_env import observation_text

        policy = self.policy
        policy.eval()
        pending = list(seeds) if seeds is not None else [self._next_seed() for _ in range(count)]
        finished: list[_Episode] = []
        running: dict[
            int, tuple[_Episode, str, str]
        ] = {}  # env index -> (episode, obs text, mission)

        def start(i: int) -> None:
            if pending:
                ep = _Episode(pending.pop(0))
                obs, info = self.envs[i].reset(seed=ep.seed)
                running[i] = (ep, observation_text(obs), _mission(self.envs[i], info))

        for i in range(len(self.envs)):
            start(i)
        while running:
            order = sorted(running)
            prompts = [
                policy.encode_prompt(running[i][2], running[i][0].history, running[i][1])
                for i in order
            ]
            actions = policy.generate(
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
                step = _Step(prompts[j], actions[j])
                if score:
                    step.logprob, step.value = float(out.logprob[j]), float(out.value[j])
                    step.feature = out.features[j]
                    step.ref_logprob = float(ref[j]) if ref is not None else step.logprob
                text = policy.decode_action(actions[j])
                obs, reward, terminated, truncated, info = self.envs[i].step(text)
                step.reward = float(reward)
                step.valid_action = bool(info.get("action_valid", True))
                ep.steps.append(step)
                ep.history.append((obs_text, text))
                if terminated or truncated:
                    ep.success = bool(info.get("success", False))
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

    def _rollout(self, episodes: list[_Episode]) -> Rollout:
        """Episodes as a ``Rollout`` [T, E]: one column per episode, padded with valid=False.
        ``obs`` holds the policy's hidden state at each action's end (SPA's features)."""
        T, E = max(len(ep.steps) for ep in episodes), len(episodes)
        H = episodes[0].steps[0].feature.shape[-1]
        dev = self.device
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

    def explore(self) -> dict[str, float]:
        """SPA's exploration phase: episodes of the initial policy train the estimator."""
        row: dict[str, float] = {}
        if self.relabel is None or self.explored or not self.config.explore_episodes:
            self.explored = True
            return row
        episodes = self.run_episodes(self.config.explore_episodes)
        self.global_step += sum(len(ep.steps) for ep in episodes)
        self.relabel.relabel(self._rollout(episodes))  # adds them to the buffer and fits
        if getattr(self.relabel, "trainings", 1) == 0 and hasattr(self.relabel, "fit"):
            self.relabel.fit()
        self.explored = True
        row["spa/explore_success"] = float(np.mean([ep.success for ep in episodes]))
        row["spa/fit_loss"] = float(getattr(self.relabel, "last_fit_loss", float("nan")))
        return row

    # -- the update -------------------------------------------------------------------
    def update(self, episodes: list[_Episode]) -> dict[str, float]:
        """Relabel (SPA), KL-penalise, GAE, and the clipped PPO update on these episodes."""
        cfg, dev = self.config, self.device
        row: dict[str, float] = {}
        if self.relabel is not None:
            rollout = self._rollout(episodes)
            out = self.relabel.relabel(rollout)
            for name, value in out.items():
                if name != "reward":
                    row[f"reward_terms/{name}"] = float(value[rollout.valid].mean())
            for e, ep in enumerate(episodes):
                for t, step in enumerate(ep.steps):
                    step.reward = float(out["reward"][t, e])
            row["spa/fit_loss"] = float(getattr(self.relabel, "last_fit_loss", float("nan")))
        flat: list[tuple[_Step, float, float]] = []
        kls = []
        for ep in episodes:
            kl = torch.tensor([s.logprob - s.ref_logprob for s in ep.steps])
            kls.append(kl)
            rewards = torch.tensor([s.reward for s in ep.steps]) - cfg.kl_coef * kl
            values = torch.tensor([s.value for s in ep.steps])
            zeros = torch.zeros(len(ep.steps), dtype=torch.bool)
            adv, ret = compute_gae(
                rewards,
                values,
                torch.tensor(ep.final_value),
                zeros,
                zeros,
                cfg.gamma,
                cfg.gae_lambda,
            )
            flat.extend(zip(ep.steps, adv.tolist(), ret.tolist(), strict=True))
        adv_all = torch.tensor([a for _, a, _ in flat])
        if cfg.norm_adv and len(flat) > 1:
            adv_all = (adv_all - adv_all.mean()) / (adv_all.std() + 1e-8)
        self.policy.train()
        params = [p for p in self.policy.parameters() if p.requires_grad]
        stats: dict[str, list[float]] = {
            "loss/policy": [],
            "loss/value": [],
            "loss/entropy": [],
            "loss/approx_kl": [],
            "loss/clip_frac": [],
        }
        for _ in range(cfg.update_epochs):
            order = torch.randperm(len(flat), generator=self.generator).tolist()
            for i in range(0, len(order), cfg.minibatch_size):
                idx = order[i : i + cfg.minibatch_size]
                steps = [flat[j][0] for j in idx]
                out = self.policy.evaluate([s.prompt for s in steps], [s.action for s in steps])
                old = torch.tensor([s.logprob for s in steps], device=dev)
                adv = adv_all[idx].to(dev)
                ret = torch.tensor([flat[j][2] for j in idx], device=dev)
                log_ratio = out.logprob - old
                ratio = log_ratio.exp()
                pg = torch.max(
                    -adv * ratio, -adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)
                ).mean()
                v_loss = 0.5 * ((out.value - ret) ** 2).mean()
                entropy = out.entropy.mean()
                loss = pg + cfg.vf_coef * v_loss - cfg.ent_coef * entropy
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    stats["loss/policy"].append(float(pg))
                    stats["loss/value"].append(float(v_loss))
                    stats["loss/entropy"].append(float(entropy))
                    stats["loss/approx_kl"].append(float(((ratio - 1) - log_ratio).mean()))
                    stats["loss/clip_frac"].append(
                        float(((ratio - 1).abs() > cfg.clip_coef).float().mean())
                    )
        self.policy.eval()
        self.updates += 1
        row.update({k: float(np.mean(v)) for k, v in stats.items()})
        row["kl_ref"] = float(torch.cat(kls).mean())
        return row

    # -- evaluation, the loop, checkpoints ----------------------------------------------------
    def eval_seeds(self, n: int) -> list[int]:
        """Held-out task seeds, or the fixed training tasks in turn when ``task_seeds``."""
        cfg = self.config
        if cfg.task_seeds:
            return [cfg.seed * 100_000 + i % cfg.task_seeds for i in range(n)]
        return [EVAL_SEED + i for i in range(n)]

    def evaluate(self, episodes: int | None = None) -> dict[str, float]:
        """Success rate and grounding accuracy on held-out seeds (the same seeds and
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
            row["steps_per_s"] = (self.global_step - start_step) / max(
                time.time() - start_time, 1e-9
            )
            done = self.global_step >= cfg.total_steps
            if done or (cfg.eval_every and self.updates % cfg.eval_every == 0):
                row.update(self.evaluate())
            if self.run_dir is not None and (
                done or (cfg.checkpoint_every and self.updates % cfg.checkpoint_every == 0)
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
        return cls(AgentPPOConfig(**state["config"]), run_dir=run_dir, resume_state=state)

    def close(self) -> None:
        for env in self.envs:
            env.close()


def grounding_accuracy(episodes: list[_Episode]) -> float:
    """Share of valid actions over all steps of ``episodes`` (SPA-RL's grounding accuracy)."""
    flags = [s.valid_action for ep in episodes for s in ep.steps]
    return float(np.mean(flags)) if flags else float("nan")


def _mission(env: Any, info: dict[str, Any]) -> str:
    state = info.get("reward_state") or {}
    return str(state.get("mission") or getattr(env.unwrapped, "mission", ""))
