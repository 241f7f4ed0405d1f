"""Training reward candidates inside a sandbox worker (the worker-side half of synthesis).

``train_candidates`` is the target a synthesis run hands to
``agentgym.sandbox.run_in_worker``: it trains every candidate of one iteration together
with a population learner (``population`` for PPO, ``sac-population`` for SAC: their
networks batched, so an iteration costs about one training run instead of K), then records a few evaluation episodes of each trained
policy as traces of the state variables (the trajectory analyser's material). It runs in
the worker only, so generated code never executes in the synthesis process.

Everything crosses the process boundary as JSON: the kwargs in, a list of per-member
results out.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TRACE_POINTS = 12
"""Time points kept per traced episode (evenly spaced, first and last included)."""
MAX_TRACE_SIZE = 6
"""State variables with more elements than this are left out of traces."""


def _plain(value: Any) -> Any:
    """JSON-safe scalars: NaN and inf become None (JSON has no spelling for them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def train_candidates(
    env_id: str,
    programs: list[str],
    run_dirs: list[str],
    seeds: list[int],
    learner: str,
    config: dict[str, Any],
    trace_episodes: int = 0,
    trace_seed: int = 10_000,
    videos: list[bool] | None = None,
    served: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Train one population member per reward spec; returns each member's final metrics.

    ``programs`` are reward specs (paths of candidate programs, or ``sparse``/``env``),
    ``run_dirs`` each member's folder (logs, checkpoint, video, ``traces.json``),
    ``learner`` a population learner (``several_rewards``) and ``config`` the fields of its
    config dataclass that every member shares; ``videos[k]`` records one evaluation episode of member k
    as ``videos/final.mp4`` (envs that render). A member whose reward is not finite or raises stops with
    status NONFINITE / ERROR and its ``step`` and ``error``; the others go on. ``served``
    (from the local executor, aligned with ``programs``) are the pipes of the programs'
    own serving workers: the programs then never run in this process.
    """
    from agentgym.learners import LEARNER_CONFIGS, LEARNERS

    if served is not None:
        from agentgym.sandbox import served as served_programs

        served_programs.install(programs, served)
    population_class = LEARNERS.get(learner)
    if not population_class.several_rewards:
        raise ValueError(f"train_candidates: learner {learner!r} trains one reward, not K")
    base = LEARNER_CONFIGS.get(learner).from_dict({**config, "env_id": env_id})
    dirs = [Path(d) for d in run_dirs]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    population = population_class(base, programs, seeds, dirs)
    try:
        finals = population.learn_all()
        for k, final in enumerate(finals):
            if trace_episodes and final.get("status") == "DONE":
                traces = record_traces(population, k, env_id, trace_episodes, trace_seed)
                (dirs[k] / "traces.json").write_text(json.dumps(traces))
            if videos and videos[k] and final.get("status") == "DONE":
                shown = population.evaluate_member(
                    k, 1, trace_seed, dirs[k] / "videos" / "final.mp4"
                )
                if "video" in shown:
                    final["video"] = str(Path(shown["video"]).relative_to(dirs[k]))
    finally:
        population.close()
    return [{key: _plain(v) for key, v in final.items()} for final in finals]


def record_traces(
    population: Any, k: int, env_id: str, episodes: int, seed: int
) -> list[dict[str, Any]]:
    """Deterministic episodes of member k: success, length and the small state variables
    at ``TRACE_POINTS`` evenly spaced steps."""
    import gymnasium as gym
    import numpy as np

    policy = population.deterministic_policy(k)
    env = gym.make(env_id)
    out = []
    try:
        for episode in range(episodes):
            obs, info = env.reset(seed=seed + episode)
            steps = [info.get("reward_state", {})]
            done, success = False, False
            while not done:
                action = policy(np.asarray(obs, dtype=np.float32)[None])[0]
                obs, _, terminated, truncated, info = env.step(action)
                steps.append(info.get("reward_state", {}))
                success = bool(info.get("success", False))
                done = terminated or truncated
            picks = sorted(
                {round(i * (len(steps) - 1) / (TRACE_POINTS - 1)) for i in range(TRACE_POINTS)}
            )
            variables: dict[str, list[Any]] = {}
            for name, first in steps[0].items():
                value = np.asarray(first)
                if value.dtype.kind not in "biuf" or value.size > MAX_TRACE_SIZE:
                    continue
                variables[name] = [
                    np.round(np.asarray(steps[i][name], dtype=float), 3).tolist() for i in picks
                ]
            out.append(
                {"success": success, "length": len(steps) - 1, "steps": picks, "state": variables}
            )
    finally:
        env.close()
    return out
