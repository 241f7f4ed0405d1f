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


def record(env_id: str, episodes: int, out: Path, *options: str) -> int:
    """``agentgym record`` in this process; its exit code."""
    return main(
        ["record", "--env", env_id, "--episodes", str(episodes), "--out", str(out), *options]
    )


def test_record_writes_one_episode_per_line_with_its_steps(tmp_path: Path):
    out = tmp_path / "sub" / "household.jsonl"
    assert record("agentgym/Household-v0", 12, out, "--seed", "40") == 0
    records = read(out)
    assert [r["seed"] for r in records] == list(range(40, 52))
    for r in records:
        assert r["env_id"] == "agentgym/Household-v0"
        assert r["instruction"] and r["instruction"] in r["steps"][0]["observation"]
        assert r["length"] == len(r["steps"]) > 0
        assert all(set(step) == STEP_KEYS for step in r["steps"])
        assert r["return"] == sum(step["reward"] for step in r["steps"])
        assert r["success"] is True and r["truncated"] is False


def test_a_recorded_episode_replays_to_the_recorded_observations(tmp_path: Path):
    out = tmp_path / "household.jsonl"
    assert record("agentgym/Household-v0", 12, out, "--seed", "40") == 0
    # Replaying the recorded commands on a fresh env gives the recorded observations.
    env = gym.make("agentgym/Household-v0")
    r = read(out)[3]
    obs, _ = env.reset(seed=r["seed"])
    for step in r["steps"]:
        assert obs == step["observation"]
        obs, reward, *_ = env.step(step["action"])
        assert reward == step["reward"]
    assert obs == r["final_observation"]


def test_record_reports_the_experts_success_rate(tmp_path: Path, capsys):
    assert record("agentgym/Household-v0", 12, tmp_path / "h.jsonl", "--seed", "40") == 0
    assert "expert success 12/12 (100.0%)" in capsys.readouterr().err.replace("\n", " ")


def test_recordings_are_reproducible(tmp_path: Path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        assert record("agentgym/BabyAI-GoToLocal-v0", 5, path) == 0
    assert a.read_text() == b.read_text()


def test_dict_observations_are_recorded_as_their_text(tmp_path: Path):
    out = tmp_path / "babyai.jsonl"
    assert record("agentgym/BabyAI-GoToLocal-v0", 5, out) == 0
    records = read(out)
    assert records[0]["steps"][0]["observation"].startswith("Mission: ")
    assert sum(r["success"] for r in records) == 5


def test_record_refuses_an_env_without_an_expert(tmp_path: Path, capsys):
    out = tmp_path / "reach.jsonl"
    assert record("agentgym/Reach-v0", 1, out) == 2
    assert "has no expert" in capsys.readouterr().err
    assert not out.exists()


def test_record_refuses_an_unknown_env(tmp_path: Path):
    assert record("agentgym/Housefold-v0", 1, tmp_path / "x.jsonl") == 2


def test_the_old_name_demos_still_records_and_warns_it_is_deprecated(tmp_path: Path, capsys):
    out = tmp_path / "old.jsonl"
    args = ["--env", "agentgym/Household-v0", "--episodes", "2", "--out", str(out)]
    assert main(["demos", *args]) == 0
    err = capsys.readouterr().err
    assert "'agentgym demos' is deprecated" in err and "agentgym record" in err
    assert len(read(out)) == 2
