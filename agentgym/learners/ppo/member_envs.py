"""The members' envs: one vector env of K x N sub-envs for a learner's K members
(``MemberBatch``), each member's reward model and episode bookkeeping (``MemberEnvs``).

Member k owns rows ``k*N .. (k+1)*N - 1`` of the batch. Sub-envs never interact, and a
member's reward model scores only its own rows (``info_rows``), so a member trains as it
would alone; K candidates cost one batched step instead of K vector envs stepped in turn
(the simulation issue: "K candidates cost close to one run").

Which vector env (``config.vectorization``): ``auto`` takes the env's native vector env
(its ``vector_entry_point``: one batched simulator, no per-env Python) when it has one,
else ``sync``; ``native`` insists on it. Native vector envs do not render, so a reward
that scores frames needs per-env envs: ``auto`` then takes ``sync`` (and logs why),
``native`` is an error. ``threads`` is ``sync`` with the per-env steps on a thread pool
(``agentgym.vector.threaded``: same results, every core for MuJoCo's GIL-free physics).

Everything here is on the host side of the env boundary: numpy in, numpy out. The
learner moves observations to its device each step and the rest once per rollout.
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from agentgym.learners.ppo.config import PPOConfig
from agentgym.learners.rollout import ProgramOverRollout, Rollout, RolloutRewardModel
from agentgym.rewards import RewardInput, parse_reward_spec
from agentgym.vector import info_rows
from agentgym.wrappers import input_rows, masked_output, vector_step_input

log = logging.getLogger(__name__)


class MemberStep(NamedTuple):
    """One vector step of a member's envs, every field [N, ...] numpy (``info`` as given)."""

    obs: np.ndarray
    reward: np.ndarray
    """The reward that trains: the env's, or the member's reward model's (float32)."""
    env_reward: np.ndarray
    """The env's own reward (float32), the task metric whatever reward trains."""
    terminated: np.ndarray
    truncated: np.ndarray
    success: np.ndarray
    """The task's success flag (False for envs without one)."""
    info: dict[str, Any]


class BatchStep:
    """One vector step of all K members' sub-envs (``MemberBatch.step``): every field
    [K, N, ...] numpy, member k's rows at index k, whether or not it was scored."""

    __slots__ = (
        "obs",
        "reward",
        "env_reward",
        "terminated",
        "truncated",
        "success",
        "scored",
        "errors",
        "_info",
        "_raw_reward",
        "_model_terms",
        "_n",
    )

    def __init__(
        self,
        obs: np.ndarray,
        reward: np.ndarray,
        env_reward: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        success: np.ndarray,
        scored: list[int],
        errors: list[Exception | None],
        info: dict[str, Any],
        raw_reward: np.ndarray,
        model_terms: dict[int, dict[str, np.ndarray]],
    ) -> None:
        self.obs = obs
        self.reward = reward
        """The reward that trains: the env's, or the member's reward model's (float32)."""
        self.env_reward = env_reward
        """The env's own reward (float32), the task metric whatever reward trains."""
        self.terminated, self.truncated = terminated, truncated
        self.success = success
        """The task's success flag (False for envs without one)."""
        self.scored = scored
        """The members alive whose reward model (if any) answered, in order."""
        self.errors = errors
        """Per member, the exception its reward model raised, or None."""
        self._info, self._raw_reward, self._model_terms = info, raw_reward, model_terms
        self._n = obs.shape[1]

    def member_info(self, k: int) -> dict[str, Any]:
        """Member k's rows of the step's info, as a vector env of its N sub-envs gives
        it (``info_rows``: cut on request, not per step); with a reward model, its terms
        under ``reward_terms`` and the env's reward under ``env_reward``, as
        ``VectorRewardWrapper`` writes them."""
        rows = slice(k * self._n, (k + 1) * self._n)
        info = self._info if len(self.errors) == 1 else info_rows(self._info, rows)
        if k in self._model_terms:
            info = dict(info)
            info["env_reward"] = np.asarray(info.get("env_reward", self._raw_reward[rows]))
            info["reward_terms"] = self._model_terms[k]
        return info

    def member(self, k: int) -> MemberStep | Exception | None:
        """Member k's ``MemberStep``, the exception its reward model raised, or None when
        it was not alive."""
        if self.errors[k] is not None:
            return self.errors[k]
        if k not in self.scored:
            return None
        return MemberStep(
            self.obs[k],
            self.reward[k],
            self.env_reward[k],
            self.terminated[k],
            self.truncated[k],
            self.success[k],
            self.member_info(k),
        )


def check_spaces(obs_space: gym.Space, act_space: gym.Space, env_id: str) -> tuple[int, int, bool]:
    """(obs_dim, act_dim, discrete) for the MLP policy, or a clear error."""
    if not isinstance(obs_space, spaces.Box):
        raise ValueError(
            f"PPOConfig.env_id {env_id!r}: the MLP policy needs a Box observation space, got "
            f"{obs_space}; flatten dict/discrete observations with a Gymnasium wrapper first"
        )
    if isinstance(act_space, spaces.Discrete):
        return int(np.prod(obs_space.shape)), int(act_space.n), True
    if isinstance(act_space, spaces.Box):
        return int(np.prod(obs_space.shape)), int(np.prod(act_space.shape)), False
    raise ValueError(
        f"PPOConfig.env_id {env_id!r}: actions must be Discrete or Box, got {act_space}"
    )


def native_vector_env(env_id: str) -> type | None:
    """``env_id``'s ``vector_entry_point`` when it is an ``agentgym.vector.NativeVectorEnv``
    subclass, else None.

    Only those count: they keep ``SyncVectorEnv``'s contract (a seed per sub-env,
    next-step autoreset, info masks), so a learner trains on them exactly as on per-env
    envs. Gymnasium's own vector envs (CartPole-v1's) seed all sub-envs from one
    generator and take no list of seeds: a learner keeps per-env envs for those.
    """
    from gymnasium.envs.registration import load_env_creator

    from agentgym.vector import NativeVectorEnv

    try:
        entry = gym.spec(env_id).vector_entry_point
    except gym.error.Error as err:
        raise ValueError(f"env_id {env_id!r}: {err}") from err
    if entry is None:
        return None
    creator = load_env_creator(entry) if isinstance(entry, str) else entry
    return creator if isinstance(creator, type) and issubclass(creator, NativeVectorEnv) else None


def vectorization_mode(config: PPOConfig, render: bool = False) -> str:
    """``gym.make_vec``'s ``vectorization_mode`` for ``config.vectorization`` (module
    docstring); ``render``: the envs must render frames."""
    name = f"{type(config).__name__}.vectorization"
    choice = config.vectorization
    if choice in ("sync", "threads", "async"):
        return choice
    native = native_vector_env(config.env_id)
    if choice in ("native", "mjx") and native is None:
        raise ValueError(
            f"{name}: {choice!r}, but {config.env_id!r} has no native vector env (no "
            "vector_entry_point that is an agentgym.vector.NativeVectorEnv); use 'auto' or 'sync'"
        )
    if choice == "mjx" and "physics" not in inspect.signature(native).parameters:
        raise ValueError(
            f"{name}: 'mjx', but {config.env_id!r}'s native vector env has no MuJoCo physics "
            "to put on MJX (HalfCheetah, Hopper and Walker2d have)"
        )
    if native is not None and render:
        if choice in ("native", "mjx"):
            raise ValueError(
                f"{name}: {choice!r}, but {config.env_id!r}'s native vector env does not render "
                f"and reward {config.reward!r} scores frames; use 'auto' (per-env envs then) "
                "or 'sync'"
            )
        log.info(
            "%s: the reward scores frames and %s's native vector env does not render; "
            "using per-env envs (sync)",
            name,
            config.env_id,
        )
        return "sync"
    return "vector_entry_point" if native is not None else "sync"


def make_vector_env(
    config: PPOConfig, render: bool = False, num_envs: int | None = None
) -> gym.vector.VectorEnv:
    """``gym.make_vec`` of ``num_envs`` (default ``config.num_envs``) sub-envs in the
    config's vectorization; frames when ``render``."""
    kwargs: dict[str, Any] = {}
    if render:
        kwargs = {
            "render_mode": "rgb_array",
            "width": config.render_width,
            "height": config.render_height,
        }
    mode = vectorization_mode(config, render)
    if config.vectorization == "mjx":
        kwargs["physics"] = "mjx"
    vector_kwargs: dict[str, Any] = {}
    if mode == "async":
        # spawn, not fork: a forked child deadlocks when the parent holds an EGL context
        # (eval videos, frame rewards); see ../shared/FACTS.md.
        vector_kwargs = {"shared_memory": True, "context": "spawn"}

    def make(**kw):
        if mode == "threads":
            from agentgym.vector.threaded import ThreadedVectorEnv

            gym.spec(config.env_id)  # an unknown id fails here, as in make_vec
            count = config.num_envs if num_envs is None else num_envs
            return ThreadedVectorEnv([lambda: gym.make(config.env_id, **kw)] * count)
        return gym.make_vec(
            config.env_id,
            num_envs=config.num_envs if num_envs is None else num_envs,
            vectorization_mode=mode,
            vector_kwargs=vector_kwargs,
            **kw,
        )

    try:
        try:
            return make(**kwargs)
        except TypeError:
            if not render:
                raise
            # Envs with a fixed frame size (CartPole) take no width/height.
            return make(render_mode="rgb_array")
    except gym.error.Error as err:
        raise ValueError(f"{type(config).__name__}.env_id {config.env_id!r}: {err}") from err


def _terms_from_info(info: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reward components of one vector step -> {name: (values [N], present mask [N])}."""
    terms = info.get("reward_terms")
    if isinstance(terms, dict):
        return {
            k: (np.asarray(v, dtype=np.float64), terms.get(f"_{k}", True))
            for k, v in terms.items()
            if not k.startswith("_")
        }
    # Gymnasium's own envs (HalfCheetah: reward_forward, reward_ctrl) name them reward_*.
    return {
        k[len("reward_") :]: (np.asarray(v, dtype=np.float64), info.get(f"_{k}", True))
        for k, v in info.items()
        if k.startswith("reward_") and isinstance(v, np.ndarray) and v.dtype.kind == "f"
    }


class MemberEnvs:
    """One member's side of the batch: its reward model or rollout relabeler and its
    episode and reward statistics. ``MemberBatch`` steps the envs; ``score`` turns the
    member's rows of a step into its ``MemberStep``."""

    def __init__(
        self,
        config: PPOConfig,
        device: torch.device,
        relabel: RolloutRewardModel | None = None,
        score_rollouts: bool = False,
    ) -> None:
        self.config = config
        self.device = device
        model = None
        self.task_spec = None
        if config.reward != "env":
            probe = gym.make(config.env_id)
            self.task_spec = getattr(probe.unwrapped, "task_spec", None)
            probe.close()
            model = parse_reward_spec(config.reward, self.task_spec)
            if relabel is None and callable(getattr(model, "relabel", None)):
                relabel = model  # a rollout-level model (CLIP, SPA) from the reward spec
                model = None
            elif relabel is None and score_rollouts and getattr(model, "scores_rollouts", False):
                # A program served from a worker of its own: one round trip per rollout.
                relabel = ProgramOverRollout(model)
                model = None
        if model is not None and model.needs_frames:
            raise ValueError(
                f"{type(config).__name__}.reward {config.reward!r}: {model.name} scores frames "
                "per step; frame rewards are applied per rollout (a relabeling reward model)"
            )
        self.reward_model = model
        self.relabel = relabel
        self.needs_frames = bool(relabel is not None and getattr(relabel, "needs_frames", False))
        self.needs_infos = bool(relabel is not None and getattr(relabel, "needs_infos", False))
        self.needs_env_actions = bool(
            relabel is not None and getattr(relabel, "needs_env_actions", False)
        )
        self.num_envs = config.num_envs
        self.finished: list[tuple[float, int, float]] = []  # (return, length, success or nan)
        self.term_sums: dict[str, float] = {}
        self.env_reward_sum = 0.0
        self.valid_steps = 0

    @property
    def answers_later(self) -> bool:
        """Whether the reward model takes a batch now and answers it later (``send`` /
        ``receive``: a program served from a worker of its own)."""
        return self.reward_model is not None and callable(getattr(self.reward_model, "send", None))

    def send(self, actions: np.ndarray, env_reward: np.ndarray, info: dict[str, Any]) -> None:
        """Hand this member's rows of a vector step to its reward model (``answers_later``);
        ``reward(..., sent=True)`` collects the answer."""
        assert self.reward_model is not None
        batch = vector_step_input(self.task_spec, self.device, actions, env_reward, info)
        self.reward_model.send(batch)

    def reward(
        self,
        env_reward: np.ndarray,
        valid: np.ndarray,
        batch: RewardInput | None = None,
        sent: bool = False,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The reward that trains on this member's rows of a vector step, float32 [N],
        and its reward model's terms ({} without one): the env's ``env_reward`` without a
        reward model (or with a rollout-level one, which relabels later); else the
        model's on ``batch`` (its input for these rows), or the answer to ``send`` when
        ``sent``, 0 where not ``valid`` (Gymnasium's autoreset steps)."""
        if sent:
            assert self.reward_model is not None
            out = self.reward_model.receive()
        elif self.reward_model is not None:
            assert batch is not None
            out = self.reward_model(batch)
        else:
            return np.asarray(env_reward, dtype=np.float32), {}
        reward, terms = masked_output(out, valid)
        return reward.astype(np.float32, copy=False), terms

    def relabel_rewards(self, rollout: Rollout) -> torch.Tensor:
        """This member's rewards [T, N] from its rollout-level reward model, zero on
        autoreset steps; the model's other outputs are logged as reward terms."""
        model = self.relabel
        out = model.relabel(rollout)
        if "reward" not in out:
            raise ValueError(
                f"{model.name}.relabel must return a dict with 'reward' [T, N]; got keys {sorted(out)}"
            )
        device = rollout.rewards.device
        reward = out["reward"].to(device, torch.float32)
        if reward.shape != rollout.rewards.shape:
            raise ValueError(
                f"{model.name}.relabel: 'reward' must have shape "
                f"{list(rollout.rewards.shape)}, got {list(reward.shape)}"
            )
        mask = rollout.valid.float()
        n = mask.sum().clamp(min=1.0)
        for name, value in out.items():
            if name != "reward":
                total = float((value.to(device, torch.float32) * mask).sum() / n) * float(n)
                self.term_sums[name] = self.term_sums.get(name, 0.0) + total
        return reward * mask

    def take_stats(self) -> dict[str, float]:
        """Episode and reward statistics since the last call (then cleared)."""
        row: dict[str, float] = {}
        if self.finished:
            returns, lengths, successes = zip(*self.finished, strict=True)
            row["episode_return"] = float(np.mean(returns))
            row["episode_length"] = float(np.mean(lengths))
            row["episodes"] = float(len(self.finished))
            if not np.isnan(successes).any():
                row["success_rate"] = float(np.mean(successes))
        if self.valid_steps:
            row["env_reward"] = self.env_reward_sum / self.valid_steps
            for name, total in self.term_sums.items():
                row[f"reward_terms/{name}"] = total / self.valid_steps
        self.finished, self.term_sums = [], {}
        self.env_reward_sum, self.valid_steps = 0.0, 0
        return row


class MemberBatch:
    """The K members' sub-envs as one vector env of K*N (module docstring): one
    ``reset`` and one ``step`` for all members, results cut into member rows.

    Each member's episode and reward statistics are kept here for all members at once
    and read through ``take_stats``.
    """

    LOG_STEPS = 64
    """Vector steps logged between two folds of the statistics."""

    def __init__(self, members: Sequence[MemberEnvs], config: PPOConfig) -> None:
        self.members = list(members)
        self.k, self.n = len(self.members), config.num_envs
        # One env for all: if any member scores frames, every sub-env renders.
        render = any(m.needs_frames for m in self.members)
        self.envs = make_vector_env(config, render=render, num_envs=self.k * self.n)
        self.mode = vectorization_mode(config, render)
        mode = self.envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP and any(m.reward_model for m in self.members):
            raise ValueError(
                f"{config.env_id!r}: autoreset_mode must be NEXT_STEP for a reward model, got "
                f"{mode}; rewards of final steps would otherwise be scored on reset states"
            )
        space = self.envs.single_action_space
        self._clip = (space.low, space.high) if isinstance(space, spaces.Box) else None
        # The env's own return and length of each sub-env's episode so far, [K, N]: the
        # task metric whatever reward trains, kept for all members at once.
        self.episode_return = np.zeros((self.k, self.n))
        self.episode_length = np.zeros((self.k, self.n), dtype=np.int64)
        # What the statistics need of each vector step, logged as array rows and folded
        # into the members' statistics every LOG_STEPS steps (``flush``): a few row
        # copies a step instead of the sums, masks and per-member loops of each step.
        shape = (self.LOG_STEPS, self.k, self.n)
        self._logged = 0
        self._log_counted = np.zeros(shape, dtype=bool)  # valid rows of scored members
        self._log_reward = np.zeros(shape, dtype=np.float32)  # the env's reward
        self._log_done = np.zeros(shape, dtype=bool)  # episode ends of scored members
        self._log_success = np.zeros(shape, dtype=np.float32)  # NaN: the env has none
        self._log_terms: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # values, present
        # Each reward model's terms, {name: [LOG_STEPS, N]}, and the names logged since
        # the last fold (a step the model did not score leaves its row zero).
        self._log_model_terms: list[dict[str, np.ndarray]] = [{} for _ in self.members]
        self._model_term_names: list[set[str]] = [set() for _ in self.members]
        self._answers_later = [m.answers_later for m in self.members]
        self._modelled = [k for k, m in enumerate(self.members) if m.reward_model is not None]
        # The members whose reward terms are the env's own. With a rollout-level reward
        # (CLIP, SPA) the training reward's components are its relabel outputs
        # (relabel_rewards); the env's own terms (CartPole's `alive`) are not among them
        # and would be plotted as if they were (issue #19).
        self._env_terms = np.array(
            [m.reward_model is None and m.relabel is None for m in self.members]
        )

    def _rows(self, k: int) -> slice:
        return slice(k * self.n, (k + 1) * self.n)

    def reset(self, seeds: Sequence[Sequence[int]]) -> np.ndarray:
        """Reset every sub-env, member k's with ``seeds[k]`` [N]; observations [K, N, ...]."""
        flat = [int(s) for member_seeds in seeds for s in member_seeds]
        obs, _ = self.envs.reset(seed=flat)
        self.flush()  # the steps before the reset belong to the episodes it ends
        self.episode_return[:] = 0.0
        self.episode_length[:] = 0
        return obs.reshape(self.k, self.n, *obs.shape[1:])

    def env_actions(self, actions: np.ndarray, alive: Sequence[bool]) -> np.ndarray:
        """``actions`` [K, N, ...] as the envs receive them: a stopped member's zeroed
        (its policy may be NaN; its rows idle), all clipped to the action space's bounds
        (the Gaussian's samples are unbounded; the env's are not)."""
        stopped = [k for k in range(self.k) if not alive[k]]
        if stopped or self._clip is None:
            actions = np.array(actions)  # a copy: the caller's array is left as it was
            actions[stopped] = 0
        if self._clip is not None:
            # np.clip's own overhead is ~3 us on a handful of values; these two ufuncs
            # make the same new array (NaN stays NaN) in ~1.
            low, high = self._clip
            actions = np.minimum(np.maximum(actions, low), high)
        return actions

    def step(self, actions: np.ndarray, valid: np.ndarray, alive: Sequence[bool]) -> BatchStep:
        """Step all K*N sub-envs with ``actions`` [K, N, ...]: every member's rows, and
        per member the exception its reward model raised; a member not ``alive`` steps
        its rows with zero actions and is not scored. An exception of the envs
        themselves is raised: it belongs to no one member."""
        actions = self.env_actions(actions, alive)
        k_, n_ = self.k, self.n
        flat = actions.reshape(k_ * n_, *actions.shape[2:])
        obs, reward, terminated, truncated, info = self.envs.step(flat)
        errors: list[Exception | None] = [None] * k_
        # Models served from workers of their own get every member's batch first, so the
        # K workers compute at once instead of one round trip after another.
        sent: set[int] = set()
        for k, member in enumerate(self.members):
            if alive[k] and self._answers_later[k]:
                rows = self._rows(k)
                try:
                    member.send(actions[k], reward[rows], info_rows(info, rows))
                    sent.add(k)
                except Exception as err:  # the member's reward program: reported, not raised
                    errors[k] = err
        # The other models' input is built once for the whole batch and cut per member:
        # one conversion of the state arrays per step instead of one per member.
        now = [k for k in self._modelled if alive[k] and k not in sent and errors[k] is None]
        batch = None
        if now:
            first = self.members[now[0]]
            try:
                batch = vector_step_input(first.task_spec, first.device, flat, reward, info)
            except Exception as err:  # the reward models' input: every such member's error
                for k in now:
                    errors[k] = err
        # The env's reward trains the members without a reward model.
        rewards = reward.astype(np.float32).reshape(k_, n_)
        model_terms: dict[int, dict[str, np.ndarray]] = {}
        for k in sorted(sent.union(now)):
            if errors[k] is not None:
                continue
            rows, member = self._rows(k), self.members[k]
            try:
                rewards[k], model_terms[k] = member.reward(
                    reward[rows],
                    valid[k],
                    batch=input_rows(batch, rows) if batch is not None and k in now else None,
                    sent=k in sent,
                )
            except Exception as err:  # the member's reward program: reported, not raised
                errors[k] = err
        scored = [k for k in range(k_) if alive[k] and errors[k] is None]
        env_reward = np.asarray(info.get("env_reward", reward), dtype=np.float32)
        env_reward = env_reward.reshape(k_, n_)
        has_success = "success" in info
        success = (
            np.asarray(info["success"], dtype=bool).reshape(k_, n_)
            if has_success
            else np.zeros((k_, n_), dtype=bool)
        )
        terminated, truncated = terminated.reshape(k_, n_), truncated.reshape(k_, n_)
        self._record(
            scored,
            valid,
            env_reward,
            terminated,
            truncated,
            success,
            has_success,
            info,
            model_terms,
        )
        return BatchStep(
            obs.reshape(k_, n_, *obs.shape[1:]),
            rewards,
            env_reward,
            terminated,
            truncated,
            success,
            scored,
            errors,
            info,
            reward,
            model_terms,
        )

    def _record(
        self,
        scored: list[int],
        valid: np.ndarray,
        env_reward: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        success: np.ndarray,
        has_success: bool,
        info: dict[str, Any],
        model_terms: dict[int, dict[str, np.ndarray]],
    ) -> None:
        """Log what the statistics of the ``scored`` members need of one vector step:
        the env's reward over the ``valid`` [K, N] sub-envs (not Gymnasium's autoreset
        steps), episode ends, success, the env's reward terms and the reward models'
        terms (``model_terms``, zero where not valid). ``flush`` folds the log."""
        if not scored:
            return
        i = self._logged
        if len(scored) < self.k:
            member_rows = np.zeros((self.k, 1), dtype=bool)
            member_rows[scored] = True
            np.logical_and(member_rows, valid, out=self._log_counted[i])
            np.logical_and(member_rows, terminated | truncated, out=self._log_done[i])
        else:  # every member scored, the common case: no member mask to apply
            self._log_counted[i] = valid
            np.logical_or(terminated, truncated, out=self._log_done[i])
        self._log_reward[i] = env_reward
        self._log_success[i] = success if has_success else np.nan
        if self._env_terms[scored].any():
            for name, (values, present) in _terms_from_info(info).items():
                if name not in self._log_terms:
                    shape = self._log_counted.shape
                    self._log_terms[name] = (np.zeros(shape), np.zeros(shape, dtype=bool))
                log_values, log_present = self._log_terms[name]
                log_values[i] = values.reshape(self.k, self.n)
                present = np.asarray(present, dtype=bool)
                log_present[i] = present.reshape(self.k, self.n) if present.ndim else present
        for k, terms in model_terms.items():  # scored: a model that raised gave no terms
            logged = self._log_model_terms[k]
            for name, values in terms.items():
                if name not in logged:
                    logged[name] = np.zeros((self.LOG_STEPS, self.n))
                logged[name][i] = values
            self._model_term_names[k].update(terms)
        self._logged = i + 1
        if self._logged == self.LOG_STEPS:
            self.flush()

    def flush(self) -> None:
        """Fold the logged steps into each member's statistics: the env's reward and
        its terms summed over the counted sub-envs, each finished episode's env return,
        length and success (in step order), the unfinished ones carried on."""
        s = self._logged
        if not s:
            return
        self._logged = 0
        counted = self._log_counted[:s]
        reward = np.where(counted, self._log_reward[:s], 0.0).astype(np.float64)
        reward_sums, steps = reward.sum(axis=(0, 2)), counted.sum(axis=(0, 2))
        for name, (values, present) in self._log_terms.items():
            sums = np.where(counted & present[:s], values[:s], 0.0).sum(axis=(0, 2))
            for k in np.flatnonzero(self._env_terms & (steps > 0)):
                terms = self.members[k].term_sums
                terms[name] = terms.get(name, 0.0) + float(sums[k])
            present[:s] = False  # a term absent from later steps must not count there
        for k, logged in enumerate(self._log_model_terms):
            # A model's terms are zero where not valid: their sums over the logged rows.
            names, terms = self._model_term_names[k], self.members[k].term_sums
            for name in names:
                values = logged[name][:s]
                terms[name] = terms.get(name, 0.0) + float(values.sum())
                values[:] = 0.0  # a step this model does not score must not count later
            names.clear()
        for k in np.flatnonzero(steps > 0):
            self.members[k].env_reward_sum += float(reward_sums[k])
            self.members[k].valid_steps += int(steps[k])
        # Episode returns from running sums: an episode ending at step t since the one
        # ending at t' in the same sub-env returned cum[t] - cum[t'], the first one
        # ending in this log also what it had before it (episode_return).
        cum = np.cumsum(reward, axis=0)
        cum_len = np.cumsum(counted, axis=0, dtype=np.int64)
        ends = np.nonzero(self._log_done[:s].transpose(1, 2, 0))  # k, n, t: by sub-env
        if len(ends[0]):
            k, n, t = ends
            first = np.ones(len(t), dtype=bool)  # the first end in its sub-env
            first[1:] = (k[1:] != k[:-1]) | (n[1:] != n[:-1])
            prev = np.where(first, 0, np.roll(t, 1))
            returns = np.where(first, self.episode_return[k, n], -cum[prev, k, n]) + cum[t, k, n]
            lengths = np.where(first, self.episode_length[k, n], -cum_len[prev, k, n])
            lengths = lengths + cum_len[t, k, n]
            success = self._log_success[t, k, n]
            last = np.ones(len(t), dtype=bool)  # the last end in its sub-env
            last[:-1] = first[1:]
            self.episode_return += cum[-1]
            self.episode_length += cum_len[-1]
            kl, nl, tl = k[last], n[last], t[last]
            self.episode_return[kl, nl] = cum[-1, kl, nl] - cum[tl, kl, nl]
            self.episode_length[kl, nl] = cum_len[-1, kl, nl] - cum_len[tl, kl, nl]
            order = np.lexsort((n, t, k))  # member, then step, then sub-env
            ended = zip(
                returns[order].tolist(),
                lengths[order].tolist(),
                success[order].astype(np.float64).tolist(),
                strict=True,
            )
            counts = np.bincount(k, minlength=self.k).tolist()
            for member, count in zip(self.members, counts, strict=True):
                member.finished.extend(itertools.islice(ended, count))
        else:
            self.episode_return += cum[-1]
            self.episode_length += cum_len[-1]

    def take_stats(self, k: int) -> dict[str, float]:
        """Member k's ``MemberEnvs.take_stats``, every step so far folded in."""
        self.flush()
        return self.members[k].take_stats()

    def render(self) -> np.ndarray:
        """Frames of every sub-env, [K, N, H, W, 3] uint8."""
        frames = np.stack(self.envs.render())
        return frames.reshape(self.k, self.n, *frames.shape[1:])

    def close(self) -> None:
        self.envs.close()
