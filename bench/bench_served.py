"""What serving each candidate's program from a worker of its own costs a synthesis iteration.

A synthesis iteration trains its K candidates as one population in one sandbox worker.
Their programs either run in that worker (``inside``: how it was, and how a job of one
candidate still runs) or each in a serving worker of its own, answering batches over
pipes (``served``: the default for K > 1, ``agentgym.sandbox.served``). Each case is the
real training job (``LocalExecutor`` + ``train_candidates``, 8 untrusted copies of the
task's library program; a PPO population on 8 x 8 envs and a SAC one on 8 x 4), timed in alternating order so a
shared machine's load swings hit both alike. Reported: wall time, medians of
``repeats``, and served / inside, with the load average it ran under. (CPU time is not
reported: the workers run in bubblewrap's pid namespace, whose processes the parent's
``RUSAGE_CHILDREN`` does not count.)

    python -m bench served
    AGENTGYM_BENCH_SERVED_STEPS=8192 AGENTGYM_BENCH_SERVED_SAC_STEPS=1024 \
        AGENTGYM_BENCH_REPEATS=1 python -m bench served
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

MEMBERS = 8
PPO = {
    "num_envs": 8,
    "num_steps": 64,
    "num_minibatches": 4,
    "eval_episodes": 2,
    "checkpoint_every": 0,
}
SAC = {
    "num_envs": 4,
    "hidden_sizes": [128, 128],
    "learning_starts": 256,
    "eval_episodes": 2,
    "checkpoint_every": 0,
}
CASES = [
    # (env, library program, population learner, its config, steps per member variable)
    ("agentgym/Reach-v0", "reach", "population", PPO, "AGENTGYM_BENCH_SERVED_STEPS"),
    ("agentgym/HalfCheetah-v0", "halfcheetah", "population", PPO, "AGENTGYM_BENCH_SERVED_STEPS"),
    ("agentgym/Reach-v0", "reach", "sac-population", SAC, "AGENTGYM_BENCH_SERVED_SAC_STEPS"),
]
RESULTS = Path(__file__).parent / "results"
TARGET = "agentgym.reward_designers.synthesis.training:train_candidates"


def _job_time(
    env_id: str, program: str, learner: str, config: dict[str, Any], steps: int, serve: bool
) -> float:
    """Wall seconds of one training job of 8 candidates."""
    from agentgym.executors import Job
    from agentgym.executors.local import LocalExecutor
    from agentgym.sandbox import Limits

    with tempfile.TemporaryDirectory(prefix="bench-served-") as root:
        copies = [f"p{k}/reward.py" for k in range(MEMBERS)]
        for copy in copies:
            (Path(root) / copy).parent.mkdir()
            (Path(root) / copy).write_text(program)
        job = Job(
            TARGET,
            Path(root),
            kwargs={
                "env_id": env_id,
                "seeds": list(range(MEMBERS)),
                "learner": learner,
                "config": {**config, "total_steps": steps},
            },
            path_kwargs={"programs": copies, "run_dirs": [f"m{k}" for k in range(MEMBERS)]},
            inputs=tuple(copies),
            outputs=tuple(f"m{k}" for k in range(MEMBERS)),
            served=tuple(copies) if serve else (),
            limits=Limits.for_training(threads=1),
            deadline_s=3600,
        )
        start = time.perf_counter()
        (result,) = LocalExecutor().run([job], lambda n, r: None)
        wall = time.perf_counter() - start
    if not result.ok or not all(m["status"] == "DONE" for m in result.value):
        raise RuntimeError(f"bench_served: the {env_id} job failed: {result.message}")
    return wall


def main() -> dict[str, Any]:
    from agentgym.reward_designers.library import program_path
    from agentgym.runs.manifest import machine_info

    defaults = {"AGENTGYM_BENCH_SERVED_STEPS": "65536", "AGENTGYM_BENCH_SERVED_SAC_STEPS": "4096"}
    repeats = int(os.environ.get("AGENTGYM_BENCH_REPEATS", "2"))
    rows = []
    only = os.environ.get("AGENTGYM_BENCH_SERVED_ONLY", "")  # e.g. "sac": those learners
    for env_id, name, learner, config, steps_var in CASES:
        if only and only not in learner:
            continue
        steps = int(os.environ.get(steps_var, defaults[steps_var]))
        program = program_path(name).read_text()
        times: dict[str, list[float]] = {"inside": [], "served": []}
        for r in range(repeats):
            order = ("inside", "served") if r % 2 == 0 else ("served", "inside")
            for case in order:
                wall = _job_time(env_id, program, learner, config, steps, case == "served")
                times[case].append(wall)
        median = {case: statistics.median(t) for case, t in times.items()}
        rows.append(
            {
                "env_id": env_id,
                "learner": learner,
                "members": MEMBERS,
                "steps_per_member": steps,
                "inside_wall_s": median["inside"],
                "served_wall_s": median["served"],
                "wall_ratio": median["served"] / median["inside"],
                "load": os.getloadavg()[0],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    data = {"machine": machine_info(), "repeats": repeats, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "served.json").write_text(json.dumps(data, indent=2))
    lines = [
        "# Serving each candidate's program from its own worker: what it costs",
        "",
        f"Machine: {data['machine'].get('cpu', '?')}; bench/bench_served.py, medians of "
        f"{repeats} alternating runs. One synthesis training job of {MEMBERS} candidates "
        "(untrusted copies of the library program; PPO population on 8 x 8 envs, whose "
        "served programs score whole rollouts; SAC population on 8 x 4 envs, scored per "
        "step with the K batches sent before any answer is read).",
        "",
        "| env | learner | steps/member | wall inside | wall served | served/inside | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['env_id']} | {row['learner']} | {row['steps_per_member']} "
            f"| {row['inside_wall_s']:.1f} s "
            f"| {row['served_wall_s']:.1f} s | {row['wall_ratio']:.2f} | {row['load']:.1f} |"
        )
    (RESULTS / "served.md").write_text("\n".join(lines) + "\n")
    return data


if __name__ == "__main__":
    main()
