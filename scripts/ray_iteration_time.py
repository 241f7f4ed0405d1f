"""Wall time of one synthesis iteration of K=4 candidates: local executor vs Ray.

    python scripts/ray_iteration_time.py [--repeats 2] [--steps 2048]

Eureka on agentgym/Reach-v0 through a scripted LLM (four sound programs), PPO with a
tiny budget, no final retraining: the same iteration once with the local executor (one
sandbox worker trains the four as a population) and once on a two-node local Ray cluster
of one CPU each (one task per candidate). On a machine with few cores this measures the
Ray executor's overhead (a worker, torch import and a tar round trip per candidate), not
a speed-up; docs/ray.md records the numbers.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

PROGRAM = """```python
import torch

def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    effort = {w} * torch.sum(action * action, dim=-1)
    return -distance - effort, {{"distance": -distance, "effort": -effort}}
```"""


def iteration(executor: object, out: Path, steps: int) -> float:
    from agentgym.reward_designers.synthesis import Synthesis, SynthesisConfig, open_run
    from agentgym.testing.openai_server import ScriptedOpenAIServer

    replies = [PROGRAM.format(w=w) for w in (0.0, 0.01, 0.1, 1.0)]
    with ScriptedOpenAIServer(replies) as server:
        config = SynthesisConfig(
            env_id="agentgym/Reach-v0",
            llm=f"openai:scripted-model@{server.base_url}",
            iterations=1,
            samples=4,
            final_seeds=0,
            steps=steps,
            learner="ppo",
            training={"num_envs": 4, "num_steps": 64},
            eval_episodes=3,
            trace_episodes=1,
            trajectory_filter=False,
        )
        run, _ = open_run(config, out)
        start = time.perf_counter()
        Synthesis(config, run, executor=executor).run()
        return time.perf_counter() - start


def main() -> None:
    import os

    import ray
    from ray.cluster_utils import Cluster

    from agentgym.executors.cluster import RayExecutor
    from agentgym.executors.local import LocalExecutor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2048)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ray-iteration-"))
    os.environ.setdefault("AGENTGYM_CACHE", str(tmp / "cache"))
    os.environ.setdefault("OPENAI_API_KEY", "scripted")
    start = time.perf_counter()
    node = {"num_cpus": 1, "object_store_memory": 80 * 2**20}
    cluster = Cluster(initialize_head=True, connect=True, head_node_args=node)
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    startup = time.perf_counter() - start
    times: dict[str, list[float]] = {"local": [], "ray": []}
    try:
        for r in range(args.repeats):
            for name, executor in (("local", LocalExecutor()), ("ray", RayExecutor())):
                times[name].append(iteration(executor, tmp / f"{name}{r}", args.steps))
    finally:
        ray.shutdown()
        cluster.shutdown()
    print(
        json.dumps(
            {
                "cores": os.cpu_count(),
                "steps_per_candidate": args.steps,
                "cluster_start_s": round(startup, 1),
                "iteration_s": {k: [round(t, 1) for t in v] for k, v in times.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
