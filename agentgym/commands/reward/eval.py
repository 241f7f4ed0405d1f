"""Evaluate a reward on the task's success metric over seeds.

    agentgym reward eval --env agentgym/Reach-v0 --reward runs/.../best_reward.py --seeds 3

Trains the reward on each seed (all seeds in one sandbox worker, batched by the population
learner of the env's preset, or of ``--learner``) for the preset's budget (or ``--steps``)
and prints the evaluation success mean and spread, next to the sparse and human references
and the human-normalised score (references are cached per env, learner and every field of
its config). eval.json records the learner, its config and the preset.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agentgym.commands.reward.synthesize import (
    add_sandbox_option,
    add_training_options,
    apply_sandbox_option,
    training_from_args,
)
from agentgym.executors.options import add_executor_options

STEPS = 100_000
"""Env steps per seed when the env has no preset."""

HELP = "success of a reward over seeds, with sparse/human references and the human-normalised score"


def configure(parser: argparse.ArgumentParser) -> None:
    from agentgym.commands._task_options import add_task_options

    parser.add_argument("--env", default=None, help="agentgym env id (or give --task)")
    add_task_options(parser, "env")
    parser.add_argument(
        "--reward", required=True, help="reward spec: a program path, sparse, env, ..."
    )
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="env steps per seed (default: the preset's steps, else 100000)",
    )
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument(
        "--no-references", action="store_true", help="skip the sparse and human references"
    )
    parser.add_argument(
        "--out", default=None, help="folder for the training runs (default: runs/eval-<env>-<n>)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_sandbox_option(parser)
    add_training_options(parser)
    add_executor_options(parser)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    import agentgym  # noqa: F401
    from agentgym.catalog import check_rewards, env_spec
    from agentgym.commands._progress import StepProgress
    from agentgym.executors.options import executor_from_args
    from agentgym.reward_designers.synthesis import (
        SynthesisConfig,
        evaluate_rewards,
        human_normalised,
    )
    from agentgym.runs.interrupts import Caught, interrupt_on_sigterm
    from agentgym.runs.options import check_learner_flags
    from agentgym.runs.training import resolve_spec_paths

    err = Console(stderr=True, soft_wrap=True)
    if args.env is None:
        err.print("[red]error:[/red] --env: an env id is required (or --task FILE)")
        return 2
    apply_sandbox_option(args)
    try:
        env_spec(args.env)  # did-you-mean, agentgym ids first
        reward = resolve_spec_paths(args.reward)
        check_rewards(args.env, [reward])
        if args.seeds <= 0 or (args.steps is not None and args.steps <= 0):
            raise ValueError("--seeds and --steps: expected positive ints")
        # The final retraining of a synthesis run is this very evaluation: one config.
        cfg = SynthesisConfig(
            env_id=args.env,
            final_steps=args.steps,
            eval_episodes=args.eval_episodes,
            **training_from_args(args),
        )
        plan = cfg.resolved()
        check_learner_flags(plan.learner, cfg.training, None if args.learner else plan.preset)
        steps = args.steps or (cfg.retrain_steps() if plan.preset else STEPS)
        learner, settings = cfg.training_settings(steps)
        executor = executor_from_args(args)
    except Exception as exc:  # noqa: BLE001 (every user error gets the same clean message)
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    out = Path(args.out) if args.out else Path("runs") / f"eval-{args.env.split('/')[-1]}-{steps}"
    # A program travels inside the worker's folder (bubblewrap shows it nothing else).
    out.mkdir(parents=True, exist_ok=True)
    if Path(reward).is_file():
        copy = out / Path(reward).name
        copy.write_text(Path(reward).read_text())
        reward = str(copy.resolve())
    seeds = list(range(args.seeds))
    # On stderr, so that --json keeps stdout to the JSON alone.
    what = f"training {args.seeds} seed(s) of each reward ({learner})"
    caught = Caught()
    try:
        # SIGTERM (a batch system's stop) ends it as Ctrl-C does: the running workers are
        # stopped and what they wrote stays in the run folder.
        with interrupt_on_sigterm() as caught, StepProgress(err, what, steps) as progress:
            results = evaluate_rewards(
                args.env,
                {"reward": reward},
                seeds,
                steps,
                run_dir=out,
                learner=learner,
                config=settings,
                references=not args.no_references,
                on_progress=progress.update,
                executor=executor,
            )
    except KeyboardInterrupt:
        err.print(
            f"interrupted; the runs so far are in {escape(str(out))} (run it again to retrain)"
        )
        return caught.exit_code
    results["human_normalised"] = human_normalised(results)
    given = {"total_steps"} if args.steps is not None else set()
    results["preset"] = {"name": plan.preset, "overrides": sorted({*plan.overrides, *given})}
    results["config"] = {**settings, "total_steps": steps}
    (out / "eval.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(results) + "\n")
        return 0
    console = Console(soft_wrap=True)
    table = Table(
        title=f"{args.env}: success over {args.seeds} seeds, {steps:,} steps each ({learner})"
    )
    for col in ("reward", "mean", "std", "per seed"):
        table.add_column(col)
    for label, s in results["rewards"].items():
        table.add_row(
            label + (" (cached)" if s.get("cached") else ""),
            f"{s['mean']:.3f}",
            f"{s['std']:.3f}",
            ", ".join(f"{x:.2f}" for x in s["success"]),
        )
    console.print(table)
    for score in results["human_normalised"].values():
        console.print(
            f"human-normalised score: {'undefined (human = sparse)' if score is None else f'{score:.3f}'}"
        )
    console.print(f"results: {out / 'eval.json'}")
    return 0
