"""The training presets, measured: sparse and human rewards retrained under each preset.

For every robotics task with a human reward program (reward_designers/library), train the
sparse reward and the human program on 3 seeds with ``agentgym reward eval`` (which uses
the env's training preset: learner, settings and budget), and write docs/presets.md: the
preset (learner, steps), the wall time of the 3 seeds here, and success and return of
both rewards. A task without a preset is listed with the defaults it would train with.

    .venv/bin/python scripts/preset_table.py                        # every task with a preset
    .venv/bin/python scripts/preset_table.py --tasks CartPole-v0 Reach-v0
    .venv/bin/python scripts/preset_table.py --all                  # tasks without one too
    .venv/bin/python scripts/preset_table.py --tasks Hopper-v0 --rewards human

Resumable: a finished evaluation folder (runs/preset-table/...) is read back, not redone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "presets.md"
DATA = ROOT / "docs" / "presets.json"


REFERENCE_RETURNS = {
    "agentgym/HalfCheetah-v0": (5800, 1440),
    "agentgym/Hopper-v0": (2400, 2380),
    "agentgym/Walker2d-v0": (3500, 2290),
}
"""Published returns of Gymnasium's locomotion rewards (our human programs) at 1M steps:
(rl-baselines3-zoo's tuned PPO, CleanRL's PPO defaults), the yardstick of issue #16."""


def tasks_with_human_reward() -> list[str]:
    """Robotics env ids whose task has a human reward program."""
    import agentgym  # noqa: F401
    from agentgym.catalog import env_ids, task_spec
    from agentgym.reward_designers.library import program_path

    found = []
    for env_id in env_ids():
        try:
            spec = task_spec(env_id)
            program_path(spec.name)
        except (FileNotFoundError, ValueError, TypeError):
            continue
        found.append(env_id)
    return found


def evaluate(
    env_id: str, reward: str, out: Path, seeds: int, eval_every: int = 0
) -> dict[str, Any]:
    """``agentgym reward eval`` of one reward (no references); its summary and wall time.
    ``eval_every`` > 0 also evaluates during training (the learning curves in each seed's
    ``logs/metrics.jsonl``); the summary is the final evaluation either way."""
    result = out / "eval.json"
    if not result.is_file():
        out.mkdir(parents=True, exist_ok=True)
        args = ["reward", "eval", "--env", env_id, "--reward", reward, "--seeds", str(seeds)]
        args += ["--no-references", "--out", str(out)]
        if eval_every:
            args += ["--eval-every", str(eval_every)]
        started = time.time()
        with (out / "eval.log").open("w") as log:
            done = subprocess.run(
                [sys.executable, "-m", "agentgym", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"reward eval {env_id} {reward} failed; see {out / 'eval.log'}")
        (out / "wall_s").write_text(f"{time.time() - started:.0f}\n")
        (out / "machine").write_text(machine_name() + "\n")
    data = json.loads(result.read_text())
    summary = next(iter(data["rewards"].values()))
    machine = (out / "machine").read_text().strip() if (out / "machine").is_file() else None
    return {**summary, "wall_s": int((out / "wall_s").read_text()), "machine": machine}


def machine_name() -> str:
    """The CPU (and GPU) that a measurement ran on, as the table names it."""
    from agentgym.runs.manifest import machine_info

    m = machine_info()
    return f"{m.get('cpu')}, {m.get('cores')} cores" + (f", {m['gpu']}" if m.get("gpu") else "")


def measure(
    env_id: str,
    root: Path,
    seeds: int,
    rewards: tuple[str, ...] = ("sparse", "human"),
    earlier: dict[str, Any] | None = None,
    eval_every: int = 0,
) -> dict[str, Any]:
    """The row of one task: its preset and the summary of each reward in ``rewards``. A
    reward not asked for keeps its summary from ``earlier`` (the row in docs/presets.json)
    when that was measured under the same preset, so measuring one reward does not drop
    the other."""
    import agentgym  # noqa: F401
    from agentgym.catalog import task_spec
    from agentgym.presets import preset_for
    from agentgym.reward_designers.library import program_path

    preset = preset_for(env_id)
    short = env_id.split("/")[-1]
    human = str(program_path(task_spec(env_id).name))
    row: dict[str, Any] = {
        "preset": None
        if preset is None
        else {"learner": preset.learner, "steps": preset.steps, "config": dict(preset.config)},
        "seeds": seeds,
    }
    # JSON turns tuples into lists: compare the presets as JSON would hold them.
    same = earlier is not None and json.loads(json.dumps(row)) == {
        "preset": earlier.get("preset"),
        "seeds": earlier.get("seeds"),
    }
    # One work folder per preset: a changed preset (budget, settings, learner) trains again
    # instead of reading the eval.json of the one before.
    key = hashlib.sha256(json.dumps(row, sort_keys=True, default=list).encode()).hexdigest()[:8]
    labels = (("sparse", "sparse"), ("human", human))
    for label, spec in labels:
        folder = root / short / key / label
        # A reward not asked for keeps a result finished under this preset: from its folder
        # (so two processes can measure a task's two rewards side by side) or the old row.
        if label in rewards or (folder / "eval.json").is_file():
            row[label] = evaluate(env_id, spec, folder, seeds, eval_every)
        elif same and earlier is not None and earlier.get(label):
            row[label] = earlier[label]
    # The other process may have finished while this one trained: its folder, not an
    # older row, holds the result.
    for label, spec in labels:
        folder = root / short / key / label
        if label not in rewards and (folder / "eval.json").is_file():
            row[label] = evaluate(env_id, spec, folder, seeds, eval_every)
    return row


def _cell(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "not measured"
    per_seed = ", ".join(f"{x:.2f}" for x in summary["success"])
    ret = summary.get("returns") or []
    mean_ret = f"; return {sum(ret) / len(ret):.0f}" if ret else ""
    return f"{summary['mean']:.2f} ({per_seed}){mean_ret}"


def render(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        "# Training presets, measured",
        "",
        "Generated by `scripts/preset_table.py` (do not edit by hand). Last run "
        f"{data['date']} on {m.get('cpu')} ({m.get('cores')} cores), GPU: "
        f"{m.get('gpu') or 'none'}, torch {m.get('torch')}; each row names the machine it "
        "was measured on. Other jobs shared the machine, so wall times are upper bounds.",
        "",
        "Each reward is trained on the seeds shown with `agentgym reward eval`, all seeds in "
        "one process (the learner's population mode), under the env's preset "
        "(`agentgym.presets`). Success is the evaluation success rate per seed; return is "
        "the env's own return, mean over seeds. Wall time is for all seeds together.",
        "",
        "| task | learner | steps | sparse success | human success | wall time (human) | "
        "measured on |",
        "|---|---|---|---|---|---|---|",
    ]
    for env_id, row in sorted(data["tasks"].items()):
        preset = row.get("preset")
        learner = preset["learner"] if preset else "no preset (ppo defaults)"
        steps = f"{preset['steps']:,}" if preset else "-"
        wall = f"{row['human']['wall_s']} s" if row.get("human") else "-"
        machines = sorted(
            {str(row[r].get("machine") or "?") for r in ("sparse", "human") if row.get(r)}
        )
        lines.append(
            f"| {env_id} | {learner} | {steps} | {_cell(row.get('sparse'))} | "
            f"{_cell(row.get('human'))} | {wall} | {'; '.join(machines)} |"
        )
    compared = [e for e in sorted(data["tasks"]) if e in REFERENCE_RETURNS]
    if compared:
        lines += [
            "",
            "## Locomotion against published returns",
            "",
            "The human reward is Gymnasium's own, so its evaluation return compares with "
            "published PPO returns at 1M steps (rl-baselines3-zoo's tuned settings; "
            "CleanRL's defaults), here at the preset's budget and learner.",
            "",
            "| task | learner | steps | human return (per seed) | SB3 zoo PPO, 1M | "
            "CleanRL PPO, 1M | mean / SB3 zoo | mean / CleanRL |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for env_id in compared:
            row = data["tasks"][env_id]
            ret = [r for r in (row.get("human") or {}).get("returns") or [] if r is not None]
            if not ret or not row.get("preset"):
                continue
            zoo, cleanrl = REFERENCE_RETURNS[env_id]
            mean = sum(ret) / len(ret)
            lines.append(
                f"| {env_id} | {row['preset']['learner']} | {row['preset']['steps']:,} | "
                f"{mean:.0f} ({', '.join(f'{r:.0f}' for r in ret)}) | {zoo:,} | {cleanrl:,} | "
                f"{mean / zoo:.2f} | {mean / cleanrl:.2f} |"
            )
    missing = sorted(set(data.get("all_tasks", [])) - set(data["tasks"]))
    if missing:
        lines += [
            "",
            "Not measured yet (no preset, or not run): " + ", ".join(missing) + ".",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="*", default=None, help="e.g. Reach-v0 (default: preset)")
    parser.add_argument("--all", action="store_true", help="tasks without a preset too")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--rewards",
        nargs="+",
        choices=("sparse", "human"),
        default=("sparse", "human"),
        help="which rewards to train (a row without one says 'not measured')",
    )
    parser.add_argument("--root", default="runs/preset-table", help="work folder")
    parser.add_argument(
        "--eval-every",
        type=int,
        default=0,
        help="also evaluate every N env steps (learning curves in the seeds' metrics.jsonl)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("MUJOCO_GL", "egl")
    import torch  # noqa: F401  (machine_info names the torch build it finds imported)

    from agentgym.presets import preset_for
    from agentgym.runs.manifest import machine_info

    every = tasks_with_human_reward()
    chosen = [
        e
        for e in every
        if (args.tasks and any(e.endswith("/" + t) for t in args.tasks))
        or (not args.tasks and (args.all or preset_for(e) is not None))
    ]
    if not chosen:
        parser.error(f"--tasks: none of {args.tasks} is one of {every}")

    def load() -> dict[str, Any]:
        return json.loads(DATA.read_text()) if DATA.is_file() else {"tasks": {}}

    data = load()
    for env_id in chosen:
        row = measure(
            env_id,
            Path(args.root),
            args.seeds,
            tuple(args.rewards),
            earlier=data["tasks"].get(env_id),
            eval_every=args.eval_every,
        )
        # Read the file again: another preset_table process may have written its rows.
        data = load()
        data["tasks"][env_id] = row
        data.update(
            machine=machine_info(),
            date=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            all_tasks=every,
        )
        DATA.write_text(json.dumps(data, indent=2) + "\n")
        DOC.write_text(render(data))
    sys.stdout.write(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
