"""A population of K=8 PPO members against one member alone and 8 sequential runs.

The simulation issue's target: "the K members of a population step one vector env of
K x N environments, so K candidates cost close to one run", measured as a population of
8 at most 2x the wall time of one member alone, on agentgym/Reach-v0 and
agentgym/HalfCheetah-v0. Each env gets, in the same process and alternating order (so a
shared machine's load swings hit every case alike):

- ``alone``: one PPO member (seed 0, the env's reward) on one torch thread, and
  ``alone_all_cores`` the same with torch on every core: "alone" is the faster of the
  two (a lone member's small matrices usually run fastest on one thread);
- ``population``: 8 members (seeds 0-7; the env's reward and the library's program for
  the task, alternating, so that each member scores its own rows) on one native vector
  env of 8 x N sub-envs, networks stacked;
- ``sequential``: the 8 members' configs trained one after the other (one thread);
- ``two_processes`` (on 2+ cores): the same 8 members as two populations of 4 in two
  processes started together, one torch thread each and the env pools' share of the
  cores the executor gives a worker (``pool_threads_each``), as the local executor's
  default ``--workers`` splits a search's candidates on 2 cores; each process compiles
  and warms up before a barrier, and the time is from the first to start to the last to
  finish.

Two settings: ``eager, 1 thread`` (PPOConfig's defaults: eager update, one torch thread
everywhere) and ``compiled, all cores`` (the throughput presets' compiled update; the
population's update on every core, where 8 stacked networks give the threads work).
The MuJoCo physics steps on every core in all cases (the native vector env's thread
pool). Same config and step budget per member everywhere (construction included); the
medians of ``repeats`` runs count. Results: ``bench/results/population.json`` and ``.md``.

    python -m bench population
    AGENTGYM_BENCH_POP_STEPS=4096 AGENTGYM_BENCH_REPEATS=1 python -m bench population
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MEMBERS = 8
ENVS = {"agentgym/Reach-v0": "Reach", "agentgym/HalfCheetah-v0": "HalfCheetah"}
RESULTS = Path(__file__).parent / "results"


SETTINGS: dict[str, dict[str, Any]] = {
    "eager, 1 thread": {"compile": False, "population_threads": 1},
    "compiled, all cores": {"compile": True, "population_threads": 0},
}
"""Setting name -> PPOConfig.compile and the population's torch threads (0: every core).
PPOConfig.torch_threads=0 would leave torch's count as this process set it (main sets
one thread), so every core is asked for by number (``_threads``)."""


def _threads(count: int) -> int:
    """``count`` torch threads, 0 meaning one per core this process may run on."""
    from agentgym.vector.threads import usable_cores

    return count or usable_cores()


def _cases(
    env_id: str, steps: int, setting: dict[str, Any], phases: dict[str, list[dict[str, float]]]
) -> dict[str, Callable[[], float]]:
    """The timed cases of one env under one setting: name -> a function returning its
    wall time; ``alone`` and ``population`` also append the learner's ``phase_seconds``
    (collecting, updating) to ``phases[name]``."""
    import dataclasses

    from agentgym.learners.ppo import PPO, Population, PPOConfig
    from agentgym.reward_designers.library import program_path

    config = PPOConfig(
        env_id=env_id,
        num_envs=8,
        num_steps=64,
        num_minibatches=4,
        update_epochs=10,
        total_steps=steps,
        eval_episodes=0,
        checkpoint_every=0,
        device="cpu",
        torch_threads=1,
        compile=setting["compile"],
    )
    program = str(program_path(ENVS[env_id]))
    rewards = ["env" if k % 2 == 0 else program for k in range(MEMBERS)]
    seeds = list(range(MEMBERS))

    def alone(threads: int = 1) -> float:
        start = time.perf_counter()
        agent = PPO(dataclasses.replace(config, torch_threads=_threads(threads)))
        agent.learn()
        agent.close()
        phases.setdefault("alone" if threads == 1 else "alone_all_cores", []).append(
            dict(agent.phase_seconds)
        )
        return time.perf_counter() - start

    def population() -> float:
        start = time.perf_counter()
        pop_config = dataclasses.replace(
            config, torch_threads=_threads(setting["population_threads"])
        )
        pop = Population(pop_config, rewards, seeds=seeds)
        assert pop.batch.envs.num_envs == MEMBERS * config.num_envs  # one K x N batch
        results = pop.learn_all()
        pop.close()
        phases.setdefault("population", []).append(dict(pop.phase_seconds))
        assert all(r["status"] == "DONE" for r in results), results
        return time.perf_counter() - start

    def sequential() -> float:
        start = time.perf_counter()
        for reward, seed in zip(rewards, seeds, strict=True):
            agent = PPO(dataclasses.replace(config, reward=reward, seed=seed))
            agent.learn()
            agent.close()
        return time.perf_counter() - start

    def two_processes() -> float:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(2), ctx.Queue()
        half = MEMBERS // 2
        procs = [
            ctx.Process(
                target=_half_population,
                args=(
                    config.to_dict(),
                    rewards[k : k + half],
                    seeds[k : k + half],
                    barrier,
                    results,
                ),
            )
            for k in (0, half)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=1800)
        if any(proc.exitcode != 0 for proc in procs):  # None: still running past the limit
            for proc in procs:
                proc.kill()
            raise RuntimeError(f"two_processes: exit codes {[p.exitcode for p in procs]}")
        spans = [results.get(timeout=10) for _ in procs]
        return max(end for _, end in spans) - min(start for start, _ in spans)

    cases = {"alone": alone, "population": population, "sequential": sequential}
    if _threads(0) > 1:
        cases["alone_all_cores"] = lambda: alone(0)
        cases["two_processes"] = two_processes
    return cases


def _half_population(
    config: dict[str, Any], rewards: list[str], seeds: list[int], barrier: Any, results: Any
) -> None:
    """One of ``two_processes``' populations, in its own process: a one-rollout run first
    (compiles this K's steps), then the timed run after both processes are ready;
    (start, end) in wall-clock seconds go to ``results``."""
    import dataclasses

    import torch

    from agentgym.executors.local import pool_threads_each
    from agentgym.learners.ppo import Population, PPOConfig
    from agentgym.vector.threads import NUM_THREADS_VAR

    torch.set_num_threads(1)
    # The env pools' share the local executor gives each of its concurrent workers.
    os.environ[NUM_THREADS_VAR] = str(pool_threads_each(2))
    cfg = PPOConfig.from_dict(config)
    warm = Population(dataclasses.replace(cfg, total_steps=cfg.batch_size), rewards, seeds=seeds)
    warm.learn_all()
    warm.close()
    barrier.wait(timeout=600)  # the other half failed to start: BrokenBarrierError, exit 1
    start = time.time()
    pop = Population(cfg, rewards, seeds=seeds)
    outcome = pop.learn_all()
    pop.close()
    assert all(r["status"] == "DONE" for r in outcome), outcome
    results.put((start, time.time()))


def main() -> None:
    import torch

    from agentgym.runs.manifest import machine_info

    steps = int(os.environ.get("AGENTGYM_BENCH_POP_STEPS", 16_384))
    repeats = int(os.environ.get("AGENTGYM_BENCH_REPEATS", 2))
    torch.set_num_threads(1)
    load_start = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    for label, setting in SETTINGS.items():
        for env_id in ENVS:
            phases: dict[str, list[dict[str, float]]] = {}
            cases = _cases(env_id, steps, setting, phases)
            if setting["compile"]:  # compile outside the timings (inductor caches persist)
                for name in ("alone", "alone_all_cores", "population"):  # one compile each
                    if name in cases:
                        cases[name]()
                phases.clear()
            times: dict[str, list[float]] = {name: [] for name in cases}
            for r in range(repeats):
                order = list(cases) if r % 2 == 0 else list(reversed(cases))
                for name in order:
                    times[name].append(cases[name]())
            median = {name: statistics.median(t) for name, t in times.items()}
            best_alone = min(median["alone"], median.get("alone_all_cores", float("inf")))
            alone_name = "alone" if best_alone == median["alone"] else "alone_all_cores"
            phase = {  # the median seconds of each phase, per case
                name: {p: statistics.median(run[p] for run in runs) for p in runs[0]}
                for name, runs in phases.items()
            }
            row = {
                "env_id": env_id,
                "setting": label,
                "runs": times,
                **{f"{name}_s": value for name, value in median.items()},
                "alone_s": best_alone,
                "alone_one_thread_s": median["alone"],
                "population_over_alone": median["population"] / best_alone,
                "alone_phases": phase[alone_name],
                "population_phases": phase["population"],
                "sequential_over_population": median["sequential"] / median["population"],
            }
            if "two_processes" in median:
                row["two_processes_over_alone"] = median["two_processes"] / best_alone
                print(
                    f"{env_id} ({label}): two processes of {MEMBERS // 2} "
                    f"{median['two_processes']:.1f} s ({row['two_processes_over_alone']:.2f}x alone)"
                )
            rows.append(row)
            print(
                f"{env_id} ({label}): alone {best_alone:.1f} s, population of {MEMBERS} "
                f"{median['population']:.1f} s ({row['population_over_alone']:.2f}x alone), "
                f"{MEMBERS} sequential {median['sequential']:.1f} s "
                f"({row['sequential_over_population']:.2f}x the population)"
            )
    results = {
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "settings": {
            "members": MEMBERS,
            "steps_per_member": steps,
            "num_envs": 8,
            "num_steps": 64,
            "num_minibatches": 4,
            "update_epochs": 10,
            "settings": SETTINGS,
            "cores": os.cpu_count(),
            "repeats": repeats,
            "vectorization": "auto (native)",
        },
        "envs": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "population.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "population.md").write_text(render_markdown(results))
    print(f"wrote {RESULTS / 'population.md'}")


def render_markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    load = results["load_average"]
    lines = [
        f"# Population of {s['members']} on one batch against one member alone",
        "",
        f"Machine: {m.get('cpu')} ({m.get('cores')} cores), GPU: {m.get('gpu') or 'none'}, "
        f"torch {m.get('torch')}, Python {m.get('python')}.",
        "",
        f"Measured {results['date']}: {s['steps_per_member']} env steps per member, median of "
        f"{s['repeats']} alternating runs; PPO with {s['num_envs']} envs x {s['num_steps']} "
        f"steps a rollout, {s['num_minibatches']} minibatches, {s['update_epochs']} epochs, "
        f"64-64 tanh, device cpu, vectorization {s['vectorization']}, the physics on every "
        f"core ({s.get('cores')}); construction included. Load average {load[0]} at the "
        f"start, {load[1]} at the end (other jobs share this machine).",
        "",
        "Settings: `eager, 1 thread` is PPOConfig's default (eager update, one torch "
        "thread); `compiled, all cores` compiles the update (the throughput presets' "
        "setting) and gives the population's update every core. Alone is the faster of "
        "one torch thread and every core (the one-thread time in brackets when they "
        "differ).",
        "",
        f"The population's {s['members']} members (the env's reward and the task's library "
        f"program, alternating) step one vector env of {s['members']} x {s['num_envs']} "
        "sub-envs; sequential trains the same 8 configs one after the other. Target: "
        "population / alone <= 2. Alone is member 0 (the env's reward, no reward program); "
        "`mean alone` is sequential / 8, the mean of the 8 members' configs alone (half of "
        "them run the program).",
        "",
        "| env | setting | alone s | population s | sequential s | population / alone | "
        "population / mean alone | sequential / population |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["envs"]:
        one = r.get("alone_one_thread_s", r["alone_s"])
        alone = f"{r['alone_s']:.1f}"
        alone += f" ({one:.1f})" if f"{one:.1f}" != alone else ""
        lines.append(
            f"| {r['env_id']} | {r.get('setting', 'eager, 1 thread')} | {alone} | "
            f"{r['population_s']:.1f} | "
            f"{r['sequential_s']:.1f} | {r['population_over_alone']:.2f} | "
            f"{r['population_s'] / (r['sequential_s'] / s['members']):.2f} | "
            f"{r['sequential_over_population']:.2f} |"
        )
    split = [r for r in results["envs"] if r.get("two_processes_s")]
    if split:
        lines += [
            "",
            f"The same {s['members']} members as two processes of {s['members'] // 2} (one "
            "torch thread each and the MuJoCo pool threads the executor gives each of two "
            "workers, started together; each compiled before the timed run), as "
            "the local executor's default `--workers` trains a search's candidates on 2 "
            "cores:",
            "",
            "| env | setting | two processes s | two processes / alone | population s |",
            "|---|---|---|---|---|",
            *(
                f"| {r['env_id']} | {r['setting']} | {r['two_processes_s']:.1f} | "
                f"{r['two_processes_over_alone']:.2f} | {r['population_s']:.1f} |"
                for r in split
            ),
        ]
    timed = [r for r in results["envs"] if r.get("population_phases")]
    if timed:
        lines += [
            "",
            "Where the time goes (median seconds; `PPO.phase_seconds`: collecting is the "
            "envs, reward programs and policy steps, updating the minibatch steps; "
            "construction is the rest):",
            "",
            "| env | setting | alone: collect / update s | population: collect / update s | "
            "collect ratio | update ratio |",
            "|---|---|---|---|---|---|",
        ]
        for r in timed:
            a, p = r["alone_phases"], r["population_phases"]
            lines.append(
                f"| {r['env_id']} | {r['setting']} | {a['collect']:.2f} / {a['update']:.2f} | "
                f"{p['collect']:.2f} / {p['update']:.2f} | "
                f"{p['collect'] / a['collect']:.1f}x | {p['update'] / a['update']:.1f}x |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
