"""The synthesis benchmark: designers x tasks x seeds with one named LLM and budget.

    python -m bench.synthesis --llm openai:qwen2.5-coder-1.5b@http://127.0.0.1:8011/v1
    python -m bench.synthesis --llm ... --tasks agentgym/Reach-v0 --designers structured \\
        --iterations 2 --samples 4 --steps 20000 --final-seeds 3 --out bench/results/synthesis

Writes ``<out>/table.md`` and ``<out>/table.json`` (the Eureka-style table: per task the
human-normalised score, the share of samples that trained, LLM tokens, wall time), each
cell a synthesis run folder under ``<out>``. Rerunning the same command resumes: finished
cells are read back (no LLM request, no training), an unfinished one continues from its
run folder and its LLM cache. Not a timed test (``python -m bench`` does not run it): a
full grid with a local 1.5B model takes hours. The task set and why:
``agentgym.reward_designers.synthesis.benchmark``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from agentgym.reward_designers.synthesis.benchmark import (
    DESIGNERS,
    TASKS,
    BenchmarkConfig,
    run_benchmark,
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.synthesis", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--llm",
        default=os.environ.get("AGENTGYM_LLM"),
        help="LLM spec, e.g. openai:<model>@<base url> (default: $AGENTGYM_LLM)",
    )
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--designers", nargs="+", default=list(DESIGNERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--steps", type=int, default=None, help="per candidate (default: preset)")
    parser.add_argument("--final-seeds", type=int, default=3)
    parser.add_argument("--final-steps", type=int, default=None)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=JSON",
        help="another SynthesisConfig field for every cell, e.g. --set repairs=1 "
        "--set tune=false --set 'training={\"num_envs\": 8}'",
    )
    parser.add_argument("--out", default="bench/results/synthesis")
    args = parser.parse_args(argv)
    if not args.llm:
        parser.error("--llm: give an LLM spec (or set AGENTGYM_LLM)")
    extra = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: expected FIELD=JSON")
        try:
            extra[name] = json.loads(value)
        except json.JSONDecodeError:
            extra[name] = value  # a bare string, e.g. --set repair_mode=resample
    config = BenchmarkConfig(
        llm=args.llm,
        tasks=tuple(args.tasks),
        designers=tuple(args.designers),
        seeds=tuple(args.seeds),
        iterations=args.iterations,
        samples=args.samples,
        steps=args.steps,
        final_seeds=args.final_seeds,
        final_steps=args.final_steps,
        synthesis=extra,
    )

    def show(kind: str, data: dict) -> None:
        if kind in ("cell", "iteration_done", "tuned", "final", "done"):
            keys = ("task", "designer", "seed", "iteration", "best_success", "text", "seeds")
            print(kind, {k: data[k] for k in keys if k in data}, flush=True)

    run_benchmark(config, args.out, on_event=show)
    print(open(os.path.join(args.out, "table.md")).read())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
