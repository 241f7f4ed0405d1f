"""Training runs end to end: check the request, make the run folder, train, report.

``start_training_run`` validates everything a user can get wrong before any folder is
made (learner name, env id, reward specs, config values, device), then writes
config.yaml and manifest.json. ``train_run`` reads the learner and its config back from
config.yaml, so a fresh run and ``--resume`` go through the same code, and finishes with
the report. The CLI (``agentgym train``) and ``agentgym demo`` are thin layers on these.

    config.yaml = {command: train, learner, env_id, rewards, seeds, config: PPOConfig}
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agentgym.registry import UnknownNameError, suggest
from agentgym.runs.config import config_to_dict
from agentgym.runs.manifest import build_manifest, resolve_device
from agentgym.runs.report import build_report
from agentgym.runs.rundir import RunDir

log = logging.getLogger(__name__)

LEARNERS = ("ppo", "population", "sb3-ppo", "agent-ppo")
"""``--learner`` names: agentgym's PPO, K PPO members in one process, SB3's PPO, and PPO
for language-model agents (``learners/agent_run.py``)."""

Callback = Callable[[dict[str, Any]], "bool | None"]


def check_learner(name: str) -> str:
    if name not in LEARNERS:
        raise UnknownNameError(
            f"unknown learner {name!r}.{suggest(name, LEARNERS)} Known: {', '.join(LEARNERS)}"
        )
    return name


def env_class(env_id: str) -> Any:
    """The class (or creator) behind a registered env id; Gymnasium's did-you-mean on typos."""
    import gymnasium as gym
    from gymnasium.envs.registration import load_env_creator

    import agentgym  # noqa: F401  (registers agentgym/ ids)

    entry = gym.spec(env_id).entry_point
    return load_env_creator(entry) if isinstance(entry, str) else entry


def check_rewards(env_id: str, rewards: Sequence[str]) -> None:
    """Parse every reward spec against the env's TaskSpec (RewardSpecError on a bad one)."""
    from agentgym.env import TaskEnv
    from agentgym.rewards import parse_reward_spec

    creator = env_class(env_id)
    is_task = isinstance(creator, type) and issubclass(creator, TaskEnv)
    for spec in rewards:
        if spec == "env":
            continue
        if not is_task:
            raise ValueError(
                f"--reward {spec!r}: {env_id!r} is not an agentgym env (it has no TaskSpec), so "
                "it takes only reward 'env'"
            )
        parse_reward_spec(spec, creator.task_spec)


def renders(env_id: str) -> bool:
    """Whether the env can give rgb_array frames (for evaluation videos)."""
    metadata = getattr(env_class(env_id), "metadata", {}) or {}
    return "rgb_array" in metadata.get("render_modes", [])


_PROGRAM = re.compile(r"(?<![\w./~-])([\w./~-]+\.py)(?![\w.])")


def resolve_spec_paths(spec: str) -> str:
    """Reward programs named by a relative path become absolute, so that the config still
    means the same file when the run is resumed or reported from another folder."""

    def absolute(match: re.Match[str]) -> str:
        path = Path(match.group(1)).expanduser()
        return str(path.resolve()) if path.is_file() else match.group(1)

    return _PROGRAM.sub(absolute, spec)


def member_name(index: int, reward: str) -> str:
    """``members/`` folder name of a population member: ``00-reach`` for ``.../reach.py``."""
    stem = Path(reward).stem if reward.endswith(".py") else reward
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)[:40].strip("_") or "reward"
    return f"{index:02d}-{stem}"


def start_training_run(
    *,
    learner: str,
    values: dict[str, Any],
    rewards: Sequence[str] = (),
    seeds: Sequence[int] = (),
    out: str | Path | None = None,
    root: str | Path = "runs",
    overwrite: bool = False,
    argv: Sequence[str] | None = None,
    command: str = "train",
) -> RunDir:
    """Validate a training request and write its run folder (config.yaml, manifest.json).

    ``values`` are PPOConfig fields; ``rewards`` are the reward specs (one per member for
    the population learner, else at most one), ``seeds`` the population's seeds (default:
    ``values["seed"]`` for every member). Raises ValueError (a bad config value, naming
    the field), UnknownNameError (learner), gymnasium.error.Error (env id),
    RewardSpecError (reward spec) or RunExistsError (the folder), all before any file
    is written.
    """
    from agentgym.learners.config import PPOConfig

    check_learner(learner)
    if learner == "agent-ppo":  # its own config (AgentPPOConfig) and checks
        from agentgym.learners.agent_run import start_agent_run

        return start_agent_run(
            values=values,
            rewards=rewards,
            out=out,
            root=root,
            overwrite=overwrite,
            argv=argv,
            command=command,
        )
    rewards = [resolve_spec_paths(r) for r in (list(rewards) or [values.get("reward", "env")])]
    if learner != "population" and len(rewards) > 1:
        raise ValueError(
            f"--reward was given {len(rewards)} times; only --learner population trains several "
            "rewards (one member each)"
        )
    values = {**values, "reward": rewards[0]}
    config = PPOConfig(**values)
    env_class(config.env_id)
    check_rewards(config.env_id, rewards)
    if learner == "population":
        seeds = list(seeds) or [config.seed] * len(rewards)
        if len(seeds) != len(rewards):
            raise ValueError(
                f"--seeds: expected one seed per reward ({len(rewards)}), got {len(seeds)}"
            )
    else:
        seeds = [config.seed]
    device = resolve_device(config.device)
    run_config = {
        "command": command,
        "learner": learner,
        "env_id": config.env_id,
        "rewards": rewards,
        "seeds": [int(s) for s in seeds],
        "config": config_to_dict(config),
    }
    run = RunDir.create(
        command=command,
        env_id=config.env_id,
        config=run_config,
        out=out,
        root=root,
        overwrite=overwrite,
    )
    _copy_programs(run, rewards)
    run.write_manifest(
        build_manifest(
            command=command,
            seeds=seeds,
            device=device,
            argv=argv,
            extra={"learner": learner, "status": "created"},
        )
    )
    if learner == "population":
        for i, (reward, seed) in enumerate(zip(rewards, seeds, strict=True)):
            member_config = {
                **run_config,
                "learner": "ppo",
                "member_of": run.path.name,
                "rewards": [reward],
                "seeds": [int(seed)],
                "config": {**run_config["config"], "reward": reward, "seed": int(seed)},
            }
            member = RunDir.create(
                command=command,
                env_id=config.env_id,
                config=member_config,
                out=run.members_dir / member_name(i, reward),
            )
            member.write_manifest(
                build_manifest(
                    command=command,
                    seeds=[seed],
                    device=device,
                    argv=argv,
                    extra={"learner": "population member", "status": "created"},
                )
            )
    return run


def _copy_programs(run: RunDir, rewards: Sequence[str]) -> None:
    """A copy of every reward program in rewards/, so the run keeps the code it trained on."""
    for spec in rewards:
        for match in _PROGRAM.finditer(spec):
            path = Path(match.group(1))
            if path.is_file():
                (run.path / "rewards").mkdir(exist_ok=True)
                shutil.copy2(path, run.path / "rewards" / path.name)


def ppo_config(run: RunDir) -> Any:
    """The PPOConfig stored in a run's config.yaml."""
    from agentgym.learners.config import PPOConfig
    from agentgym.runs.config import config_from_dict

    return config_from_dict(PPOConfig, run.read_config()["config"])


def train_run(
    run: RunDir, callback: Callback | None = None, *, resume: bool = False, report: bool = True
) -> dict[str, Any]:
    """Train the run described by ``run``'s config.yaml, then write its report(s).

    The manifest's ``status`` goes created -> running -> done (or interrupted / failed:
    ...), so a report of a killed run says so.
    """
    spec = run.read_config()
    learner = check_learner(spec.get("learner", ""))
    if learner == "agent-ppo":
        from agentgym.learners.agent_run import train_agent_run

        return train_agent_run(run, callback, resume=resume, report=report)
    config = ppo_config(run)
    if resume and learner == "population":  # checked before the manifest says "running"
        missing = [
            m.path.name for m in run.members() if not (m.checkpoints_dir / "latest.pt").is_file()
        ]
        if missing:
            raise FileNotFoundError(
                f"--resume {run.path}: members {missing} have no checkpoints/latest.pt yet (the "
                "run was stopped before its first checkpoint); start it again with --overwrite"
            )

    def train() -> dict[str, Any]:
        if learner == "ppo":
            return _train_ppo(run, config, callback, resume)
        if learner == "sb3-ppo":
            from agentgym.learners.sb3 import resume_sb3_ppo, train_sb3_ppo

            return (resume_sb3_ppo if resume else train_sb3_ppo)(config, run.path, callback)
        return _train_population(run, spec, config, callback, resume)

    return run_with_status(run, train, resume=resume, report=report)


def run_with_status(
    run: RunDir, train: Callable[[], dict[str, Any]], *, resume: bool, report: bool
) -> dict[str, Any]:
    """Run ``train()`` with the manifest's status kept: running -> done / stopped (a
    callback stopped it) / interrupted / failed: ..., and the report written either way."""
    spec = run.read_config()
    run.update_manifest(status="running", resumed=resume or None)
    try:
        final = train()
    except BaseException as err:  # the report of a killed or failed run says so
        status = (
            "interrupted"
            if isinstance(err, KeyboardInterrupt)
            else f"failed: {type(err).__name__}: {err}"
        )
        run.update_manifest(status=status, finished=_now())
        if report:
            try:
                write_reports(run)
            except Exception as report_err:  # keep the training error as the one raised
                log.warning("could not write the report of %s: %s", run.path, report_err)
        raise
    total = int(spec["config"]["total_steps"])
    status = "done" if int(final.get("step", total)) >= total else "stopped"
    run.update_manifest(
        status=status,
        finished=_now(),
        final={k: v for k, v in final.items() if isinstance(v, (int, float, str))},
    )
    if report:
        write_reports(run)
    return final


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _train_ppo(run: RunDir, config: Any, callback: Callback | None, resume: bool) -> dict[str, Any]:
    from agentgym.learners.ppo import PPO

    if resume:
        if not (run.checkpoints_dir / "latest.pt").is_file():
            raise FileNotFoundError(
                f"--resume {run.path}: no checkpoints/latest.pt yet (the run was stopped before "
                "its first checkpoint); start it again with --overwrite"
            )
        agent = PPO.resume(run.path)
    else:
        agent = PPO(config, run_dir=run.path)
    return agent.learn(callback=callback)


def _train_population(
    run: RunDir, spec: dict[str, Any], config: Any, callback: Callback | None, resume: bool
) -> dict[str, Any]:
    from agentgym.learners.population import Population, train_population

    members = run.members()
    if resume:  # every member's checkpoint is a plain PPO checkpoint of the same step
        population = Population.resume_all([m.path for m in members])
        try:
            results = population.learn_all(callback)
        finally:
            population.close()
    else:
        results = train_population(
            config, list(spec["rewards"]), list(spec["seeds"]), [m.path for m in members], callback
        )
    for member, result in zip(members, results, strict=True):
        member.update_manifest(
            status=str(result.get("status", "done")).lower(),
            final={k: v for k, v in result.items() if isinstance(v, (int, float, str))},
        )
    best = max(range(len(results)), key=lambda i: results[i].get("eval/success_rate") or 0.0)
    return {
        "members": len(results),
        # "stopped" when a callback stopped the healthy members; a member stopped by its
        # own broken reward (NONFINITE, ERROR) has its status in its own manifest.
        "step": min(
            [int(r.get("step", 0)) for r in results if str(r.get("status", "")).upper() == "DONE"]
            or [max(int(r.get("step", 0)) for r in results)]
        ),
        "best_member": members[best].path.name,
        **{f"best/{k}": v for k, v in results[best].items() if isinstance(v, (int, float))},
    }


def write_reports(run: RunDir) -> Path:
    """report.html of the run (and of each population member first); the top one's path."""
    for member in run.members():
        build_report(member)
    return build_report(run)
