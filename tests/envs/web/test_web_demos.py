"""`agentgym record` records the web and tool experts (the interface SPA and agent-PPO use)."""

from __future__ import annotations

import json

from agentgym.cli import main


def test_demos_of_the_tool_and_shop_experts(tmp_path):
    for env_id, episodes in (("agentgym/Tools-Multi-v0", 4), ("agentgym/Shop-v0", 3)):
        out = tmp_path / "demos.jsonl"
        assert (
            main(
                [
                    "record",
                    "--env",
                    env_id,
                    "--episodes",
                    str(episodes),
                    "--out",
                    str(out),
                    "--seed",
                    "10",
                ]
            )
            == 0
        )
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["seed"] for r in records] == list(range(10, 10 + episodes))
        assert all(r["env_id"] == env_id and r["success"] for r in records)
        for record in records:
            assert all(step["action_valid"] for step in record["steps"])
            assert record["return"] > 0
