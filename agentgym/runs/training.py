"""Training runs end to end: check the request, make the run folder, train, report.

``start_training_run`` validates everything a user can get wrong before any folder is
made (learner name, env id, reward specs, config values, device), then writes
config.yaml and manifest.json. ``train_run`` reads the learner and its config back from
config.yaml, so a fresh run and ``--resume`` go through the same code, and finishes with
the report. The CLI (``agentgym train``) and ``agentgym demo`` are thin layers on these.

    config.yaml = {command: train, learner, env_id, rewards, seeds, config}

``learner`` is a name in ``agentgym.learners.LEARNERS``; ``config`` is that learner's
config dataclass (``PPOConfig``, ``AgentPPOConfig``). Nothing here branches on a learner:
what differs lives on the learner class (``agentgym.learners.base.Learner``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agentgym.config_fields import config_from_dict
from agentgym.learners.base import Learner, RunRequest
from agentgym.learners.device import resolve_device
from agentgym.registry import suggest
from agentgym.runs.config import config_to_dict
from agentgym.runs.manifest import build_manifest
from agentgym.runs.report import build_report
from agentgym.runs.rundir import RunDir

log = logging.getLogger(__name__)

Callback = Callable[[dict[str, Any]], "bool | None"]


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
    preset: dict[str, Any] | None = None,
) -> RunDir:
    """Validate a training request and write its run folder (config.yaml, manifest.json).

    ``values`` are fields of the learner's config (``PPOConfig`` for the PPO family); ``rewards`` are the reward specs (one per member for
    the population learner, else at most one), ``seeds`` the population's seeds (default:
    ``values["seed"]`` for every member). Raises ValueError (a bad config value, naming
    the field), UnknownNameError (learner), gymnasium.error.Error (env id),
    RewardSpecError (reward spec) or RunExistsError (the folder), all before any file
    is written. ``preset`` records which training preset the values came from and which
    fields the user overrode (``agentgym.presets.Resolved.record``).
    """
    cls = learner_class(learner)
    given = list(rewards) or ([values["reward"]] if "reward" in values else [])
    rewards = [resolve_spec_paths(r) for r in given]
    config = build_config(cls, learner, values, rewards)
    rewards = rewards or [config.reward]
    cls.check_request(config, rewards)
    if cls.several_rewards:
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
        "preset": preset or {"name": None, "overrides": sorted(values)},
        "config": config_to_dict(config),
        **_described(config.env_id),
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
    if cls.several_rewards:
        for i, (reward, seed) in enumerate(zip(rewards, seeds, strict=True)):
            member_config = {
                **run_config,
                "learner": cls.member_learner,  # type: ignore[attr-defined]
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


def _described(env_id: str) -> dict[str, Any]:
    """``{"described_task": ...}`` when ``env_id`` is a task registered at run time
    (``agentgym.describe``), so a resume in a fresh process can register it again."""
    import gymnasium as gym

    from agentgym.describe.env import ENTRY_POINT
    from agentgym.registry import RUNTIME_ENV_IDS

    spec = gym.registry.get(env_id)
    if env_id not in RUNTIME_ENV_IDS or spec is None or spec.entry_point != ENTRY_POINT:
        return {}  # agentgym's own ids (Fetch's described tasks too) come with the import
    return {"described_task": dict(spec.kwargs["task"])}


def _register_described(spec: dict[str, Any]) -> None:
    """Register a stored run's described task again (a resume in a fresh process). Its
    expressions run vetted in a sandbox worker: trust does not travel with a run folder."""
    import gymnasium as gym

    task = spec.get("described_task")
    if not isinstance(task, dict) or spec.get("env_id") in gym.registry:
        return
    from agentgym.describe import register

    register({**task, "trusted_rules": False})


def _check_trusted(rewards: Sequence[str], trusted: Sequence[str]) -> None:
    """Every ``trust:PATH`` of a stored run's ``rewards`` is among ``trusted`` (resolved)."""
    from agentgym.rewards.spec import spec_atoms

    given = {Path(p).expanduser().resolve() for p in trusted}
    for spec in rewards:
        for atom in spec_atoms(spec):
            if not atom.startswith("trust:"):
                continue
            path = Path(atom[len("trust:") :].strip()).expanduser().resolve()
            if path not in given:
                raise ValueError(
                    f"this run trusts {str(path)!r} (runs it unvetted in this process); "
                    f"a run folder alone cannot make a program trusted: resume with "
                    f"--trust-reward {path} if it is code you wrote"
                )


def program_paths(spec: str) -> list[str]:
    """The reward program files (``*.py``) a reward spec names, as written in it."""
    return [match.group(1) for match in _PROGRAM.finditer(spec)]


def _copy_programs(run: RunDir, rewards: Sequence[str]) -> None:
    """A copy of every reward program in rewards/, so the run keeps the code it trained on."""
    for spec in rewards:
        for name in program_paths(spec):
            path = Path(name)
            if path.is_file():
                (run.path / "rewards").mkdir(exist_ok=True)
                shutil.copy2(path, run.path / "rewards" / path.name)


def learner_class(name: str) -> type[Learner]:
    """The registered class of ``--learner name`` (UnknownNameError with a suggestion)."""
    from agentgym.learners import LEARNERS

    return LEARNERS.get(LEARNERS.check(name))


def build_config(
    cls: type[Learner], learner: str, values: dict[str, Any], rewards: Sequence[str]
) -> Any:
    """The learner's config from CLI values; ValueError naming a flag it does not take."""
    known = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise ValueError(
            f"{flags}: not a setting of --learner {learner}.{suggest(unknown[0], sorted(known))} "
            "It takes: " + ", ".join("--" + k.replace("_", "-") for k in sorted(known))
        )
    if len(rewards) > 1 and not cls.several_rewards:
        raise ValueError(
            f"--reward was given {len(rewards)} times; only --learner population trains several "
            "rewards (one member each)"
        )
    reward = rewards[0] if rewards else values.get("reward", cls.default_reward)
    return cls.config_class(**{**values, "reward": reward})


def stored_config(run: RunDir) -> Any:
    """The learner's config stored in a run's config.yaml."""
    spec = run.read_config()
    return config_from_dict(learner_class(spec.get("learner", "")).config_class, spec["config"])


def train_run(
    run: RunDir,
    callback: Callback | None = None,
    *,
    resume: bool = False,
    report: bool = True,
    total_steps: int | None = None,
    trusted: Sequence[str] = (),
) -> dict[str, Any]:
    """Train the run described by ``run``'s config.yaml, then write its report(s).

    A resumed run whose rewards name ``trust:PATH`` (run unvetted in this process) must be
    trusted again by whoever resumes it: each such PATH in ``trusted`` (``--trust-reward``),
    else ValueError. A run folder travels (a colleague's, a download): its config.yaml alone
    never makes a program trusted.

    The manifest's ``status`` goes created -> running -> done (or interrupted / failed:
    ...), so a report of a killed run says so. With ``resume``, ``total_steps`` (``--steps``)
    may extend the budget; a finished run that already reached it raises
    ``RunFinishedError`` and a missing or unreadable checkpoint raises, both before any
    file of the run is written.
    """
    from agentgym.runs.resume import check_resumable, extend_budget, target_steps

    spec = run.read_config()
    cls = learner_class(spec.get("learner", ""))
    members = run.members()
    if resume:  # checked before the manifest says "running"
        _register_described(spec)
        stored = [*(spec.get("rewards") or []), (spec.get("config") or {}).get("reward")]
        _check_trusted([r for r in stored if isinstance(r, str)], trusted)
        target = target_steps(run, total_steps)
        check_resumable(run, cls, members)
        extend_budget(run, members, target)
    elif total_steps is not None:
        raise ValueError("total_steps is only given to extend a run on resume (--steps)")
    config = stored_config(run)

    def train() -> dict[str, Any]:
        final = cls.train_in_run(
            RunRequest(
                config=config,
                run_dir=run.path,
                rewards=list(spec["rewards"]),
                seeds=list(spec["seeds"]),
                member_dirs=[m.path for m in members],
                resume=resume,
                callback=callback,
            )
        )
        for member, result in zip(members, final.pop("member_results", []), strict=True):
            member.update_manifest(
                status=str(result.get("status", "done")).lower(),
                final={k: v for k, v in result.items() if isinstance(v, (int, float, str))},
            )
        return final

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


def write_reports(run: RunDir) -> Path:
    """report.html of the run (and of each population member first); the top one's path."""
    for member in run.members():
        build_report(member)
    return build_report(run)
