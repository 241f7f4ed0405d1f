"""Train a policy on an env and a reward, into a run folder with a report.

    agentgym train --env agentgym/Reach-v0 --reward reward_designers/library/reach.py \\
                   --learner ppo --steps 100000 --seed 0
    agentgym train --learner population --reward a.py --reward b.py --reward c.py ...
    agentgym train --learner sb3-ppo ...          # stable-baselines3's PPO, same settings
    agentgym train --resume runs/20261122-101500-train-Reach

The run folder (runs/<date>-train-<env>/ or --out) holds config.yaml, manifest.json,
logs/metrics.jsonl, logs/tb/, checkpoints/, videos/ and report.html. Every PPOConfig
field is an option below; its help is the field's docstring.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from agentgym.commands._progress import BarOrLines

if TYPE_CHECKING:
    from agentgym.runs.options import FieldOption

HELP = "train PPO (ours, a population, or SB3's) or SAC on an env and reward; writes a run folder"

# run() turns evaluation videos on where the env renders, whatever the dataclass says.
VIDEO_DEFAULT = "on for envs that render rgb_array frames, else off"

# --env, --steps and --reward stand for these PPOConfig fields.
ALIASES = {"env_id": "--env", "total_steps": "--steps", "reward": "--reward"}


def _learner_names() -> list[str]:
    from agentgym.learners import LEARNERS

    return LEARNERS.names()


def _all_options() -> list[FieldOption]:
    from agentgym.runs.options import learner_option_groups

    return [opt for _, _, options in learner_option_groups(ALIASES) for opt in options]


def configure(parser: argparse.ArgumentParser) -> None:
    from agentgym.runs.options import add_learner_options

    main = parser.add_argument_group("run")
    main.add_argument(
        "--env",
        dest="env_id",
        default=argparse.SUPPRESS,
        help="Gymnasium env id, e.g. agentgym/Reach-v0 or CartPole-v1 (default: agentgym/Reach-v0)",
    )
    from agentgym.commands._task_options import add_task_options

    add_task_options(parser, "env_id")
    main.add_argument(
        "--reward",
        action="append",
        default=None,
        metavar="SPEC",
        help="reward spec: env, sparse, a .py program, a weighted sum, KIND:ARGS; "
        "give it once per member with --learner population (default: env); a program "
        "file is vetted and runs in a sandbox worker, library:NAME names a shipped one",
    )
    main.add_argument(
        "--trust-reward",
        action="append",
        default=None,
        metavar="PATH",
        help="a reward program run unvetted in this process, as --reward trust:PATH: only "
        "for code you wrote",
    )
    main.add_argument(
        "--allow-weak-sandbox",
        action="store_true",
        help="run untrusted reward programs even where the sandbox is weaker than "
        "bubblewrap (the refusal says what it does not stop)",
    )
    main.add_argument(
        "--learner",
        default=None,
        help=f"{' | '.join(_learner_names())} (default: the env's preset's learner, else ppo)",
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
    main.add_argument(
        "--no-preset",
        action="store_true",
        help="ignore the env's training preset (agentgym.presets) and start from the "
        "learner's defaults",
    )
    add_learner_options(parser, skip=ALIASES, defaults={"video": VIDEO_DEFAULT})


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import os
    import sys

    import gymnasium as gym
    from rich.console import Console

    from agentgym.catalog import renders
    from agentgym.learners import LEARNER_CONFIGS
    from agentgym.presets import resolve
    from agentgym.registry import UnknownNameError
    from agentgym.rewards import RewardSpecError
    from agentgym.runs.interrupts import Caught, interrupt_on_sigterm
    from agentgym.runs.options import check_learner_flags, given_values
    from agentgym.runs.report import format_value
    from agentgym.runs.resume import RunFinishedError
    from agentgym.runs.rundir import RunDir, RunExistsError, RunNotFoundError
    from agentgym.runs.training import start_training_run, train_run
    from agentgym.sandbox.policy import WeakSandboxError

    console = Console()
    err_console = Console(stderr=True, soft_wrap=True)  # no wrapping inside paths and names
    if args.allow_weak_sandbox:
        from agentgym.sandbox.policy import ALLOW_WEAK_VAR

        # An environment variable, so the learner's env subprocesses inherit the choice.
        os.environ[ALLOW_WEAK_VAR] = "1"
    given_rewards = bool(args.reward)
    args.reward = (args.reward or []) + [f"trust:{p}" for p in args.trust_reward or []] or None
    values = given_values(args, [o for o in _all_options() if o.name not in ALIASES])
    for name in ("env_id", "total_steps"):
        if hasattr(args, name):
            values[name] = getattr(args, name)
    steps: int | None = None
    try:
        if args.resume:
            # --steps may extend the budget; every other setting is the stored one.
            steps = values.pop("total_steps", None)
            # --trust-reward is allowed: a run that trusts a program must be trusted again.
            extra = sorted(set(values) | ({"reward"} if given_rewards else set()))
            if extra:
                flags = ", ".join(ALIASES.get(k, "--" + k.replace("_", "-")) for k in extra)
                raise ValueError(
                    f"--resume continues a run with its stored config; drop {flags} "
                    "(start a new run to change them; --steps N extends the run to N steps)"
                )
            run_dir = RunDir.open(args.resume)
            resume = True
        else:
            values.setdefault("env_id", "agentgym/Reach-v0")
            plan = resolve(values["env_id"], args.learner, values, use_preset=not args.no_preset)
            check_learner_flags(
                plan.learner, values, preset=plan.preset if not args.learner else None
            )
            if values.get("rollout_backend") == "vllm":  # before a run folder is made
                from agentgym.learners.agent import require_vllm_rollouts

                require_vllm_rollouts()
            values = plan.values
            fields = {f.name for f in dataclasses.fields(LEARNER_CONFIGS.get(plan.learner))}
            if "video" in fields and "video" not in values:
                values["video"] = renders(values["env_id"])  # the report shows an eval video
            run_dir = start_training_run(
                learner=plan.learner,
                values=values,
                preset=plan.record(),
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
        WeakSandboxError,
        gym.error.Error,
        RunExistsError,
        RunNotFoundError,
        ImportError,
    ) as err:
        err_console.print(f"[red]error:[/red] {_escape(err)}")
        return 2
    console.print(f"run folder: {run_dir.path}")
    total = int(run_dir.read_config()["config"]["total_steps"])
    if resume and steps is not None:
        total = steps
    caught = Caught()
    try:
        with interrupt_on_sigterm() as caught, TrainProgress(console, total) as progress:
            final = train_run(
                run_dir,
                progress.update,
                resume=resume,
                total_steps=steps if resume else None,
                trusted=args.trust_reward or [],
            )
    except RunFinishedError as done:
        console.print(_escape(done), highlight=False)
        return 0
    except KeyboardInterrupt:
        err_console.print(f"interrupted; continue with: agentgym train --resume {run_dir.path}")
        return caught.exit_code
    except (ValueError, FileNotFoundError, NotImplementedError, ImportError) as err:
        err_console.print(f"[red]error:[/red] {_escape(err)}")
        return 2
    shown = {
        k: v
        for k, v in final.items()
        if k.startswith(("eval/", "best/eval/")) or k in ("step", "best_member", "status")
    }
    if shown:
        text = ", ".join(f"{k} {format_value(v, 3)}" for k, v in shown.items())
        console.print(text, highlight=False)
    console.print(f"report: {run_dir.report_path}")
    return 0


def _escape(err: BaseException) -> str:
    from rich.markup import escape

    return escape(str(err))


class TrainProgress(BarOrLines):
    """Training progress fed by the learners' log rows: steps, steps/s, return, success.

    A rich bar on a terminal; plain lines (``ProgressLines``) when output goes to a file.
    """

    def __init__(self, console: Any, total: int) -> None:
        super().__init__(
            console,
            "{task.fields[speed]} steps/s",
            "return {task.fields[ret]}",
            "success {task.fields[success]}",
        )
        self.total = total
        self.tasks: dict[Any, Any] = {}
        self.fields: dict[Any, dict[str, Any]] = {}

    def update(self, row: dict[str, Any]) -> None:
        """The learners' callback: one log row (population rows carry ``member``)."""
        key = row.get("member", "train")
        name = "train" if key == "train" else f"member {key}"
        if key not in self.tasks:
            self.fields[key] = {"description": name, "speed": "-", "ret": "-", "success": "-"}
            if self.lines is None:
                self.tasks[key] = self.progress.add_task(
                    name, total=self.total, speed="-", ret="-", success="-"
                )
            else:
                self.tasks[key] = key
        fields: dict[str, Any] = {}
        if row.get("status") not in (None, "RUNNING"):
            fields["description"] = f"{name} ({str(row['status']).lower()})"
        if "steps_per_s" in row:
            fields["speed"] = f"{row['steps_per_s']:,.0f}"
        if row.get("episode_return") is not None:
            fields["ret"] = f"{row['episode_return']:.3g}"
        success = row.get("eval/success_rate", row.get("success_rate"))
        if success is not None:
            fields["success"] = f"{success:.0%}"
        step = min(int(row.get("step", 0)), self.total)
        self.fields[key].update(fields)
        if self.lines is None:
            self.progress.update(self.tasks[key], completed=step, **fields)
            return
        shown = self.fields[key]
        if any(k.startswith("eval/") for k in row):  # few, and each one is news: never skipped
            ret = row.get("eval/mean_return")
            self.lines.line(
                f"{name}: evaluation at step {step:,}: success {shown['success']}"
                + (f", return {ret:.3g}" if ret is not None else ""),
                last=True,
            )
            return
        self.lines.line(
            f"{shown['description']}: step {step:,}/{self.total:,} ({step / max(self.total, 1):.0%}), "
            f"{shown['speed']} steps/s, return {shown['ret']}, success {shown['success']}",
            last=step >= self.total or "description" in fields,
        )
