"""The synthesis benchmark (reward_designers/synthesis/benchmark.py, bench/synthesis.py):
the human-normalised score, and a real grid against the scripted server that a rerun
finishes without one LLM request."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

from agentgym.reward_designers.synthesis.benchmark import (
    BenchmarkConfig,
    cell_dir,
    normalised,
    run_benchmark,
)
from agentgym.reward_designers.synthesis.config import SynthesisConfig, open_run
from agentgym.testing.openai_server import ScriptedOpenAIServer

SKETCH = {
    "terms": [
        {
            "name": "distance",
            "kind": "linear",
            "expr": "norm(fingertip_pos - target_pos)",
            "weight": 1.0,
            "scale": 1.0,
            "sign": -1,
        }
    ]
}
EUREKA = """```python
import torch

def compute_reward(state, action):
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    return -d, {"distance": -d}
```"""


# the structured cell's first reply reads a variable Reach does not have: one repair
UNKNOWN_VARIABLE = json.loads(json.dumps(SKETCH).replace("target_pos", "goal_pos"))


def summary(success: float, fitness: float | None) -> dict:
    return {"mean": success, "fitness_mean": fitness}


def test_the_score_is_on_success_unless_human_and_sparse_tie_there():
    assert normalised(summary(0.5, 0), summary(0.2, 0), summary(0.8, 0)) == (
        pytest.approx(0.5),
        "success",
    )
    # HalfCheetah: no success under either reference, so the task fitness decides
    assert normalised(summary(0.0, 30.0), summary(0.0, -10.0), summary(0.0, 90.0)) == (
        pytest.approx(0.4),
        "fitness",
    )
    assert normalised(summary(0.0, 1.0), summary(0.0, 1.0), summary(0.0, 1.0)) == (None, None)
    assert normalised(summary(0.0, None), summary(0.0, 1.0), summary(0.0, 2.0)) == (None, None)
    assert normalised(None, summary(0.0, 1.0), summary(1.0, 2.0)) == (None, None)


def test_a_field_the_benchmark_sets_itself_is_refused_by_name():
    with pytest.raises(ValueError, match="BenchmarkConfig.synthesis.*'seed'"):
        BenchmarkConfig(llm="openai:m", synthesis={"seed": 3})


def test_an_unknown_task_is_refused_before_any_folder_is_written(tmp_path):
    # a benchmark on "MountainCar" (no namespace) once left a run folder per cell that
    # the corrected rerun then refused as "a different synthesis run"
    config = BenchmarkConfig(
        llm="openai:m@http://127.0.0.1:9/v1",
        tasks=("agentgym/Reach-v0", "MountainCar"),
        designers=("eureka",),
    )
    with pytest.raises(gym.error.NameNotFound, match="agentgym/MountainCar-v0"):
        run_benchmark(config, tmp_path / "bench")
    assert not (tmp_path / "bench").exists()


def test_open_run_refuses_an_unknown_env_before_creating_the_folder(tmp_path):
    config = SynthesisConfig(env_id="Reach-v0", designer="eureka", llm="openai:m")
    with pytest.raises(gym.error.NameNotFound, match="agentgym/Reach-v0"):
        open_run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # four tiny trainings and two final retrainings: about a minute here
def test_a_rerun_of_a_finished_benchmark_makes_no_llm_request(isolated_llm_cache, tmp_path):
    out = tmp_path / "bench"
    replies = [json.dumps(UNKNOWN_VARIABLE), json.dumps(SKETCH), EUREKA]
    with ScriptedOpenAIServer(replies) as server:
        config = BenchmarkConfig(
            llm=f"openai:scripted-model@{server.base_url}",
            tasks=("agentgym/Reach-v0",),
            designers=("structured", "eureka"),
            iterations=1,
            samples=1,
            steps=512,
            final_seeds=1,
            final_steps=512,
            synthesis={
                "learner": "ppo",
                "training": {"num_envs": 4, "num_steps": 64, "learning_rate": 3e-3},
                "eval_episodes": 2,
                "trace_episodes": 0,
                "trajectory_filter": False,
                "tune": False,
                "video": False,
                "repairs": 1,
            },
        )
        table = run_benchmark(config, out)
        asked = len(server.requests)
        assert asked == 3  # structured's sample, its repair, eureka's sample
        again = run_benchmark(config, out)
        assert len(server.requests) == asked  # finished cells are read, not rerun
        # an unfinished cell resumes from its run folder and its cache
        cell = cell_dir(out, "agentgym/Reach-v0", "eureka", 0)
        (cell / "cell.json").unlink()
        (cell / "final.json").unlink()
        resumed = run_benchmark(config, out)
        assert len(server.requests) == asked
    assert again["rows"] == table["rows"]
    rows = {r["designer"]: r for r in resumed["rows"]}
    assert rows["structured"]["samples"] == 1 and rows["structured"]["trained"] == 1
    assert rows["structured"]["requests"] == 2 and rows["structured"]["repaired"] == 1
    assert rows["eureka"]["tokens"] > 0 and rows["eureka"]["requests"] == 1
    assert rows["eureka"]["sparse"]["success"] is not None
    markdown = (out / "table.md").read_text()
    assert "| agentgym/Reach-v0 | structured |" in markdown
    assert "| 1/1 (1 after a repair) |" in markdown
    assert "| eureka | 100% |" in markdown
    assert json.loads((out / "table.json").read_text())["designers"]["structured"]["tasks"] == 1


def test_the_table_counts_salvaged_samples_beside_repaired_ones():
    from dataclasses import asdict

    from agentgym.reward_designers.synthesis.benchmark import markdown_table

    config = BenchmarkConfig(
        llm="openai:m", tasks=("agentgym/CartPole-v0",), designers=("structured",)
    )
    row = {
        "task": "agentgym/CartPole-v0",
        "designer": "structured",
        "score": 1.0,
        "metric": "success",
        "synthesised": [summary(1.0, 1.0) | {"success": 1.0}],
        "sparse": {"success": 0.0},
        "human": {"success": 1.0},
        "samples": 4,
        "trained": 4,
        "repaired": 1,
        "salvaged": 2,
        "tokens": 3095,
        "wall_s": 701.0,
    }
    totals = {
        "structured": {
            "trained_share": 1.0,
            "tasks_beating_sparse": 1,
            "tasks_at_0.8": 1,
            "tasks": 1,
            "tokens": 3095,
            "wall_s": 701.0,
        }
    }
    text = markdown_table({"config": asdict(config), "rows": [row], "designers": totals})
    assert "| 4/4 (1 after a repair, 2 salvaged) |" in text
    row["repaired"] = 0
    text = markdown_table({"config": asdict(config), "rows": [row], "designers": totals})
    assert "| 4/4 (2 salvaged) |" in text
