"""bench/summary.py: every benchmark result in one table against the physics ceiling."""

from __future__ import annotations

import json

import pytest

from bench.summary import summary_rows, write_summary


def _write(path, name, data):
    (path / name).write_text(json.dumps(data))


def test_summary_puts_every_result_against_the_ceiling_and_its_baseline(tmp_path):
    _write(
        tmp_path,
        "vector.json",
        {
            "date": "d1",
            "sizes": {
                "64": {
                    "ceiling": {"steps_per_s": 40000.0, "steps_per_cpu_s": 48000.0},
                    "native": {"steps_per_s": 42000.0},
                    "sync v5": {"steps_per_s": 30000.0},
                }
            },
        },
    )
    case = {
        "env_id": "HalfCheetah-v5",
        "num_envs": 8,
        "ours_steps_per_s": 8000.0,
        "compiled_steps_per_s": 12000.0,
        "sb3_steps_per_s": 4000.0,
    }
    throughput = {
        "date": "d2",
        "cases": [{"label": "as registered", "steps_per_s": 20000.0, "steps_per_cpu_s": 24000.0}],
    }
    # bench_population's shape: settings, then one record per env.
    population = {
        "date": "d3",
        "settings": {"members": 4, "steps_per_member": 1000},
        "envs": [
            {
                "env_id": "agentgym/Reach-v0",
                "alone_s": 1.0,
                "population_s": 2.0,
                "sequential_s": 5.0,
            }
        ],
    }
    _write(
        tmp_path,
        "ppo.json",
        {"speed": {"date": "d2", "cases": [case]}, "throughput": throughput},
    )
    _write(tmp_path, "population.json", population)
    mjx = {
        "date": "d4",
        "jax_device": "cuda:0",
        "env": [{"num_envs": 4096, "steps_per_s": 126000.0}],
        "ppo": {"num_envs": 4096, "device": "cuda", "steps_per_s": 84000.0},
    }
    _write(tmp_path, "mjx.json", mjx)
    rows, ceiling = summary_rows(tmp_path)
    by_name = {row["name"].split(" (")[0]: row for row in rows}
    assert ceiling["steps_per_s"] == 40000.0
    native = by_name["native vector env agentgym/HalfCheetah-v0, 64 envs"]
    assert native["to_ceiling"] == pytest.approx(1.05)
    assert native["to_baseline"] == pytest.approx(1.4)
    compiled = by_name["our PPO compiled, HalfCheetah-v5, 8 env(s), SB3 settings"]
    assert compiled["to_baseline"] == pytest.approx(3.0)
    assert compiled["to_ceiling"] == pytest.approx(0.3)
    preset = next(r for r in rows if "throughput preset" in r["name"])
    assert preset["to_ceiling"] == pytest.approx(0.5) and preset["to_baseline"] == 5.0
    assert preset["cpu_to_ceiling"] == pytest.approx(0.5)
    pop = by_name["population of 4 on agentgym/Reach-v0"]
    pops = [r for r in rows if r["name"].startswith("population")]
    assert [r["name"].split(" (")[1] for r in pops] == [
        "vs sequential)",
        # the row is a throughput ratio: the wall-time target (<= 2x) reads as >= K/2 here
        "vs one member alone: the target, 4 members in <= 2x one's wall time, is >= 2.00x)",
    ]
    assert pops[0]["to_baseline"] == pytest.approx(2.5)
    # 4 members in 2 s against one alone in 1 s: 4000 vs 1000 steps/s, 2x (the <= 2x target)
    assert pops[1]["to_baseline"] == pytest.approx(2.0) and pop["date"] == "d3"
    on_mjx = by_name["MJX env agentgym/HalfCheetah-v0, 4096 envs, JAX cuda:0"]
    assert on_mjx["to_ceiling"] == pytest.approx(3.15) and on_mjx["to_baseline"] == 3.0
    ppo_mjx = by_name["our PPO, MJX physics, 4096 envs, learner on cuda, JAX cuda:0"]
    assert ppo_mjx["to_ceiling"] == pytest.approx(2.1) and ppo_mjx["date"] == "d4"
    text = write_summary(tmp_path).read_text()
    assert (
        "| our PPO compiled, HalfCheetah-v5, 8 env(s), SB3 settings (vs SB3) | 12000 | 0.30 | 3.00x |"
        in text
    )


def test_summary_without_the_ceiling_says_it_was_not_measured(tmp_path):
    _write(tmp_path, "ppo.json", {"speed": {"date": "d", "cases": []}})
    rows, ceiling = summary_rows(tmp_path)
    assert rows == [] and ceiling == {}
    assert "not measured" in write_summary(tmp_path).read_text()
