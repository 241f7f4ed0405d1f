"""Population of K=8 PPO members against 8 sequential single runs on agentgym/Reach-v0.

Same config, seeds and step budget per member; runs alternate and the medians count; the population batches the 8 networks
(one forward per rollout step, one forward/backward per minibatch for all members). The
wall times and their ratio are merged into ``bench/results/ppo.json`` / ``ppo.md``.

    python -m bench population
    AGENTGYM_BENCH_POP_STEPS=4096 python -m bench population   # a quick look
"""

from __future__ import annotations

import os
import statistics
import time

from bench.bench_ppo import THREADS, write_results

MEMBERS = 8


def main() -> None:
    from agentgym.learners.ppo import PPO, PPOConfig, train_population

    steps = int(os.environ.get("AGENTGYM_BENCH_POP_STEPS", 16_384))
    repeats = int(os.environ.get("AGENTGYM_BENCH_REPEATS", 2))
    config = PPOConfig(
        env_id="agentgym/Reach-v0",
        num_envs=8,
        num_steps=64,
        num_minibatches=4,
        update_epochs=10,
        total_steps=steps,
        eval_episodes=0,
        checkpoint_every=0,
        device="cpu",
        torch_threads=THREADS,
    )
    seeds = list(range(MEMBERS))

    def population() -> float:
        start = time.perf_counter()
        results = train_population(config, ["env"] * MEMBERS, seeds=seeds)
        assert all(r["status"] == "DONE" for r in results), results
        return time.perf_counter() - start

    def sequential() -> float:
        start = time.perf_counter()
        for seed in seeds:
            agent = PPO(PPOConfig(**{**config.to_dict(), "seed": seed}))
            agent.learn()
            agent.close()
        return time.perf_counter() - start

    # Alternate (P, S, S, P, ...) so that a shared machine's load swings hit both alike.
    pop_runs, seq_runs = [], []
    for r in range(repeats):
        order = (population, sequential) if r % 2 == 0 else (sequential, population)
        for fn in order:
            (pop_runs if fn is population else seq_runs).append(fn())
    population_s, sequential_s = statistics.median(pop_runs), statistics.median(seq_runs)
    ratio = sequential_s / population_s
    print(
        f"population of {MEMBERS}: {population_s:.1f} s; {MEMBERS} sequential runs: "
        f"{sequential_s:.1f} s; speed-up {ratio:.2f}x"
    )
    path = write_results(
        "population",
        {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "load_average": round(os.getloadavg()[0], 2),
            "env_id": config.env_id,
            "members": MEMBERS,
            "steps_per_member": steps,
            "num_envs": config.num_envs,
            "num_steps": config.num_steps,
            "num_minibatches": config.num_minibatches,
            "update_epochs": config.update_epochs,
            "repeats": repeats,
            "population_runs": pop_runs,
            "sequential_runs": seq_runs,
            "population_s": population_s,
            "sequential_s": sequential_s,
            "ratio": ratio,
            "note": "construction (env creation) included in both timings",
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
