"""Contract checks for an env id: Gymnasium's check_env, seeded determinism, a pickle
round trip, observations in space, reward == sum of terms, reward_state == TaskSpec, and
for an id with a native vector env (``vector_entry_point``) that ``make_vec`` returns it
and replays a seeded rollout across autoresets.

Used by ``agentgym check`` and by the registry sweep test, so both check the same thing.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from agentgym.spec import TaskSpec

# check_env warnings that are the env's design, not a bug: physical state (velocities,
# positions of free bodies) has no natural bound, and Gymnasium's own MuJoCo envs use
# infinite Box bounds for it. Anything else check_env says fails the check.
EXPECTED_WARNINGS = (
    "observation space minimum value is -infinity",
    "observation space maximum value is infinity",
)


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class CheckReport:
    env_id: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def add(self, name: str, fn: Callable[[], str | None]) -> None:
        try:
            detail = fn() or ""
            self.results.append(CheckResult(name, True, detail))
        except Exception as err:  # a check that fails reports why instead of stopping the rest
            self.results.append(CheckResult(name, False, f"{type(err).__name__}: {err}"))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str):
        return a == b
    return np.array_equal(np.asarray(a), np.asarray(b))


def sample_action(env: gym.Env, info: dict[str, Any]) -> Any:
    """A seeded random action. Text envs (info["admissible_actions"]) get an admissible
    command half of the time: random strings are invalid commands, which alone would
    leave the dynamics of a text env unexercised."""
    admissible = info.get("admissible_actions")
    rng = env.action_space.np_random
    if admissible and rng.random() < 0.5:
        return admissible[int(rng.integers(len(admissible)))]
    return env.action_space.sample()


def rollout(env: gym.Env, seed: int, steps: int) -> list[tuple[Any, float, bool, bool, dict]]:
    """A seeded rollout with actions from a seeded action space."""
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [(obs, 0.0, False, False, info)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(sample_action(env, info))
        out.append((obs, float(reward), terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            out.append((obs, 0.0, False, False, info))
    return out


def check_gymnasium(env_id: str) -> str:
    from gymnasium.utils.env_checker import check_env

    env = gym.make(env_id)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env.unwrapped, skip_render_check=True)
        messages = [
            str(w.message)
            for w in caught
            if issubclass(w.category, UserWarning)
            and not any(e in str(w.message) for e in EXPECTED_WARNINGS)
        ]
        if messages:
            raise AssertionError("check_env warned: " + " | ".join(messages))
    finally:
        env.close()
    return "no warnings"


def check_determinism(env_id: str, steps: int = 50, seed: int = 123) -> str:
    runs = []
    for _ in range(2):
        env = gym.make(env_id)
        try:
            runs.append(rollout(env, seed, steps))
        finally:
            env.close()
    for t, (a, b) in enumerate(zip(*runs, strict=True)):
        for what, x, y in zip(
            ("obs", "reward", "terminated", "truncated", "info"), a, b, strict=True
        ):
            if what == "info":
                x = {k: v for k, v in x.items() if k in ("reward_state", "success", "reward_terms")}
                y = {k: v for k, v in y.items() if k in ("reward_state", "success", "reward_terms")}
            if not _same(x, y):
                raise AssertionError(f"seeded rollouts differ at step {t} in {what}")
    return f"{steps} steps identical"


def check_pickle(env_id: str, steps: int = 10, seed: int = 7) -> str:
    env = gym.make(env_id)
    try:
        clone = pickle.loads(pickle.dumps(env))
        try:
            a, b = rollout(env, seed, steps), rollout(clone, seed, steps)
            for t, (x, y) in enumerate(zip(a, b, strict=True)):
                if not (_same(x[0], y[0]) and x[1] == y[1]):
                    raise AssertionError(f"unpickled env diverges at step {t}")
        finally:
            clone.close()
    finally:
        env.close()
    return "round trip replays identically"


def check_contract(env_id: str, steps: int = 50, seed: int = 3) -> str:
    env = gym.make(env_id)
    try:
        task: TaskSpec = env.unwrapped.task_spec
        for t, (obs, reward, _, _, info) in enumerate(rollout(env, seed, steps)):
            if not env.observation_space.contains(obs):
                raise AssertionError(f"step {t}: observation not in observation_space")
            if "reward_state" not in info or "success" not in info:
                raise AssertionError(f"step {t}: info lacks reward_state or success")
            task.check_state(info["reward_state"])
            if not isinstance(info["success"], (bool, np.bool_)):
                raise AssertionError(
                    f"step {t}: info['success'] is {type(info['success']).__name__}, not bool"
                )
            if t > 0 and "reward_terms" in info:
                total = sum(info["reward_terms"].values())
                if not np.isclose(total, reward, atol=1e-6, rtol=1e-6):
                    raise AssertionError(
                        f"step {t}: reward {reward} != sum of reward_terms {total}"
                    )
                if "env_reward" not in info:
                    raise AssertionError(f"step {t}: info lacks env_reward")
    finally:
        env.close()
    return f"{steps} steps: obs in space, reward_state matches TaskSpec, reward == sum of terms"


def vector_rollout(envs: Any, seed: int, steps: int) -> list[tuple[Any, ...]]:
    """A seeded rollout of a vector env with actions from its seeded action space."""
    obs, info = envs.reset(seed=seed)
    envs.action_space.seed(seed)
    out: list[tuple[Any, ...]] = [(obs, info)]
    for t in range(steps):
        step = envs.step(envs.action_space.sample())
        if not envs.observation_space.contains(step[0]):
            raise AssertionError(f"vector step {t}: observations not in observation_space")
        out.append(step)
    return out


def check_vector(
    env_id: str, num_envs: int = 3, steps: int = 60, seed: int = 11, max_episode_steps: int = 20
) -> str:
    """``make_vec`` builds the native vector env of an id that registers one; two seeded
    rollouts, long enough to autoreset (``max_episode_steps``), are identical."""
    from gymnasium.vector import AutoresetMode

    from agentgym.vector import NativeVectorEnv

    if gym.spec(env_id).vector_entry_point is None:
        return "no vector_entry_point (make_vec builds a SyncVectorEnv)"
    single = gym.make(env_id)
    runs = []
    try:
        for _ in range(2):
            envs = gym.make_vec(env_id, num_envs=num_envs, max_episode_steps=max_episode_steps)
            try:
                if not isinstance(envs.unwrapped, NativeVectorEnv):
                    raise AssertionError(
                        f"make_vec built {type(envs.unwrapped).__name__}, not the native env"
                    )
                if envs.metadata.get("autoreset_mode") != AutoresetMode.NEXT_STEP:
                    raise AssertionError(
                        f"autoreset_mode {envs.metadata.get('autoreset_mode')}, not NEXT_STEP "
                        "(SyncVectorEnv's default)"
                    )
                if envs.single_observation_space != single.observation_space:
                    raise AssertionError("single_observation_space differs from the env's")
                if envs.single_action_space != single.action_space:
                    raise AssertionError("single_action_space differs from the env's")
                runs.append(vector_rollout(envs, seed, steps))
            finally:
                envs.close()
    finally:
        single.close()
    for t, (a, b) in enumerate(zip(*runs, strict=True)):
        if not _same(a, b):
            raise AssertionError(f"seeded vector rollouts differ at step {t}")
    return f"make_vec -> {type(envs.unwrapped).__name__}; {steps} seeded steps identical"


CHECKS: dict[str, Callable[[str], str]] = {
    "check_env": check_gymnasium,
    "determinism": check_determinism,
    "pickle": check_pickle,
    "contract": check_contract,
    "vector": check_vector,
}


def check(env_id: str, only: list[str] | None = None) -> CheckReport:
    """Run the checks named in ``only`` (default: all of CHECKS) on ``env_id``.

    An unknown id raises gym.error.Error (with a did-you-mean, ours first); an unknown
    check name raises ValueError naming the known ones, so a typo never runs nothing."""
    from agentgym.catalog import env_spec
    from agentgym.registry import suggest

    for name in only or ():
        if name not in CHECKS:
            raise ValueError(
                f"--only: unknown check {name!r}.{suggest(name, list(CHECKS))} "
                f"Known checks: {', '.join(CHECKS)}"
            )
    report = CheckReport(env_id)
    env_spec(env_id)  # unknown ids raise here, with a did-you-mean
    for name, fn in CHECKS.items():
        if only is None or name in only:
            report.add(name, lambda fn=fn: fn(env_id))
    return report
