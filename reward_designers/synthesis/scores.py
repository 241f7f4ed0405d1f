"""Scoring rewards on the task's success metric over seeds, and the human-normalised score.

``evaluate_rewards`` trains every reward it is given on every seed with the same budget,
all members in one sandbox worker (the population learner), and reports each reward's
evaluation success per seed, mean and spread. The references, the sparse success reward
and the task's human program from ``reward_designers/library/``, train beside them
unless a cached result exists for the same env, budget, seeds, learner and every field of
its config (``$AGENTGYM_CACHE/references/``): a changed preset never reuses a stale one.

    human-normalised score = (method - sparse) / |human - sparse|

on the success rate (Eureka's normalisation); undefined when human and sparse tie.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgym.reward_designers.synthesis.candidates import read_json, write_json

if TYPE_CHECKING:
    from agentgym.executors import Executor

log = logging.getLogger(__name__)

SPARSE, HUMAN = "sparse", "human"
TARGET = "agentgym.reward_designers.synthesis.training:train_candidates"


def references_dir() -> Path:
    """``$AGENTGYM_CACHE/references`` (default ``~/.cache/agentgym/references``)."""
    root = os.environ.get("AGENTGYM_CACHE") or Path.home() / ".cache" / "agentgym"
    return Path(root) / "references"


def human_program(env_id: str) -> str | None:
    """The library's human program for ``env_id``, or None when it has none."""
    from agentgym.reward_designers.library import program_path
    from agentgym.runs.rundir import env_short_name

    try:
        return str(program_path(env_short_name(env_id)))
    except FileNotFoundError:
        return None


def reference_key(env_id: str, seeds: list[int], learner: str, config: dict[str, Any]) -> str:
    """The cache file name of references trained with ``learner`` and its ``config``: the
    env, budget and learner readable, every other setting in the hash. The learner's
    defaults join the given fields, so a changed default misses the cache too."""
    from agentgym.learners import LEARNER_CONFIGS

    full = LEARNER_CONFIGS.get(learner).from_dict({**config, "env_id": env_id}).to_dict()
    settings = {k: v for k, v in full.items() if k not in ("video", "device", "torch_threads")}
    blob = json.dumps(
        {"env_id": env_id, "seeds": seeds, "learner": learner, "config": settings},
        sort_keys=True,
        default=list,
    )
    name = env_id.replace("/", "_")
    digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
    return f"{name}-{learner}-{full.get('total_steps')}-{digest}"


def summarise(spec: str, finals: list[dict[str, Any]], seeds: list[int]) -> dict[str, Any]:
    """Per-seed success, task fitness and return of one reward, with the success's mean and
    spread (population std) and the fitness's mean (None when a seed has none)."""
    success = [
        float(f.get("eval/success_rate") or 0.0) if f.get("status") == "DONE" else 0.0
        for f in finals
    ]
    returns = [f.get("eval/mean_return") for f in finals]
    fitness = [f.get("eval/fitness") if f.get("status") == "DONE" else None for f in finals]
    known = [x for x in fitness if isinstance(x, (int, float))]
    mean = sum(success) / len(success)
    std = math.sqrt(sum((s - mean) ** 2 for s in success) / len(success))
    return {
        "spec": spec,
        "seeds": seeds,
        "success": success,
        "mean": mean,
        "std": std,
        "returns": returns,
        "fitness": fitness,
        "fitness_mean": sum(known) / len(known) if len(known) == len(fitness) else None,
        "status": [f.get("status") for f in finals],
    }


def evaluate_rewards(
    env_id: str,
    rewards: dict[str, str],
    seeds: list[int],
    steps: int,
    *,
    run_dir: Path,
    learner: str,
    config: dict[str, Any],
    references: bool = True,
    video: bool = False,
    deadline_s: float = 7200.0,
    on_progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Train each reward spec of ``rewards`` (label -> spec) on each seed with the population
    ``learner`` and its ``config`` fields (``SynthesisConfig.training_settings``) for
    ``steps``; see the module doc.

    Returns {"env_id", "steps", "seeds", "learner", "rewards": {label: summary}, "video"}; ``video``
    is a clip of the first reward's first seed (relative to ``run_dir``) when asked for
    and the env renders. ``on_progress`` is called every few seconds, from a thread, with
    the env steps the slowest member has trained. ``executor`` trains them all in one local
    worker (None, local) or one member per Ray task.
    """
    from agentgym.catalog import renders
    from agentgym.executors.local import LocalExecutor
    from agentgym.sandbox.loader import program_paths
    from agentgym.sandbox.policy import require_strong_isolation

    run_dir = Path(run_dir)
    untrusted = [str(p) for spec in rewards.values() for p in program_paths(spec)]
    if untrusted:
        # The programs run in the training worker: refused under weak isolation too.
        require_strong_isolation(f"the reward programs {', '.join(untrusted)}", run_dir)
    config = {**config, "total_steps": steps, "video": False}
    labels: dict[str, str] = dict(rewards)
    cached: dict[str, Any] = {}
    ref_path = references_dir() / f"{reference_key(env_id, seeds, learner, config)}.json"
    if references:
        cached = read_json(ref_path, {}) or {}
        human = human_program(env_id)
        wanted = {SPARSE: "sparse", **({HUMAN: human} if human else {})}
        for label, spec in wanted.items():
            if label not in cached:
                labels[label] = spec
    specs, dirs, member_seeds, videos, owners = [], [], [], [], []
    want_video = video and renders(env_id)
    for n, (label, spec) in enumerate(labels.items()):
        if Path(spec).exists():  # the worker runs in its own folder: paths must be absolute
            spec = str(Path(spec).resolve())
        for s in seeds:
            specs.append(spec)
            dirs.append(str((run_dir / f"{label}_seed{s}").resolve()))
            member_seeds.append(s)
            videos.append(want_video and n == 0 and s == seeds[0])
            owners.append(label)
    run_dir.mkdir(parents=True, exist_ok=True)
    finals: list[dict[str, Any]] = []
    if specs:  # nothing to train when only references were asked for and both are cached
        finals = _train(
            executor or LocalExecutor(),
            run_dir.resolve(),
            env_id,
            specs,
            dirs,
            member_seeds,
            videos,
            learner,
            config,
            deadline_s,
            ", ".join(labels),
            on_progress,
        )
    out: dict[str, Any] = {
        "env_id": env_id,
        "steps": steps,
        "seeds": seeds,
        "learner": learner,
        "rewards": {},
        "video": None,
    }
    for label, spec in labels.items():
        mine = [f for f, o in zip(finals, owners, strict=True) if o == label]
        out["rewards"][label] = summarise(spec, mine, seeds)
    for f, d in zip(finals, dirs, strict=True):
        if f.get("video"):
            out["video"] = str(Path(d, f["video"]).relative_to(run_dir.resolve()))
    if references:
        fresh = {k: v for k, v in out["rewards"].items() if k in (SPARSE, HUMAN)}
        if fresh:
            write_json(ref_path, {**cached, **fresh})
        for label, summary in cached.items():
            out["rewards"][label] = {**summary, "cached": True}
    return out


def _train(
    executor: Executor,
    root: Path,
    env_id: str,
    specs: list[str],
    dirs: list[str],
    seeds: list[int],
    videos: list[bool],
    learner: str,
    config: dict[str, Any],
    deadline_s: float,
    what: str,
    on_progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Each member's final metrics; RuntimeError naming ``what`` when a job fails.
    ``on_progress`` gets the env steps of the slowest member, from the executor's watch of
    the members' metrics files, and once more at the end."""
    from agentgym.executors import Job
    from agentgym.executors.progress import last_step
    from agentgym.learners.checkpoint import replay_mb
    from agentgym.sandbox import Limits

    members = list(range(len(specs)))
    groups = executor.member_groups(members)
    replay = replay_mb(learner, env_id, config)
    jobs = []
    for group in groups:
        # A program inside the run folder travels with the job; a library program (the
        # human reference) is read where agentgym is installed on the node.
        inside = [Path(specs[m]).is_relative_to(root) for m in group]
        travels = not executor.batches_members and all(inside)
        rel = [Path(specs[m]).relative_to(root).as_posix() for m in group] if travels else []
        out = [Path(dirs[m]).relative_to(root).as_posix() for m in group]
        jobs.append(
            Job(
                TARGET,
                root,
                kwargs={
                    "env_id": env_id,
                    **({} if travels else {"programs": [specs[m] for m in group]}),
                    "seeds": [seeds[m] for m in group],
                    "learner": learner,
                    "config": config,
                    "videos": [videos[m] for m in group],
                },
                path_kwargs={"run_dirs": out, **({"programs": rel} if travels else {})},
                inputs=tuple(rel),
                outputs=tuple(out),
                watch=tuple(f"{o}/logs/metrics.jsonl" for o in out),
                # The worker sees only its folder and the Python installation: reward files
                # outside the folder come in read-only, where they are.
                readable=tuple(specs[m] for m in group if not travels and Path(specs[m]).is_file()),
                limits=Limits.for_training(replay, len(group), threads=1),
                deadline_s=deadline_s,
            )
        )
    steps = dict.fromkeys(members, 0)

    def progress(n: int, reported: list[int]) -> None:
        steps.update(zip(groups[n], reported, strict=False))
        assert on_progress is not None
        on_progress(min(steps.values()))

    results = executor.run(jobs, lambda n, result: None, progress if on_progress else None)
    if on_progress is not None:
        on_progress(min(last_step(Path(d) / "logs" / "metrics.jsonl") for d in dirs))
    for result in results:
        if not result.ok:
            raise RuntimeError(
                f"training {what} on {env_id} failed: {result.code}: {result.message}\n"
                f"{result.detail[-2000:]}"
            )
    return [final for result in results for final in result.value]


def human_normalised(results: dict[str, Any]) -> dict[str, float | None]:
    """(method - sparse) / |human - sparse| on mean success, for every non-reference reward."""
    rewards = results.get("rewards", {})
    if SPARSE not in rewards or HUMAN not in rewards:
        return {}
    sparse, human = rewards[SPARSE]["mean"], rewards[HUMAN]["mean"]
    out: dict[str, float | None] = {}
    for label, summary in rewards.items():
        if label in (SPARSE, HUMAN):
            continue
        out[label] = (
            None
            if abs(human - sparse) < 1e-12
            else (summary["mean"] - sparse) / abs(human - sparse)
        )
    return out
