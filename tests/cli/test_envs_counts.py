"""``agentgym envs`` counts tasks and the distinct robots that do them."""

from __future__ import annotations

import json

from agentgym.catalog import env_ids, task_spec


def test_envs_counts_tasks_and_distinct_robots(agentgym_cli):
    rows = json.loads(agentgym_cli("envs", "--json", "--no-spaces").stdout)
    robots = {r["robot"] for r in rows if r["robot"]}
    # MetaWorld's ten tasks are one robot (Sawyer); the humanoid poses share the Humanoid
    assert {"Sawyer", "Humanoid", "Ant", "two-link arm"} <= robots
    assert len(robots) < len([r for r in rows if r["robot"]])
    table = agentgym_cli("envs", "--no-spaces", env={"COLUMNS": "200"}).stdout
    assert f"agentgym envs: {len(rows)} tasks, {len(robots)} robots" in table


def test_every_embodied_task_names_its_robot():
    for env_id in env_ids():
        spec = task_spec(env_id)
        if spec.family in ("robotics", "manipulation", "vlm"):
            assert spec.robot, env_id
        else:
            assert not spec.robot, env_id  # a language agent, not a robot
