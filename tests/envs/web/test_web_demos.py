"""`agentgym record` records the web and tool experts (the interface SPA and agent-PPO use)."""

from __future__ import annotations

import json

import pytest

from agentgym.cli import main


@pytest.mark.parametrize(
    ("env_id", "episodes"), [("agentgym/Tools-Multi-v0", 4), ("agentgym/Shop-v0", 3)]
)
def test_record_keeps_the_experts_successful_episodes(tmp_path, env_id, episodes):
    out = tmp_path / "demos.jsonl"
    args = ["--env", env_id, "--episodes", str(episodes), "--out", str(out), "--seed", "10"]
    assert main(["record", *args]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seed"] for r in records] == list(range(10, 10 + episodes))
    assert all(r["env_id"] == env_id and r["success"] for r in records)
    for record in records:
        assert all(step["action_valid"] for step in record["steps"])
        assert record["return"] > 0
