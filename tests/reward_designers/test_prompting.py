from __future__ import annotations

import json

import pytest

from agentgym.catalog import task_spec
from agentgym.reward_designers.prompting import Example, PromptBuilder
from agentgym.reward_designers.synthesis.reflection import reflection_series
from agentgym.reward_designers.synthesis.retrieval import retrieve
from agentgym.spec import StateVar, TaskSpec


def test_initial_prompt_has_abstraction_signature_and_no_privileged_state():
    task = task_spec("agentgym/Reach-v0")
    system, user = PromptBuilder().initial(task)
    assert system["role"] == "system" and user["role"] == "user"
    text = user["content"]
    for var in task.state:
        assert f"    {var.name}: torch.Tensor" in text
    assert "def compute_reward(state: dict[str, torch.Tensor], action: torch.Tensor)" in text
    assert task.success in text and "temperature" in text
    assert "\n    success" not in text  # the success flag is never a state attribute


def test_template_override_by_file(tmp_path):
    (tmp_path / "system.j2").write_text("Custom system for {{ 'rewards' }}.")
    system, _ = PromptBuilder(tmp_path).initial(task_spec("agentgym/Reach-v0"))
    assert system["content"] == "Custom system for rewards."


def test_a_missing_template_dir_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="template_dir"):
        PromptBuilder(tmp_path / "missing")


def _training_rows() -> list[dict]:
    rows = [
        {
            "step": i,
            "reward_terms/dist": -1.0 + i / 100,
            "success_rate": i / 100,
            "episode_length": 50,
        }
        for i in range(100)
    ]
    rows.insert(5, {"step": 5, "eval/success_rate": 0.5})  # eval rows carry no terms: ignored
    return rows


def test_reflection_series_samples_checkpoints_of_each_term():
    series = reflection_series(_training_rows(), checkpoints=10)
    assert list(series) == ["dist", "success_rate", "episode_length"]
    assert len(series["dist"]) == 10
    assert series["dist"][0] == -1.0 and series["dist"][-1] == pytest.approx(-0.01)


def test_reflection_prompt_renders_each_series_with_its_stats():
    series = reflection_series(_training_rows(), checkpoints=10)
    text = PromptBuilder().reflection("def compute_reward(s, a): ...", series, 10)
    assert "dist: [-1.0," in text and "Max: -0.01" in text and "Min: -1.0" in text
    assert "rewrite the entire reward function" in text


def test_error_feedback_names_code_and_message():
    text = PromptBuilder().error("x = 1", "BAD_SHAPE", "reward has shape [] but must be [64]")
    assert "BAD_SHAPE" in text and "[64]" in text and "x = 1" in text


def test_retrieval_ranks_by_similarity_and_never_returns_own_program():
    task = TaskSpec(
        "Push",
        "Push the puck to the goal with the gripper.",
        "puck at goal",
        (StateVar("puck", (3,), "float32", "m", "puck position"),),
    )
    pool = [
        Example("Push", "Push the puck to the goal", "own"),
        Example("Walk", "Run forward as fast as possible", "walk"),
        Example("Slide", "Slide the puck to the goal with the gripper", "slide"),
    ]
    got = retrieve(task, 2, pool)
    assert [e.task_name for e in got] == ["Slide", "Walk"]
    assert retrieve(task, 0, pool) == []
    json.dumps([e.__dict__ for e in got])  # examples stay plain data for the run folder
