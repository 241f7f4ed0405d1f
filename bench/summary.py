"""One table of every benchmark against the physics ceiling: bench/results/summary.md.

``python -m bench`` writes it after its modules ran, from their JSON results: the physics
ceiling (``mujoco.rollout`` on all cores, HalfCheetah, from bench_vector), our native
vector env and Gymnasium's SyncVectorEnv (bench_vector), our PPO and SB3's PPO
(bench_ppo), the throughput preset (bench_ppo), population against sequential
training (bench_population) and HalfCheetah on MuJoCo XLA (bench_mjx: its env against the
native env, and PPO on it). Each row is a rate in env steps per second, with its ratio
to the ceiling and to the row's baseline (the thing it replaces). Every rate is compared
with the ceiling measured by the same run when bench_vector ran in it; each source's date
is shown, so a stale one is visible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
CEILING_ENVS = "64"  # the native env's best size, and the throughput preset's


def _load(results: Path, name: str) -> dict[str, Any]:
    path = results / name
    return json.loads(path.read_text()) if path.exists() else {}


def _populations(results: Path) -> list[dict[str, Any]]:
    """bench_population's result per env (population.json: one record per env under
    ``envs``)."""
    own = _load(results, "population.json")
    if own:
        settings = own.get("settings", {})
        return [
            {
                **env,
                "members": settings.get("members"),
                "steps_per_member": settings.get("steps_per_member"),
                "date": own.get("date", ""),
            }
            for env in own.get("envs", [])
        ]
    return []


def summary_rows(results: Path = RESULTS) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows of the table and the ceiling's record (empty without bench_vector's result),
    from the JSON results in ``results``."""
    vector, ppo = _load(results, "vector.json"), _load(results, "ppo.json")
    sizes = vector.get("sizes", {}).get(CEILING_ENVS, {})
    ceiling = sizes.get("ceiling", {})
    rows: list[dict[str, Any]] = []

    def add(
        name: str,
        rate: float | None,
        baseline: float | None,
        source: str,
        date: str,
        cpu_rate: float | None = None,
    ) -> None:
        if rate is None:
            return
        cpu_ceiling = ceiling.get("steps_per_cpu_s")
        rows.append(
            {
                "name": name,
                "steps_per_s": rate,
                "to_ceiling": rate / ceiling["steps_per_s"] if ceiling else None,
                "steps_per_cpu_s": cpu_rate,
                "cpu_to_ceiling": cpu_rate / cpu_ceiling if cpu_rate and cpu_ceiling else None,
                "to_baseline": rate / baseline if baseline else None,
                "source": source,
                "date": date,
            }
        )

    vdate = vector.get("date", "")
    if ceiling:
        add(
            f"physics ceiling, mujoco.rollout all cores, {CEILING_ENVS} envs",
            ceiling["steps_per_s"],
            None,
            "vector",
            vdate,
            ceiling.get("steps_per_cpu_s"),
        )
    sync = sizes.get("sync v5", {})
    add(
        f"SyncVectorEnv HalfCheetah-v5, {CEILING_ENVS} envs",
        sync.get("steps_per_s"),
        None,
        "vector",
        vdate,
        sync.get("steps_per_cpu_s"),
    )
    native = sizes.get("native", {})
    add(
        f"native vector env agentgym/HalfCheetah-v0, {CEILING_ENVS} envs (vs Sync)",
        native.get("steps_per_s"),
        sync.get("steps_per_s"),
        "vector",
        vdate,
        native.get("steps_per_cpu_s"),
    )
    speed = ppo.get("speed", {})
    for case in speed.get("cases", []):
        label = f"{case['env_id']}, {case['num_envs']} env(s), SB3 settings"
        sb3 = case["sb3_steps_per_s"]
        date = speed.get("date", "")
        add(f"SB3 PPO, {label}", sb3, None, "ppo", date, case.get("sb3_steps_per_cpu_s"))
        add(
            f"our PPO eager, {label} (vs SB3)",
            case["ours_steps_per_s"],
            sb3,
            "ppo",
            date,
            case.get("ours_steps_per_cpu_s"),
        )
        add(
            f"our PPO compiled, {label} (vs SB3)",
            case.get("compiled_steps_per_s"),
            sb3,
            "ppo",
            date,
            case.get("compiled_steps_per_cpu_s"),
        )
        add(
            f"our PPO compiled, vectorization threads, {label} (vs SB3)",
            case.get("threads_steps_per_s"),
            sb3,
            "ppo",
            date,
            case.get("threads_steps_per_cpu_s"),
        )
    throughput = ppo.get("throughput", {})
    # The preset's baseline: SB3's fastest HalfCheetah-v5 case of the same run.
    sb3_cheetah = max(
        (c["sb3_steps_per_s"] for c in speed.get("cases", []) if c["env_id"] == "HalfCheetah-v5"),
        default=None,
    )
    for case in throughput.get("cases", []):
        add(
            f"our PPO, HalfCheetah throughput preset, {case['label']} (vs SB3's fastest "
            "HalfCheetah-v5 case)",
            case["steps_per_s"],
            sb3_cheetah,
            "ppo",
            throughput.get("date", ""),
            case.get("steps_per_cpu_s"),
        )
    for pop in _populations(results):
        if not (pop.get("population_s") and pop.get("sequential_s")):
            continue
        steps = pop["members"] * pop["steps_per_member"]
        setting = f", {pop['setting']}" if pop.get("setting") else ""
        add(
            f"population of {pop['members']} on {pop['env_id']}{setting} (vs sequential)",
            steps / pop["population_s"],
            steps / pop["sequential_s"],
            "population",
            pop.get("date", ""),
        )
        if pop.get("alone_s"):
            # The target: K members cost at most 2x one alone, i.e. this ratio >= K / 2.
            add(
                f"population of {pop['members']} on {pop['env_id']}{setting} (vs one member alone: "
                f"the target, {pop['members']} members in <= 2x one's wall time, is >= "
                f"{pop['members'] / 2:.2f}x)",
                steps / pop["population_s"],
                pop["steps_per_member"] / pop["alone_s"],
                "population",
                pop.get("date", ""),
            )
    mjx = _load(results, "mjx.json")
    where = f"JAX {mjx.get('jax_device')}"
    for case in mjx.get("env") or []:
        add(
            f"MJX env agentgym/HalfCheetah-v0, {case['num_envs']} envs, {where} (vs native "
            f"{CEILING_ENVS} envs)",
            case["steps_per_s"],
            native.get("steps_per_s"),
            "mjx",
            mjx.get("date", ""),
        )
    run = mjx.get("ppo") or {}
    add(
        f"our PPO, MJX physics, {run.get('num_envs')} envs, learner on {run.get('device')}, "
        f"{where}",
        run.get("steps_per_s"),
        None,
        "mjx",
        mjx.get("date", ""),
    )
    return rows, ceiling


def render(rows: list[dict[str, Any]], ceiling: dict[str, Any], machine: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks against the physics ceiling",
        "",
        f"Machine: {machine.get('cpu')} ({machine.get('cores')} cores), GPU: "
        f"{machine.get('gpu') or 'none'}, torch {machine.get('torch')}, Python "
        f"{machine.get('python')}.",
        "",
        "Steps/s are wall-clock env steps per second (training steps for the learners). "
        "Ceiling: `mujoco.rollout` on every core, HalfCheetah's model, 5 substeps per env "
        f"step, {CEILING_ENVS} envs"
        + (
            f": {ceiling['steps_per_s']:.0f} steps/s."
            if ceiling
            else ": not measured (run `python -m bench vector`)."
        )
        + " Rows of other envs (Reach, CartPole) set against it are a reference, not a bound."
        + " The baseline is what a row replaces (named in the row). Steps per CPU-s count "
        "the CPU time of all the process's threads, which other jobs on a shared machine "
        "inflate less than wall time (where measured).",
        "",
        "| case | steps/s | of ceiling | vs baseline | steps/CPU-s | of ceiling (CPU) | measured |",
        "|---|---|---|---|---|---|---|",
    ]

    def fmt(value: float | None, pattern: str) -> str:
        return pattern.format(value) if value is not None else "-"

    for row in rows:
        lines.append(
            f"| {row['name']} | {row['steps_per_s']:.0f} | {fmt(row['to_ceiling'], '{:.2f}')} | "
            f"{fmt(row['to_baseline'], '{:.2f}x')} | {fmt(row['steps_per_cpu_s'], '{:.0f}')} | "
            f"{fmt(row['cpu_to_ceiling'], '{:.2f}')} | {row['source']} {row['date']} |"
        )
    return "\n".join(lines) + "\n"


def write_summary(results: Path = RESULTS) -> Path:
    """Write summary.md (and summary.json) in ``results`` from the modules' results there."""
    from agentgym.runs.manifest import machine_info

    rows, ceiling = summary_rows(results)
    # The machine as the benchmarks saw it (with the torch they imported), else this process's.
    measured = _load(results, "ppo.json").get("machine") or _load(results, "vector.json").get(
        "machine"
    )
    machine = measured or machine_info()
    results.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine, "ceiling": ceiling.get("steps_per_s"), "rows": rows}
    (results / "summary.json").write_text(json.dumps(payload, indent=2) + "\n")
    path = results / "summary.md"
    path.write_text(render(rows, ceiling, machine))
    return path
