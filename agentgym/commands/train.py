"""Train a policy on an env and a reward, into a run folder with a report.

    agentgym train --env agentgym/Reach-v0 --reward reward_designers/library/reach.py \\
                   --learner ppo --steps 100000 --seed 0
    agentgym train --learner population --reward a.py --reward b.py --reward c.py ...
    agentgym train --learner sb3-ppo ...          # stable-baselines3's PPO, same settings
    agentgym train --learner sac --env Pendulum-v1 --steps 20000   # continuous actions
    agentgym train --resume runs/20261122-101500-train-Reach

The run folder (runs/<date>-train-<env>/ or --out) holds config.yaml, manifest.json,
logs/metrics.jsonl, logs/tb/, checkpoints/, videos/ and report.html. Every PPOConfig
field is an option below, and so is every field of AgentPPOConfig and SACConfig that
PPOConfig lacks; its help is the field's docstring.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "train PPO (ours, a population, or SB3's) or SAC on an env and reward; writes a run folder"
SAC_LEARNERS = ("sac", "sac-population")

# --env, --steps and --reward stand for these PPOConfig fields.
ALIASES = {"env_id": "--env", "total_steps": "--steps", "reward": "--reward"}


def _config_options() -> list[Any]:
    import agentgym
    from agentgym.runs.options import dataclass_options

    source = Path(agentgym.__file__).parent / "learners" / "ppo" / "config.py"
    return dataclass_options(source, "PPOConfig")


def _agent_options() -> list[Any]:
    """AgentPPOConfig fields that PPOConfig lacks (--learner agent-ppo only)."""
    import agentgym
    from agentgym.runs.options import dataclass_options

    shared = {o.name for o in _config_options()}
    source = Path(agentgym.__file__).parent / "learners" / "agent" / "config.py"
    return [o for o in dataclass_options(source, "AgentPPOConfig") if o.name not in shared]


def _sac_options() -> list[Any]:
    """SACConfig fields that PPOConfig lacks (--learner sac and sac-population only)."""
    import agentgym
    from agentgym.runs.options import dataclass_options

    shared = {o.name for o in _config_options()}
    source = Path(agentgym.__file__).parent / "learners" / "sac" / "config.py"
    return [o for o in dataclass_options(source, "SACConfig") if o.name not in shared]


def configure(parser: argparse.ArgumentParser) -> None:
    from agentgym.runs.options import add_options

    main = parser.add_argument_group("run")
    main.add_argument(
        "--env",
        dest="env_id",
        default=argparse.SUPPRESS,
        help="Gymnasium env id, e.g. agentgym/Reach-v0 or CartPole-v1 (default: agentgym/Reach-v0)",
    )
    main.add_argument(
        "--reward",
        action="append",
        default=None,
        metavar="SPEC",
        help="reward spec: env, sparse, a .py program, a weighted sum, KIND:ARGS; "
        "give it once per member with --learner population (default: env)",
    )
    main.add_argument(
        "--learner",
        default="ppo",
        help="ppo | population | sb3-ppo | agent-ppo | sac | sac-population (default: ppo)",
    )
    main.add_argument(
        "--steps",
        dest="total_steps",
        type=int,
        default=argparse.SUPPRESS,
        help="env steps to train for (PPOConfig.total_steps; default: 100000)",
    )
    main.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="population: one seed per member (default: --seed for every member)",
    )
    main.add_argument("--out", default=None, help="run folder (default: runs/<date>-train-<env>)")
    main.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in --out instead of refusing",
    )
    main.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its last checkpoint",
    )
    group = parser.add_argument_group("PPOConfig (every field; help from its docstring)")
    add_options(group, _config_options(), skip=ALIASES)
    agent = parser.add_argument_group(
        "AgentPPOConfig (--learner agent-ppo; also takes the shared "
        "PPOConfig fields such as --learning-rate, --seed)"
    )
    add_options(agent, _agent_options(), skip=ALIASES)
    sac = parser.add_argument_group(
        "SACConfig (--learner sac, sac-population; also takes the shared PPOConfig fields "
        "such as --learning-rate, --gamma, --hidden-sizes, --num-envs, --seed; its own "
        "defaults apply: see docs/learners.md)"
    )
    add_options(sac, _sac_options(), skip=ALIASES)


def run(args: argparse.Namespace) -> int:
    import sys

    import gymnasium as gym
    from rich.console import Console

    from agentgym.catalog import renders
    from agentgym.registry import UnknownNameError
    from agentgym.rewards import RewardSpecError
    from agentgym.runs.options import given_values
    from agentgym.runs.rundir import RunDir, RunExistsError, RunNotFoundError
    from agentgym.runs.training import start_training_run, train_run

    console = Console()
    err_console = Console(stderr=True, soft_wrap=True)  # no wrapping inside paths and names
    values = given_values(args, [o for o in _config_options() if o.name not in ALIASES])
    agent_values = given_values(args, _agent_options())
    if agent_values and args.learner != "agent-ppo" and not args.resume:
        flags = ", ".join("--" + k.replace("_", "-") for k in sorted(agent_values))
        err_console.print(f"[red]error:[/red] {flags} only apply to --learner agent-ppo")
        return 2
    sac_values = given_values(args, _sac_options())
    if sac_values and args.learner not in SAC_LEARNERS and not args.resume:
        flags = ", ".join("--" + k.replace("_", "-") for k in sorted(sac_values))
        err_console.print(
            f"[red]error:[/red] {flags} only apply to --learner sac or sac-population"
        )
        return 2
    values.update(agent_values)
    values.update(sac_values)
    for name in ("env_id", "total_steps"):
        if hasattr(args, name):
            values[name] = getattr(args, name)
    try:
        if args.resume:
            extra = sorted(set(values) | ({"reward"} if args.reward else set()))
            if extra:
                raise ValueError(
                    f"--resume continues a run with its stored config; drop {', '.join(extra)} "
                    "(start a new run to change them)"
                )
            run_dir = RunDir.open(args.resume)
            resume = True
        else:
            values.setdefault("env_id", "agentgym/Reach-v0")
            if values.get("rollout_backend") == "vllm":  # before a run folder is made
                from agentgym.learners.agent import require_vllm_rollouts

                require_vllm_rollouts()
            if (
                "video" not in values and args.learner != "agent-ppo"
            ):  # a report shows an evaluation video when the env renders
                values["video"] = renders(values["env_id"])
            run_dir = start_training_run(
                learner=args.learner,
                values=values,
                rewards=args.reward or [],
                seeds=args.seeds or [],
                out=args.out,
                overwrite=args.overwrite,
                argv=sys.argv,
            )
            resume = False
    except (
        ValueError,
        TypeError,
        UnknownNameError,
        RewardSpecError,
        gym.error.Error,
        RunExistsError,
        RunNotFoundError,
        ImportError,
    ) as err:
        err_console.print(f"[red]error:[/red] {_escape(err)}")
        return 2
    console.print(f"run folder: {run_dir.path}")
    total = int(run_dir.read_config()["config"]["total_steps"])
    try:
        with TrainProgress(console, total) as progress:
            final = train_run(run_dir, progress.update, resume=resume)
    except KeyboardInterrupt:
        err_console.print(f"interrupted; continue with: agentgym train --resume {run_dir.path}")
        return 130
    except (ValueError, FileNotFoundError, NotImplementedError, ImportError) as err:
        err_console.print(f"[red]error:[/red] {_escape(err)}")
        return 2
    shown = {
        k: v
        for k, v in final.items()
        if k.startswith(("eval/", "best/eval/")) or k in ("step", "best_member", "status")
    }
    if shown:
        console.print(", ".join(f"{k} {_fmt(v)}" for k, v in shown.items()), highlight=False)
    console.print(f"report: {run_dir.report_path}")
    return 0


def _escape(err: BaseException) -> str:
    from rich.markup import escape

    return escape(str(err))


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class TrainProgress:
    """A rich progress bar fed by the learners' log rows: steps, steps/s, return, success."""

    def __init__(self, console: Any, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[speed]} steps/s"),
            TextColumn("return {task.fields[ret]}"),
            TextColumn("success {task.fields[success]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.total = total
        self.tasks: dict[Any, Any] = {}

    def __enter__(self) -> TrainProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, row: dict[str, Any]) -> None:
        """The learners' callback: one log row (population rows carry ``member``)."""
        key = row.get("member", "train")
        if key not in self.tasks:
            name = "train" if key == "train" else f"member {key}"
            self.tasks[key] = self.progress.add_task(
                name, total=self.total, speed="-", ret="-", success="-"
            )
        fields: dict[str, Any] = {}
        if row.get("status") not in (None, "RUNNING"):
            name = "train" if key == "train" else f"member {key}"
            fields["description"] = f"{name} ({str(row['status']).lower()})"
        if "steps_per_s" in row:
            fields["speed"] = f"{row['steps_per_s']:,.0f}"
        if row.get("episode_return") is not None:
            fields["ret"] = f"{row['episode_return']:.3g}"
        success = row.get("eval/success_rate", row.get("success_rate"))
        if success is not None:
            fields["success"] = f"{success:.0%}"
        self.progress.update(
            self.tasks[key], completed=min(int(row.get("step", 0)), self.total), **fields
        )
