"""Candidates of equal success rate rank by the task fitness, then by the env's return;
Eureka's reflection shows the fitness."""

from __future__ import annotations

from agentgym.reward_designers.prompting import PromptBuilder
from agentgym.reward_designers.synthesis.candidates import (
    REJECTED,
    TRAINED,
    Candidate,
    best_candidate,
)
from agentgym.reward_designers.synthesis.reflection import reflection_series


def _trained(index: int, success: float, fitness: float | None, ret: float) -> Candidate:
    return Candidate(0, index, TRAINED, success=success, fitness=fitness, mean_return=ret)


def test_equal_success_ranks_by_fitness_not_return():
    low_fit_high_return = _trained(0, 0.0, 0.2, 100.0)
    high_fit_low_return = _trained(1, 0.0, 0.7, -50.0)
    assert best_candidate([low_fit_high_return, high_fit_low_return]) is high_fit_low_return


def test_success_first_then_fitness_then_return():
    a = _trained(0, 0.5, 0.1, 0.0)
    b = _trained(1, 0.4, 0.9, 99.0)
    assert best_candidate([a, b]) is a
    c = _trained(2, 0.5, 0.1, 5.0)
    assert best_candidate([a, c]) is c  # fitness ties: return decides
    d = _trained(3, 0.5, None, 1e9)  # no fitness reported ranks below any fitness
    assert best_candidate([d, a]) is a
    assert best_candidate([Candidate(0, 4, REJECTED, "CONSTANT"), d]) is d


def test_reflection_shows_task_fitness():
    rows = [{"step": i, "reward_terms/dist": -1.0 + i / 10, "success_rate": 0.0} for i in range(10)]
    rows += [{"step": 5, "eval/success_rate": 0.0, "eval/fitness": 0.25}]
    rows += [{"step": 9, "eval/success_rate": 0.0, "eval/fitness": 0.5}]
    series = reflection_series(rows, checkpoints=10)
    assert series["task_fitness"] == [0.25, 0.5]
    text = PromptBuilder().reflection(
        "def compute_reward(s, a): ...", series, 10, fitness="1 - d/d0"
    )
    assert "task_fitness: [0.25, 0.5]" in text and "1 - d/d0" in text
