"""`agentgym record`: expert episodes as JSON lines, reproducible from the seed, with the
expert's success rate reported; envs without an expert are refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym

from agentgym.cli import main

STEP_KEYS = {"observation", "action", "reward", "action_valid", "admissible_actions"}


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_demos_write_one_episode_per_line(tmp_path: Path, capsys):
    out = tmp_path / "sub" / "household.jsonl"
    assert (
        main(
            [
                "record",
                "--env",
                "agentgym/Household-v0",
                "--episodes",
                "12",
                "--out",
                str(out),
                "--seed",
                "40",
            ]
        )
        == 0
    )
    records = read(out)
    assert [r["seed"] for r in records] == list(range(40, 52))
    for r in records:
        assert r["env_id"] == "agentgym/Household-v0"
        assert r["instruction"] and r["instruction"] in r["steps"][0]["observation"]
        assert r["length"] == len(r["steps"]) > 0
        assert all(set(step) == STEP_KEYS for step in r["steps"])
        assert r["return"] == sum(step["reward"] for step in r["steps"])
        assert r["success"] is True and r["truncated"] is False
    # Replaying the recorded commands on a fresh env gives the recorded observations.
    env = gym.make("agentgym/Household-v0")
    r = records[3]
    obs, _ = env.reset(seed=r["seed"])
    for step in r["steps"]:
        assert obs == step["observation"]
        obs, reward, *_ = env.step(step["action"])
        assert reward == step["reward"]
    assert obs == r["final_observation"]
    assert "expert success 12/12 (100.0%)" in capsys.readouterr().err.replace("\n", " ")


def test_demos_are_reproducible_and_carry_text_of_dict_observations(tmp_path: Path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        assert (
            main(
                [
                    "record",
                    "--env",
                    "agentgym/BabyAI-GoToLocal-v0",
                    "--episodes",
                    "5",
                    "--out",
                    str(path),
                ]
            )
            == 0
        )
    assert a.read_text() == b.read_text()
    records = read(a)
    assert records[0]["steps"][0]["observation"].startswith("Mission: ")
    assert sum(r["success"] for r in records) == 5


def test_demos_refuse_envs_without_an_expert(tmp_path: Path, capsys):
    out = tmp_path / "reach.jsonl"
    assert main(["record", "--env", "agentgym/Reach-v0", "--episodes", "1", "--out", str(out)]) == 2
    assert "has no expert" in capsys.readouterr().err
    assert not out.exists()
    assert (
        main(["record", "--env", "agentgym/Housefold-v0", "--episodes", "1", "--out", str(out)])
        == 2
    )


def test_the_old_name_demos_still_records_and_warns_it_is_deprecated(tmp_path: Path, capsys):
    out = tmp_path / "old.jsonl"
    args = ["--env", "agentgym/Household-v0", "--episodes", "2", "--out", str(out)]
    assert main(["demos", *args]) == 0
    err = capsys.readouterr().err
    assert "'agentgym demos' is deprecated" in err and "agentgym record" in err
    assert len(read(out)) == 2
