"""Sparse vs human vs synthesised rewards on robotics tasks (Eureka-style experiment).

For each task: Eureka with the given LLM (I iterations x K samples, N steps per
candidate), then the best program, the sparse success reward and the human program from
reward_designers/library/ retrained on the same seeds and budget; success rates,
spread and the human-normalised score (method - sparse) / |human - sparse|.

    # the local Qwen2.5-Coder-1.5B server (bash ../shared/tools/local-coder-llm.sh serve)
    python examples/synthesis_robotics.py --llm openai:qwen2.5-coder-1.5b@http://127.0.0.1:8011/v1
    # a stronger model, larger budgets
    OPENAI_API_KEY=... python examples/synthesis_robotics.py --llm openai:gpt-4o-mini \\
        --iterations 5 --samples 8 --steps 200000 --seeds 5

Writes runs/experiments/synthesis_robotics/results.json and results.md (a Markdown
table); each task's synthesis run folder (with report.html) sits beside them.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

TASKS = [
    "agentgym/Reach-v0",
    "agentgym/MetaWorld-Reach-v0",
    "agentgym/MetaWorld-ButtonPress-v0",
    "agentgym/Hopper-v0",
    "agentgym/HalfCheetah-v0",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--llm", required=True)
    parser.add_argument("--tasks", nargs="*", default=TASKS)
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="env steps per candidate and per final seed (default: each task's preset, "
        "agentgym.presets; 30000 without one)",
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=700)
    parser.add_argument(
        "--repairs", type=int, default=0, help="repair rounds for programs that fail vetting"
    )
    parser.add_argument("--repair-mode", choices=("fix", "resample"), default="fix")
    parser.add_argument("--out", default="runs/experiments/synthesis_robotics")
    parser.add_argument(
        "--references-only",
        action="store_true",
        help="train only the sparse and human references (cached for the synthesis runs)",
    )
    parser.add_argument(
        "--reeval-steps",
        type=int,
        default=0,
        help="retrain each finished task's best program and the references with this "
        "many steps per seed (a larger budget than the search's)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    import agentgym  # noqa: F401
    from agentgym.reward_designers.synthesis import Synthesis, open_run

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    if args.references_only:
        references(args, out)
        return
    if args.reeval_steps:
        reevaluate(args, out)
        return
    for env_id in args.tasks:
        config = task_config(env_id, args)
        run, _ = open_run(config, out / env_id.split("/")[-1])
        start = time.monotonic()
        try:
            summary = Synthesis(config, run).run()
        except Exception as err:  # noqa: BLE001 (one task's failure is a result too)
            logging.exception("%s failed", env_id)
            results[env_id] = {"error": f"{type(err).__name__}: {err}", "run": str(run.path)}
            results_path.write_text(json.dumps(results, indent=2))
            continue
        usage = (
            json.loads((run.path / "llm_usage.json").read_text())
            if (run.path / "llm_usage.json").is_file()
            else {}
        )
        cands = [
            json.loads(p.read_text()) for p in sorted(run.path.glob("iter_*/sample_*/result.json"))
        ]
        results[env_id] = {
            "run": str(run.path),
            "wall_s": round(time.monotonic() - start, 1),
            "config": config.to_dict(),
            "candidates": [
                {
                    k: c.get(k)
                    for k in ("iteration", "index", "status", "code", "success", "repairs")
                }
                for c in cands
            ],
            "final": summary.get("final"),
            "human_normalised": summary.get("human_normalised"),
            "tokens": usage.get("totals"),
        }
        results_path.write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(table(results))
    print(table(results))


def task_config(env_id: str, args: argparse.Namespace):
    from agentgym.reward_designers.synthesis import SynthesisConfig

    return SynthesisConfig(
        env_id=env_id,
        designer="eureka",
        llm=args.llm,
        iterations=args.iterations,
        samples=args.samples,
        # Each task trains with its preset's learner and settings (agentgym.presets).
        steps=args.steps,
        final_steps=args.steps,
        final_seeds=args.seeds,
        max_tokens=args.max_tokens,
        repairs=args.repairs,
        repair_mode=args.repair_mode,
        temperature=0.8,
        eval_episodes=10,
    )


def references(args: argparse.Namespace, out: Path) -> None:
    """Sparse and human rewards on every task, same seeds and settings as the synthesis
    runs' final stage, so those find them in the reference cache."""
    from agentgym.reward_designers.synthesis import evaluate_rewards

    path = out / "references.json"
    done = json.loads(path.read_text()) if path.is_file() else {}
    for env_id in args.tasks:
        if env_id in done:
            continue
        cfg = task_config(env_id, args)
        learner, settings = cfg.training_settings(cfg.retrain_steps())
        start = time.monotonic()
        result = evaluate_rewards(
            env_id,
            {},
            list(range(args.seeds)),
            cfg.retrain_steps(),
            run_dir=out / "references" / env_id.split("/")[-1],
            learner=learner,
            config=settings,
        )
        result["wall_s"] = round(time.monotonic() - start, 1)
        done[env_id] = result
        path.write_text(json.dumps(done, indent=2))
        logging.info(
            "%s references: %s", env_id, {k: v["mean"] for k, v in result["rewards"].items()}
        )


def reevaluate(args: argparse.Namespace, out: Path) -> None:
    """The best program of each finished synthesis run against sparse and human, at
    ``--reeval-steps`` per seed (same learner settings as the search)."""
    from agentgym.reward_designers.synthesis import evaluate_rewards, human_normalised

    path = out / f"reeval_{args.reeval_steps}.json"
    done = json.loads(path.read_text()) if path.is_file() else {}
    for env_id in args.tasks:
        best = out / env_id.split("/")[-1] / "final" / "best_reward.py"
        if env_id in done or not best.is_file():
            continue
        cfg = task_config(env_id, args)
        learner, settings = cfg.training_settings(args.reeval_steps)
        start = time.monotonic()
        folder = out / f"reeval_{args.reeval_steps}" / env_id.split("/")[-1]
        folder.mkdir(parents=True, exist_ok=True)
        program = folder / "best_reward.py"
        program.write_text(best.read_text())
        result = evaluate_rewards(
            env_id,
            {"synthesised": str(program.resolve())},
            list(range(args.seeds)),
            args.reeval_steps,
            run_dir=folder,
            learner=learner,
            config=settings,
        )
        result["human_normalised"] = human_normalised(result)
        result["wall_s"] = round(time.monotonic() - start, 1)
        done[env_id] = result
        path.write_text(json.dumps(done, indent=2))
        logging.info(
            "%s at %d steps: %s",
            env_id,
            args.reeval_steps,
            {k: v["mean"] for k, v in result["rewards"].items()},
        )


def table(results: dict) -> str:
    lines = [
        "| task | sparse | human | synthesised | human-normalised | candidates (trained / total) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for env_id, r in results.items():
        if "error" in r:
            lines.append(f"| {env_id} | error: {r['error'][:80]} | | | | |")
            continue
        cands = r["candidates"]
        trained = sum(c["status"] == "trained" for c in cands)
        final = (r.get("final") or {}).get("rewards", {})

        def cell(label: str, final: dict = final) -> str:
            s = final.get(label)
            return "-" if s is None else f"{s['mean']:.2f} ± {s['std']:.2f}"

        hn = (r.get("human_normalised") or {}).get("synthesised")
        hn_text = (
            "-" if not final else ("undefined (human = sparse)" if hn is None else f"{hn:.2f}")
        )
        lines.append(
            f"| {env_id} | {cell('sparse')} | {cell('human')} | {cell('synthesised')} | {hn_text} | "
            f"{trained} / {len(cands)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
