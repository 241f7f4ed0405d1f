"""SPA's progress estimator: spread an episode's final reward over its steps.

Wang et al., "SPA-RL: Reinforcing LLM Agents via Stepwise Progress Attribution"
(arXiv 2505.20732, 2025); released code: github.com/WangHanLinHenry/SPA-RL-Agent.

A progress estimator predicts a contribution ``c_t`` for every step of a trajectory
and is trained so that ``sum_t c_t`` matches the trajectory's final reward ``R``
(mean squared error over trajectories, successes and failures alike; paper section
3.2, ``prm/train_our_progress_model.py`` of the released code). The step reward for
PPO is (paper, eq. 7)

    r_t = alpha * c_t + beta * g_t

with ``g_t = info["action_valid"]`` the grounding signal (1 when the env executed
the action). Two estimator bodies read per-step features ``[T, D]``:

- ``mlp``: a per-step MLP. Applied to a language-model policy's hidden state at the
  end of each action (the agent PPO learner hands those over as ``rollout.obs``) it is
  the paper's estimator: a head on the policy's representation of the action. The
  released code puts its linear head on the vocabulary *logits*; we use the hidden
  state, which is smaller and what the paper describes.
- ``gru``: a GRU over the episode's features, for non-language policies whose
  observation features alone do not show progress.

``variant=released`` is the ablation matching what SPA-RL's released code trains PPO on
(``prm/rl_data_org.py``): every step of trajectory i of a task gets
``R_i - mean_{j != i} R_j`` (the leave-one-out mean over rollouts of the same task),
plus a grounding bonus (0.5 when the observation after the step is not "Nothing
happens", and always on the last step). The estimator's predictions are not used there.

An episode cut by a rollout's end (the PPO learner's fixed-length rollouts) gets ``c_t``
without a residual; its steps are kept, and when it ends in the next rollout the
estimator sees (and R sums over) the whole episode, and the residual goes to the new steps.

Beyond the paper, ``residual`` optionally spreads ``R - sum_t c_t`` over a finished
episode (``uniform``) or puts it on its last step (``last``), so with ``beta = 0`` an
episode's rewards sum exactly to its final reward (RUDDER's return-equivalence,
Arjona-Medina et al. 2019); ``residual=none`` keeps the estimator's raw ``c_t`` as the
paper does.

Applied per rollout: a learner calls ``relabel(rollout)`` after each rollout and
before GAE. The finished episodes of every rollout join a buffer; every
``retrain_every`` rollouts the estimator trains on that buffer again (online), so it
follows the policy's changing trajectories instead of a fixed exploration set.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from torch import nn

from agentgym.reward_designers.progress.config import (
    SPAConfig,
    parse_spa_args,
)
from agentgym.reward_designers.progress.estimator import (
    Episode,
    ProgressEstimator,
    pad_episodes,
)
from agentgym.rewards.base import RewardError, RewardInput, RewardOutput
from agentgym.spec import TaskSpec

if TYPE_CHECKING:
    from agentgym.learners.rollout import Rollout

log = logging.getLogger(__name__)


class Segment(NamedTuple):
    """The steps of one episode inside a rollout: column ``env``, rows ``start..stop-1``."""

    env: int
    start: int
    stop: int
    finished: bool


def split_episodes(
    terminations: torch.Tensor, truncations: torch.Tensor, valid: torch.Tensor | None
) -> list[Segment]:
    """Cut a rollout's ``[T, N]`` flags into episode segments.

    Steps with ``valid=False`` (Gymnasium's autoreset steps, or padding) belong to no
    episode. A segment is ``finished`` when its last step terminated or truncated; the
    segments cut by the rollout's end are not (their final reward is not known yet).
    """
    ends = (terminations | truncations).cpu()
    ok = torch.ones_like(ends) if valid is None else valid.cpu().bool()
    T, N = ends.shape
    segments: list[Segment] = []
    for n in range(N):
        start = None
        for t in range(T):
            if not ok[t, n]:
                if start is not None:  # padding after an unfinished column
                    segments.append(Segment(n, start, t, False))
                    start = None
                continue
            if start is None:
                start = t
            if ends[t, n]:
                segments.append(Segment(n, start, t + 1, True))
                start = None
        if start is not None:
            segments.append(Segment(n, start, T, False))
    return segments


def leave_one_out_baseline(finals: torch.Tensor, tasks: list[int]) -> torch.Tensor:
    """``R_i - mean_{j != i} R_j`` within each task group; ``R_i`` alone in a group of one
    (as ``prm/rl_data_org.py`` of SPA-RL's code does)."""
    out = finals.clone()
    groups: dict[int, list[int]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault(task, []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        idx = torch.tensor(members, device=finals.device)
        values = finals[idx]
        others = (values.sum() - values) / (len(members) - 1)
        out[idx] = values - others
    return out


class SPAReward:
    """SPA's step reward as a rollout-level reward model (``relabel``) with an online
    progress estimator. See the module docstring for the formulas and their sources."""

    name = "spa"
    needs_frames = False
    needs_infos = False

    def __init__(self, config: SPAConfig | None = None) -> None:
        self.config = config or SPAConfig()
        dev = self.config.device
        self.device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if dev == "auto" else dev
        )
        self.estimator: ProgressEstimator | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.buffer: list[Episode] = []
        self.rollouts_seen = 0
        self.trainings = 0
        self.last_fit_loss = float("nan")
        self._generator = torch.Generator().manual_seed(self.config.seed)
        self._carry: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        self._carry_shape: tuple[int, int] | None = None

    # -- the estimator ---------------------------------------------------------------
    def _ensure(self, feature_dim: int) -> ProgressEstimator:
        if self.estimator is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.config.seed)
                self.estimator = ProgressEstimator(
                    feature_dim, self.config.hidden, self.config.body
                )
            self.estimator.to(self.device)
            self.optimizer = torch.optim.Adam(self.estimator.parameters(), lr=self.config.lr)
        elif self.estimator.norm.normalized_shape[0] != feature_dim:
            raise ValueError(
                f"spa reward: the features have {feature_dim} dims, the estimator "
                f"was built for {self.estimator.norm.normalized_shape[0]}"
            )
        return self.estimator

    def fit(self, episodes: list[Episode] | None = None, epochs: int | None = None) -> float:
        """Train the estimator so that each episode's ``sum_t c_t`` matches its R (MSE).

        ``episodes`` defaults to the buffer. Returns the mean loss of the last epoch.
        """
        episodes = self.buffer if episodes is None else episodes
        if not episodes:
            raise ValueError("spa reward: fit() needs at least one finished episode")
        est = self._ensure(episodes[0].features.shape[-1])
        assert self.optimizer is not None
        est.train()
        cfg = self.config
        loss_value = float("nan")
        for _ in range(epochs or cfg.epochs):
            order = torch.randperm(len(episodes), generator=self._generator).tolist()
            total, count = 0.0, 0
            for i in range(0, len(order), cfg.batch_episodes):
                batch = [episodes[j] for j in order[i : i + cfg.batch_episodes]]
                feats, mask, _, finals = pad_episodes(batch, self.device)
                sums = est(feats, mask).sum(dim=1)
                loss = nn.functional.mse_loss(sums, finals)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                total += float(loss.detach()) * len(batch)
                count += len(batch)
            loss_value = total / count
        est.eval()
        self.trainings += 1
        self.last_fit_loss = loss_value
        return loss_value

    @torch.no_grad()
    def contributions(self, episodes: list[Episode]) -> list[torch.Tensor]:
        """The estimator's ``c_t`` for each episode ([L] each; zeros before any training)."""
        if not episodes:
            return []
        if self.estimator is None:
            return [torch.zeros(len(e.features), device=self.device) for e in episodes]
        feats, mask, _, _ = pad_episodes(episodes, self.device)
        c = self.estimator(feats, mask)
        return [c[i, : len(e.features)] for i, e in enumerate(episodes)]

    def evaluate(self, episodes: list[Episode], constant: float | None = None) -> dict[str, float]:
        """MSE of the estimator's sums against R on ``episodes``, beside the MSE of a
        constant predictor (``constant``, default the buffer's mean R)."""
        finals = torch.tensor([e.final_reward for e in episodes])
        sums = torch.stack([c.sum() for c in self.contributions(episodes)]).cpu()
        if constant is None:
            constant = (
                float(torch.tensor([e.final_reward for e in self.buffer]).mean())
                if self.buffer
                else 0.0
            )
        return {
            "mse": float(((sums - finals) ** 2).mean()),
            "constant_mse": float(((constant - finals) ** 2).mean()),
        }

    def add_episodes(self, episodes: list[Episode]) -> None:
        """Append finished episodes to the buffer (keeping the newest ``buffer_episodes``)."""
        self.buffer.extend(
            Episode(
                e.features.detach().to(self.device, torch.float32),
                e.grounding.detach().to(self.device, torch.float32),
                float(e.final_reward),
                int(e.task),
            )
            for e in episodes
        )
        del self.buffer[: -self.config.buffer_episodes]

    # -- step rewards ----------------------------------------------------------------
    def step_rewards(
        self,
        episodes: list[Episode],
        finished: list[bool] | None = None,
        paid: list[int] | None = None,
    ) -> list[dict[str, torch.Tensor]]:
        """Each episode's step reward and its terms (``progress``, ``grounding``).

        ``finished[i]`` False marks a segment cut by the rollout's end: its R is unknown,
        so the released variant gives it only the grounding bonus and no residual is spread.
        ``paid[i]`` steps at the start of episode i were rewarded in an earlier rollout
        (raw ``c_t``), so the residual goes to the steps after them.
        """
        cfg = self.config
        finished = [True] * len(episodes) if finished is None else finished
        paid = [0] * len(episodes) if paid is None else paid
        out: list[dict[str, torch.Tensor]] = []
        if cfg.variant == "released":
            done = [i for i, f in enumerate(finished) if f]
            finals = torch.tensor([episodes[i].final_reward for i in done], dtype=torch.float32)
            advantage = (
                leave_one_out_baseline(finals, [episodes[i].task for i in done]) if done else finals
            )
            by_index = dict(zip(done, advantage.tolist(), strict=True))
            for i, e in enumerate(episodes):
                g = e.grounding.to(self.device, torch.float32).clone()
                if finished[i]:
                    g[-1] = 1.0  # the released code always gives the last step the bonus
                progress = torch.full_like(g, by_index.get(i, 0.0))
                bonus = cfg.grounding_bonus * g
                out.append({"reward": progress + bonus, "progress": progress, "grounding": bonus})
            return out
        for i, (e, c) in enumerate(zip(episodes, self.contributions(episodes), strict=True)):
            c = c.clone()
            if finished[i] and cfg.residual != "none":
                gap = e.final_reward - c.sum()
                if cfg.residual == "uniform":
                    c[paid[i] :] += gap / (len(c) - paid[i])
                else:
                    c[-1] += gap
            progress = cfg.alpha * c
            g = e.grounding.to(self.device, torch.float32)
            ground = cfg.beta * (g - 1.0 if cfg.grounding == "penalty" else g)
            out.append({"reward": progress + ground, "progress": progress, "grounding": ground})
        return out

    def relabel(self, rollout: Rollout) -> dict[str, torch.Tensor]:
        """The learner's hook: SPA step rewards for a rollout (``Rollout`` of
        ``agentgym.learners.rollout``), ``[T, N]`` each.

        Reads ``rollout.obs`` as per-step features ``[T, N, D]``, ``rollout.valid`` and the
        end flags to cut episodes, ``rollout.success`` or ``rollout.rewards`` for R,
        ``reward_state["last_action_valid"]`` for g_t (1 when absent) and
        ``reward_state["task_id"]`` for the released variant's groups.
        """
        cfg = self.config
        T, N = rollout.rewards.shape[:2]
        feats = rollout.obs.reshape(T, N, -1).to(self.device, torch.float32)
        state = rollout.reward_state or {}
        ground = state.get("last_action_valid")
        ground = (torch.ones(T, N) if ground is None else ground.reshape(T, N).float()).to(
            self.device
        )
        tasks = state.get("task_id")
        segments = split_episodes(rollout.terminations, rollout.truncations, rollout.valid)
        # An episode cut by the previous rollout's end continues at row 0 of this one: its
        # earlier steps give the estimator (and R = return) the whole episode.
        carry = self._carry if self._carry_shape == (N, feats.shape[-1]) else {}
        self._carry, self._carry_shape = {}, (N, feats.shape[-1])
        episodes: list[Episode] = []
        paid: list[int] = []
        for seg in segments:
            sl = slice(seg.start, seg.stop)
            prefix = carry.get(seg.env) if seg.start == 0 else None
            f, g, r = (
                feats[sl, seg.env],
                ground[sl, seg.env],
                rollout.rewards[sl, seg.env].float().to(self.device),
            )
            if prefix is not None:
                f, g, r = (torch.cat([a, b]) for a, b in zip(prefix, (f, g, r), strict=True))
            final = (
                float(rollout.success[seg.stop - 1, seg.env])
                if cfg.final_reward == "success"
                else float(r.sum())
            )
            task = int(tasks[seg.start, seg.env]) if tasks is not None else -1
            episodes.append(Episode(f, g, final, task))
            paid.append(0 if prefix is None else len(prefix[0]))
            if not seg.finished and seg.stop == T:
                self._carry[seg.env] = (f, g, r)
        finished = [s.finished for s in segments]
        self.add_episodes([e for e, f in zip(episodes, finished, strict=True) if f])
        self.rollouts_seen += 1
        if (
            cfg.variant == "paper"
            and cfg.retrain_every
            and len(self.buffer) >= cfg.min_episodes
            and self.rollouts_seen % cfg.retrain_every == 0
        ):
            self.fit()
        reward = torch.zeros(T, N, device=self.device)
        progress = torch.zeros_like(reward)
        grounding = torch.zeros_like(reward)
        terms_of = self.step_rewards(episodes, finished, paid)
        for seg, terms, skip in zip(segments, terms_of, paid, strict=True):
            reward[seg.start : seg.stop, seg.env] = terms["reward"][skip:]
            progress[seg.start : seg.stop, seg.env] = terms["progress"][skip:]
            grounding[seg.start : seg.stop, seg.env] = terms["grounding"][skip:]
        return {"reward": reward, "progress": progress, "grounding": grounding}

    def __call__(self, batch: RewardInput) -> RewardOutput:
        raise RewardError(
            "spa reward: SPA spreads each episode's final reward over its steps, so it needs "
            "whole rollouts; train with a learner that relabels rollouts (--learner ppo or "
            "agent-ppo) instead of applying it per step"
        )

    # -- checkpoints -----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Tensors, numbers and strings only (``torch.load(weights_only=True)`` reads it)."""
        return {
            "config": asdict(self.config),
            "estimator": None if self.estimator is None else self.estimator.state_dict(),
            "feature_dim": None
            if self.estimator is None
            else int(self.estimator.norm.normalized_shape[0]),
            "optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
            "buffer": [
                {
                    "features": e.features.cpu(),
                    "grounding": e.grounding.cpu(),
                    "final_reward": e.final_reward,
                    "task": e.task,
                }
                for e in self.buffer
            ],
            "rollouts_seen": self.rollouts_seen,
            "trainings": self.trainings,
            "generator": self._generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["feature_dim"] is not None:
            self._ensure(int(state["feature_dim"]))
            assert self.estimator is not None and self.optimizer is not None
            self.estimator.load_state_dict(state["estimator"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.estimator.eval()
        self.buffer = [
            Episode(
                b["features"].to(self.device),
                b["grounding"].to(self.device),
                float(b["final_reward"]),
                int(b["task"]),
            )
            for b in state["buffer"]
        ]
        self.rollouts_seen = int(state["rollouts_seen"])
        self.trainings = int(state["trainings"])
        self._generator.set_state(state["generator"])

    def __repr__(self) -> str:
        return f"SPAReward({self.config})"


def reward_from_spec(args: str, task: TaskSpec | None = None) -> SPAReward:
    """The ``spa:`` reward-spec factory (``REWARD_KINDS``): ``spa:alpha=1;beta=0.5``."""
    return SPAReward(parse_spa_args(args))
