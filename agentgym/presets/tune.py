"""Search a task's preset with optuna (TPE), scored by the human reward's success.

    python -m agentgym.presets.tune --env agentgym/Reach-v0 --learner sac --steps 30000 --trials 16

Each trial trains the env's own (human) reward on ``--seeds`` seeds at once (the
population learner: one process, networks batched, so a trial costs about one run) for
``--steps`` env steps and scores the mean evaluation success, then the mean evaluation
return to break ties. The study lives in an SQLite file (``--storage``), so a stopped
search resumes where it was; the best trial's settings and its measured success are
printed as a ``Preset(...)`` to paste into the family's presets.py, and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

PPO_SPACE: dict[str, tuple[str, Any]] = {
    "num_envs": ("categorical", (16, 32, 64)),
    "num_steps": ("categorical", (8, 16, 32)),
    "learning_rate": ("log", (3e-4, 1e-2)),
    "gamma": ("categorical", (0.8, 0.9, 0.95, 0.98)),
    "gae_lambda": ("categorical", (0.8, 0.9, 0.95)),
    "init_log_std": ("float", (-2.0, -0.3)),
    "update_epochs": ("categorical", (5, 10, 20)),
    "num_minibatches": ("categorical", (1, 2, 4)),
    "max_grad_norm": ("categorical", (0.5, 1.0, 5.0)),
}
"""PPOConfig fields searched, with optuna's kind of distribution and its range."""

SAC_SPACE: dict[str, tuple[str, Any]] = {
    "num_envs": ("categorical", (1, 2, 4, 8)),
    "learning_rate": ("log", (1e-4, 3e-3)),
    "gamma": ("categorical", (0.8, 0.9, 0.95, 0.98, 0.99)),
    "batch_size": ("categorical", (64, 128, 256, 512)),
    "tau": ("categorical", (0.005, 0.01, 0.02, 0.05)),
    "learning_starts": ("categorical", (500, 1000, 5000)),
    "hidden_sizes": ("width", (64, 128, 256)),
}
"""SACConfig fields searched; ``width`` is a two-layer network of that width."""

SPACES = {"ppo": PPO_SPACE, "sac": SAC_SPACE}


def suggest(trial: Any, space: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, (kind, choices) in space.items():
        if kind == "width":
            width = trial.suggest_categorical(name, list(choices))
            values[name] = (width, width)
        elif kind == "categorical":
            values[name] = trial.suggest_categorical(name, list(choices))
        elif kind == "log":
            values[name] = trial.suggest_float(name, *choices, log=True)
        else:
            values[name] = trial.suggest_float(name, *choices)
    return values


def score(
    env_id: str,
    values: dict[str, Any],
    steps: int,
    seeds: list[int],
    eval_episodes: int,
    learner: str = "ppo",
) -> dict[str, float]:
    """Mean evaluation success and return of the env's reward over ``seeds``, one batched run."""
    from agentgym.learners import LEARNERS, population_learner

    # A trial's seeds train together in the learner's population mode (one process).
    population_class = LEARNERS.get(population_learner(learner))
    base = population_class.config_class(
        env_id=env_id,
        reward="env",
        total_steps=steps,
        seed=seeds[0],
        device="cpu",
        eval_episodes=eval_episodes,
        checkpoint_every=0,
        **values,
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        dirs = [Path(tmp) / f"s{s}" for s in seeds]
        population = population_class(base, ["env"] * len(seeds), seeds, dirs)
        try:
            finals = population.learn_all()
        finally:
            population.close()
    success = [float(f.get("eval/success_rate") or 0.0) for f in finals]
    returns = [float(f.get("eval/mean_return") or 0.0) for f in finals]
    return {
        "success": sum(success) / len(success),
        "return": sum(returns) / len(returns),
        "wall_s": time.perf_counter() - start,
    }


def main(argv: list[str] | None = None) -> int:
    import optuna

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    parser.add_argument(
        "--learner", choices=sorted(SPACES), default=None, help="default: the preset's, or ppo"
    )
    parser.add_argument("--steps", type=int, required=True, help="env steps per trial and seed")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--storage", default=None, help="sqlite file (default: runs/tune-<env>.db)")
    parser.add_argument("--out", default=None, help="JSON of the best trial")
    args = parser.parse_args(argv)
    from agentgym.presets import preset_for

    preset = preset_for(args.env)
    learner = args.learner or (preset.learner if preset else "ppo")
    if learner not in SPACES:
        parser.error(
            f"--learner: the env's preset uses {learner!r}; search one of {sorted(SPACES)}"
        )
    short = args.env.split("/")[-1]
    storage = Path(args.storage or f"runs/tune-{short}.db")
    storage.parent.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        # PPO studies keep the name they had before SAC could be searched (they resume).
        study_name=f"{short}-{args.steps}"
        if learner == "ppo"
        else f"{short}-{learner}-{args.steps}",
        storage=f"sqlite:///{storage}",
        load_if_exists=True,
        directions=["maximize"],
        sampler=optuna.samplers.TPESampler(seed=0),
    )

    def objective(trial: Any) -> float:
        values = suggest(trial, SPACES[learner])
        result = score(args.env, values, args.steps, args.seeds, args.eval_episodes, learner)
        for key, value in result.items():
            trial.set_user_attr(key, value)
        # Success decides; the return (negative distances, costs) only orders equal successes.
        return result["success"] + 1e-3 * max(min(result["return"], 1e3), -1e3) / 1e3

    done = len([t for t in study.trials if t.state.name == "COMPLETE"])
    study.optimize(objective, n_trials=max(args.trials - done, 0))
    best = study.best_trial
    report = {
        "env_id": args.env,
        "learner": learner,
        "steps": args.steps,
        "seeds": args.seeds,
        "trials": len(study.trials),
        "best": best.params,
        "measured": best.user_attrs,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
