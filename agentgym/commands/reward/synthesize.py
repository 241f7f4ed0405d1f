"""Synthesise a reward program with an LLM: Eureka or Text2Reward, optional critique.

    agentgym reward synthesize --env agentgym/Reach-v0 --designer eureka \\
        --llm openai:gpt-4o-mini --iterations 3 --samples 4 --steps 50000 [--critic] [--analyser]

Candidates train with the env's training preset (``agentgym.presets``: Reach trains with
SAC, K candidates batched in ``sac-population``) unless ``--learner`` or ``--no-preset``
says otherwise; every field of the learner's config is an option, laid over the preset.
Every prompt, reply, verdict, training curve and reflection lands in the run folder with
``best_reward.py`` and ``report.html``. Kill it at any moment and rerun the same command
(or ``--resume DIR``): finished candidates are not retrained and cached replies cost nothing.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from agentgym.executors.options import add_executor_options

WAITING = 3
"""Exit status of a run that stopped to wait for a person's ranking (icpl)."""

HELP = (
    "synthesise a reward program with an LLM (eureka, text2reward, structured; "
    "--critic, --analyser)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    from agentgym.commands._task_options import add_task_options

    parser.add_argument("--env", help="agentgym env id, e.g. agentgym/Reach-v0")
    add_task_options(parser, "env")
    parser.add_argument(
        "--designer",
        default="eureka",
        help="eureka, text2reward, structured (JSON sketches compiled to programs), icpl "
        "(preference rounds: you rank the policies' videos) or library (no LLM)",
    )
    parser.add_argument(
        "--ranker",
        choices=("human", "terminal", "proxy"),
        default=None,
        help="icpl: who ranks each iteration's policies: human (a page served by "
        "`agentgym reward rank RUN`; the run stops until then), terminal (asked here) or "
        "proxy (success, then task fitness; no person). Default: human",
    )
    parser.add_argument(
        "--form",
        choices=("code", "sketch"),
        default=None,
        help="icpl: how the LLM writes each candidate: code (free-form Python) or sketch "
        "(the structured designer's JSON sketches, compiled). Default: code",
    )
    parser.add_argument(
        "--llm",
        default=None,
        help="LLM spec, e.g. openai:gpt-4o-mini or "
        "openai:MODEL@http://127.0.0.1:8011/v1 (default: $AGENTGYM_LLM)",
    )
    parser.add_argument("--iterations", type=int, default=2, help="I: iterations (default 2)")
    parser.add_argument(
        "--samples", type=int, default=4, help="K: programs per iteration (default 4)"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="N: env steps per candidate (default: the preset's search_steps, else 30000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed of every candidate")
    parser.add_argument(
        "--final-seeds", type=int, default=3, help="M: seeds the best is retrained on (default 3)"
    )
    parser.add_argument(
        "--final-steps",
        type=int,
        default=None,
        help="steps of the final retraining (default: the preset's steps, else N)",
    )
    parser.add_argument(
        "--no-references", action="store_true", help="skip the sparse and human references"
    )
    parser.add_argument(
        "--critic", action="store_true", help="reward critic checks each program before training"
    )
    parser.add_argument(
        "--analyser", action="store_true", help="trajectory analyser feeds failed episodes back"
    )
    parser.add_argument(
        "--few-shot", type=int, default=0, help="text2reward: library examples in the prompt"
    )
    parser.add_argument(
        "--repairs",
        type=int,
        default=0,
        help="rounds in which a program that fails vetting goes back to the LLM with its "
        "error for a fix before training (default 0: Eureka's behaviour)",
    )
    parser.add_argument(
        "--allow-constant",
        action="store_true",
        help="train programs whose reward is constant on the recorded states "
        "(default: reject them with code CONSTANT before training)",
    )
    parser.add_argument(
        "--no-trajectory-filter",
        action="store_true",
        help="train programs whose returns rank the expert's successful recorded episodes "
        "below failed ones (default: reject them with code PREFERENCE before training, on "
        "envs with a scripted expert)",
    )
    parser.add_argument(
        "--repair-mode",
        choices=("fix", "resample"),
        default="fix",
        help="fix: send the program and its error back; resample: draw a fresh program "
        "from the iteration's prompt (default fix)",
    )
    parser.add_argument(
        "--tune",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="tune the weights, scales and temperatures of each iteration's best program "
        "with optuna's TPE, each round's trials trained as one population (default: on for "
        "structured, off for eureka and text2reward)",
    )
    parser.add_argument("--tune-rounds", type=int, default=2, help="tuning rounds per iteration")
    parser.add_argument(
        "--tune-trials", type=int, default=4, help="settings per tuning round (one batch)"
    )
    parser.add_argument(
        "--feedback",
        choices=("auto", "human"),
        default="auto",
        help="text2reward: feedback written from training results, or typed by you",
    )
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--max-tokens", type=int, default=1024)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument(
        "--templates", default=None, help="folder of Jinja2 templates overriding the packaged ones"
    )
    parser.add_argument(
        "--out", default=None, help="run folder (default: runs/synthesize-<env>-<designer>-<hash>)"
    )
    parser.add_argument(
        "--resume", default=None, metavar="DIR", help="continue the synthesis run in DIR"
    )
    add_sandbox_option(parser)
    parser.add_argument(
        "--candidates-share-worker",
        action="store_true",
        help="run the K candidates' programs inside their shared training worker instead of "
        "each in a serving worker of its own: faster on a busy machine, but one candidate's "
        "code could then write another's training folder (docs/sandbox.md)",
    )
    add_training_options(parser)
    add_executor_options(parser)


def add_sandbox_option(parser: argparse.ArgumentParser) -> None:
    """--allow-weak-sandbox (shared by ``reward synthesize`` and ``reward eval``)."""
    parser.add_argument(
        "--allow-weak-sandbox",
        action="store_true",
        help="run LLM-written or downloaded reward programs even where the sandbox is weaker "
        "than bubblewrap (the refusal says what it does not stop)",
    )


def apply_sandbox_option(args: argparse.Namespace) -> None:
    if getattr(args, "allow_weak_sandbox", False):
        import os

        from agentgym.sandbox.policy import ALLOW_WEAK_VAR

        # An environment variable, so that every worker and env subprocess inherits it.
        os.environ[ALLOW_WEAK_VAR] = "1"


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """--learner, --no-preset and every field of the population learners' configs (shared
    by ``reward synthesize`` and ``reward eval``)."""
    from agentgym.learners import POPULATIONS
    from agentgym.reward_designers.synthesis.config import PER_RUN_FIELDS
    from agentgym.runs.options import add_learner_options

    parser.add_argument(
        "--learner",
        default=None,
        help="ppo | sac: candidates train K at a time with its population learner "
        "(default: the env's preset's learner, else ppo)",
    )
    parser.add_argument(
        "--no-preset",
        action="store_true",
        help="ignore the env's training preset (agentgym.presets) and start from the "
        "learner's defaults",
    )
    add_learner_options(parser, skip=PER_RUN_FIELDS, learners=sorted(POPULATIONS))


def training_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """SynthesisConfig's learner, use_preset and training (the learner fields given)."""
    from agentgym.learners import POPULATIONS
    from agentgym.reward_designers.synthesis.config import PER_RUN_FIELDS
    from agentgym.runs.options import given_values, learner_option_groups

    options = [
        opt
        for _, _, group in learner_option_groups(PER_RUN_FIELDS, sorted(POPULATIONS))
        for opt in group
        if opt.name not in PER_RUN_FIELDS
    ]
    return {
        "learner": args.learner,
        "use_preset": not args.no_preset,
        "training": given_values(args, options),
    }


def config_from_args(args: argparse.Namespace) -> Any:
    from agentgym.reward_designers.synthesis import DESIGNERS, SynthesisConfig
    from agentgym.runs.options import check_learner_flags

    DESIGNERS.get(args.designer)  # did-you-mean before anything else
    llm = args.llm or os.environ.get("AGENTGYM_LLM")
    if args.designer == "library":
        llm = llm if (args.critic or args.analyser) else None
    elif not llm:
        raise ValueError(
            "--llm: no LLM given; pass a spec such as openai:gpt-4o-mini or set AGENTGYM_LLM "
            "(or use --designer library, which needs none)"
        )
    else:
        from agentgym.llm import parse_spec

        parse_spec(llm)
    if not args.env:
        raise ValueError("--env: an env id is required (e.g. agentgym/Reach-v0), or --resume DIR")
    config = SynthesisConfig(
        env_id=args.env,
        designer=args.designer,
        llm=llm,
        iterations=args.iterations,
        samples=args.samples,
        steps=args.steps,
        seed=args.seed,
        final_seeds=args.final_seeds,
        final_steps=args.final_steps,
        references=not args.no_references,
        critic=args.critic,
        analyser=args.analyser,
        few_shot=args.few_shot,
        ranker=args.ranker,
        form=args.form,
        repairs=args.repairs,
        repair_mode=args.repair_mode,
        tune=args.tune,
        tune_rounds=args.tune_rounds,
        tune_trials=args.tune_trials,
        reject_constant=not args.allow_constant,
        trajectory_filter=not args.no_trajectory_filter,
        serve_programs=not args.candidates_share_worker,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        eval_episodes=args.eval_episodes,
        template_dir=args.templates,
        **training_from_args(args),
    )
    plan = config.resolved()
    check_learner_flags(plan.learner, config.training, preset=None if args.learner else plan.preset)
    return config


class SynthesisView:
    """A rich live table: one row per iteration (received, vetted, training, best, tokens)."""

    def __init__(self, console: Any, iterations: int, samples: int) -> None:
        from rich.live import Live

        self.console = console
        self.samples = samples
        self.rows: dict[int, dict[str, Any]] = {}
        self.best: float | None = None
        self.tokens = 0
        self.stage = "starting"
        self.live = Live(self._table(), console=console, refresh_per_second=4, transient=False)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=f"reward synthesis — {self.stage}")
        for col in (
            "iteration",
            "received",
            "vetted",
            "rejected",
            "training",
            "trained",
            "best success so far",
            "tokens",
        ):
            table.add_column(col)
        for it, row in sorted(self.rows.items()):
            table.add_row(
                str(it),
                f"{row.get('received', 0)}/{self.samples}",
                str(row.get("passed", "-")),
                str(row.get("rejected", "-")),
                row.get("training", "-"),
                str(row.get("trained", "-")),
                "-" if self.best is None else f"{self.best:.0%}",
                f"{self.tokens:,}",
            )
        return table

    def __enter__(self) -> SynthesisView:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def update(self, kind: str, data: dict[str, Any]) -> None:
        self.tokens = data.get("tokens", self.tokens)
        it = data.get("iteration")
        row = self.rows.setdefault(it, {}) if it is not None else {}
        if kind == "iteration":
            self.stage = f"iteration {it}: sampling"
        elif kind == "received":
            row["received"] = data["received"]
        elif kind == "vetted":
            row["passed"], row["rejected"] = data["passed"], data["rejected"]
            self.stage = f"iteration {it}: vetted"
        elif kind == "repair":
            self.stage = (
                f"iteration {it}: asking for a fix of sample {data['sample']} ({data['code']})"
            )
        elif kind == "criticised":
            row["passed"] = data["passed"]
            row["rejected"] = row.get("rejected", 0) + data["rejected"]
        elif kind == "training":
            row["training"] = f"{data['training']} @ 0/{data['total_steps']:,}"
            row["n_training"] = data["training"]
            self.stage = f"iteration {it}: training {data['training']} candidates"
        elif kind == "train_progress":
            row["training"] = (
                f"{row.get('n_training', '?')} @ {data['step']:,}/{data['total_steps']:,}"
            )
        elif kind == "iteration_done":
            row["trained"] = sum(c["status"] == "trained" for c in data["candidates"])
            row["training"] = "done"
            if data.get("best_success") is not None:
                self.best = data["best_success"]
        elif kind == "tuning":
            self.stage = f"iteration {it}: tuning round {data['round']} ({data['trials']} trials)"
        elif kind == "final":
            self.stage = f"retraining the best on {data['seeds']} seeds with the references"
        elif kind == "done":
            self.stage = "done"
        self.live.update(self._table())


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console
    from rich.markup import escape
    from rich.prompt import Prompt

    from agentgym.executors.options import executor_from_args
    from agentgym.llm import LLMError
    from agentgym.registry import UnknownNameError
    from agentgym.reward_designers.synthesis import Synthesis, open_run, resume_config
    from agentgym.reward_designers.synthesis.designers import AwaitingFeedback
    from agentgym.runs.interrupts import Caught, interrupt_on_sigterm
    from agentgym.runs.rundir import RunExistsError, RunNotFoundError
    from agentgym.sandbox.policy import WeakSandboxError, require_strong_isolation

    console = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    apply_sandbox_option(args)
    try:
        if args.resume:
            config = resume_config(args.resume)
            out = args.resume
        else:
            config = config_from_args(args)
            import agentgym  # noqa: F401  (registers the envs)

            gym.spec(config.env_id)
            out = args.out
        executor = executor_from_args(args)
        if config.designer != "library":  # before a run folder is made
            require_strong_isolation("LLM-written reward programs")
        run_dir, resumed = open_run(config, out)
    except (
        WeakSandboxError,
        ValueError,
        UnknownNameError,
        gym.error.Error,
        RunExistsError,
        RunNotFoundError,
        LLMError,
    ) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    label = config.designer + (
        " (no LLM: human programs from the library)" if config.designer == "library" else ""
    )
    console.print(
        f"{'resuming' if resumed else 'synthesising'} a reward for {config.env_id} with {label}"
        f"{'' if not config.llm else ', LLM ' + config.llm}; run folder {run_dir.path}"
    )
    ask = None
    if config.designer == "text2reward" and getattr(args, "feedback", "auto") == "human":

        def ask(summary: str, source: str) -> str:
            console.print(f"\n[bold]Training results:[/bold] {escape(summary)}")
            return Prompt.ask(
                "Your feedback on the policy (empty: write it from the results)", default=""
            )

    rank = None
    if config.designer == "icpl" and config.ranker == "terminal":
        from agentgym.commands.reward.rank import ask_order

        def rank(iteration: int, shown: list[dict[str, Any]], page: Any) -> list[int]:
            return ask_order(console, iteration, shown, page)

    caught = Caught()
    try:
        with (
            interrupt_on_sigterm() as caught,
            SynthesisView(console, config.iterations, config.samples) as view,
        ):
            summary = Synthesis(
                config, run_dir, on_event=view.update, ask=ask, rank=rank, executor=executor
            ).run()
    except AwaitingFeedback as wait:
        console.print(f"{escape(str(wait))}\nthen continue with: {escape(wait.resume)}")
        return WAITING
    except (LLMError, ValueError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    except KeyboardInterrupt:
        err.print(
            "interrupted; finished candidates are kept, continue with: "
            f"agentgym reward synthesize --resume {escape(str(run_dir.path))}"
        )
        return caught.exit_code
    best = summary.get("best")
    if best is None:
        console.print(
            "no candidate trained successfully; see the report for every rejection and error"
        )
    else:
        console.print(
            f"best: {best['iteration']:02d}/{best['index']:02d} success {best['success']:.0%} "
            f"-> {run_dir.path / 'best_reward.py'}"
        )
    for label_, score in (summary.get("human_normalised") or {}).items():
        console.print(
            f"human-normalised score ({label_}): {'undefined' if score is None else f'{score:.2f}'}"
        )
    console.print(f"report: {run_dir.report_path}")
    return 0
