"""Tool-use tasks: the backends, JSON calls, ToolRL-style reward terms, the expert."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from agentgym.assets import asset_path
from agentgym.envs.web.tools.calculator import CalculatorError, calculate
from agentgym.envs.web.tools.calls import CallError, answer_correct, parse_call
from agentgym.envs.web.tools.make_kb import make_kb
from agentgym.envs.web.tools.toolbox import ToolError, kb_lookup
from agentgym.envs.web.tools.units import UnitError, convert

KIND_IDS = [
    "agentgym/Tools-v0",
    "agentgym/Tools-Calculator-v0",
    "agentgym/Tools-Units-v0",
    "agentgym/Tools-KB-v0",
    "agentgym/Tools-SQL-v0",
    "agentgym/Tools-Multi-v0",
]


def call(name: str, **arguments) -> str:
    return json.dumps({"name": name, "arguments": arguments})


@pytest.mark.parametrize(
    "expression, value",
    [
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("2 ** 10", 1024),
        ("7 // 2", 3),
        ("-3 + 1", -2),
        ("sqrt(16) + abs(-2)", 6),
        ("10 / 4", 2.5),
        ("2 ^ 3", 8),
    ],
)
def test_calculator_values(expression, value):
    assert calculate(expression) == value


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "().__class__",
        "x + 1",
        "9 ** 9 ** 9",
        "1 / 0",
        "open('f')",
        "[1, 2]",
        "",
        "1 +",
    ],
)
def test_calculator_refuses_what_is_not_arithmetic(expression):
    with pytest.raises(CalculatorError):
        calculate(expression)


def test_unit_conversions():
    assert convert(100, "c", "f") == pytest.approx(212)
    assert convert(32, "fahrenheit", "celsius") == pytest.approx(0)
    assert convert(1, "mi", "km") == pytest.approx(1.609344)
    assert convert(1, "kg", "lb") == pytest.approx(2.20462262)
    with pytest.raises(UnitError, match="cannot convert length"):
        convert(1, "km", "kg")
    with pytest.raises(UnitError, match="Did you mean"):
        convert(1, "kilometre", "mi")


def test_shipped_kb_is_the_generator_output_and_lookup_suggests():
    shipped = json.loads(asset_path("tools", "kb.json").read_text())
    assert shipped == make_kb(shipped["seed"])
    name = next(k for k, v in shipped["entities"].items() if v["type"] == "country")
    assert kb_lookup(name.upper(), "capital") == shipped["entities"][name]["capital"]
    with pytest.raises(ToolError, match="Did you mean"):
        kb_lookup(name[:-1], "capital")
    with pytest.raises(ToolError, match="has no relation"):
        kb_lookup(name, "height_m")


def test_call_parsing_accepts_openai_forms():
    assert parse_call(call("sql", query="SELECT 1")) == ("sql", {"query": "SELECT 1"})
    wrapped = {
        "type": "function",
        "function": {"name": "calculator", "arguments": '{"expression": "1+1"}'},
    }
    assert parse_call(json.dumps(wrapped)) == ("calculator", {"expression": "1+1"})
    for bad in (
        '{"name": "sql", "arguments": ',
        '["a", "b"]',
        '{"arguments": {}}',
        '{"name": "x", "arguments": 3}',
    ):
        with pytest.raises(CallError):
            parse_call(bad)


def test_answer_matching():
    assert answer_correct("19,711 ft", 19711, 0)
    assert answer_correct(12.344, 12.34, 2) and not answer_correct(12.36, 12.34, 2)
    assert answer_correct("mapos.", "Mapos", None) and not answer_correct("Mapo", "Mapos", None)


@pytest.mark.parametrize("env_id", KIND_IDS)
def test_expert_succeeds_on_seeded_episodes(env_id):
    # 100 episodes of the family (Tools-v0 mixes every kind) and of the 3-call chains;
    # 30 of each single kind keep the default suite short.
    episodes = 100 if env_id in ("agentgym/Tools-v0", "agentgym/Tools-Multi-v0") else 30
    env = gym.make(env_id)
    successes = []
    try:
        for seed in range(episodes):
            env.reset(seed=seed)
            for _ in range(10):
                _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
                if terminated or truncated:
                    break
            successes.append(info["success"])
    finally:
        env.close()
    assert np.mean(successes) >= 0.95


def test_reward_terms_follow_toolrl_and_sum_to_the_reward():
    env = gym.make("agentgym/Tools-Multi-v0")
    try:
        env.reset(seed=0)
        q = env.unwrapped.question
        name, args = q.gold_calls[0]
        _, r, _, _, info = env.step(json.dumps({"name": name, "arguments": args}))
        assert info["reward_terms"] == pytest.approx(
            {"format": 0.05, "tool_name": 0.1, "arguments": 0.15, "answer": 0.0}
        )
        assert r == pytest.approx(0.3)
        # A needed tool with half of its argument values wrong scores half the values part.
        name2, args2 = q.gold_calls[1]
        if name2 == "unit_convert":
            bad = {**args2, "to_unit": "yd"}
            _, r2, _, _, info = env.step(json.dumps({"name": name2, "arguments": bad}))
            assert info["reward_terms"]["arguments"] == pytest.approx(0.15 * (0.5 + 0.5 * 2 / 3))
        # A tool the question does not need.
        _, r3, _, _, info = env.step(call("calculator", expression="1 + 1"))
        assert info["action_valid"]
        assert info["reward_terms"]["tool_name"] in (-0.05, 0.1)
        # A wrong final answer ends the episode with the penalty.
        _, r4, terminated, _, info = env.step(call("final_answer", answer="certainly not this"))
        assert terminated and not info["success"]
        assert info["reward_terms"]["answer"] == -0.5
        assert r4 == pytest.approx(sum(info["reward_terms"].values()))
    finally:
        env.close()


@pytest.mark.parametrize(
    "action, needle, format_term",
    [
        ('{"name": "calculator", "arguments": {"expression": "1+1"', "malformed JSON", -0.1),
        (call("weather", city="Paris"), "Unknown tool 'weather'", 0.05),
        (call("calculator", expr="1+1"), "missing ['expression'], unexpected ['expr']", 0.05),
        (call("calculator", expression="import os"), "calculator failed", 0.05),
        (call("sql", query="DELETE FROM employees"), "readonly", 0.05),
        (call("sql", query="SELECT nope FROM employees"), "no such column", 0.05),
        (call("kb_lookup", entity="Atlantis", relation="capital"), "no entity 'Atlantis'", 0.05),
        ("just tell me", "malformed JSON", -0.1),
    ],
)
def test_invalid_calls_are_answered_not_raised(action, needle, format_term):
    env = gym.make("agentgym/Tools-v0")
    try:
        env.reset(seed=4)
        obs, reward, terminated, _, info = env.step(action)
        assert info["action_valid"] is False
        assert needle in obs
        assert not terminated
        assert info["reward_terms"]["format"] == format_term
        assert info["reward_state"]["question"] in obs  # the question stays in view
    finally:
        env.close()


def test_sql_database_is_read_only_and_per_episode():
    env = gym.make("agentgym/Tools-SQL-v0")
    try:
        env.reset(seed=1)
        _, _, _, _, info = env.step(call("sql", query="SELECT COUNT(*) FROM orders"))
        assert info["action_valid"] and info["reward_state"]["last_result"] == "[[40]]"
        _, _, _, _, info = env.step(call("sql", query="DROP TABLE orders"))
        assert not info["action_valid"]
        _, _, _, _, info = env.step(call("sql", query="SELECT COUNT(*) FROM orders"))
        assert info["reward_state"]["last_result"] == "[[40]]"
        tmp = env.unwrapped._tmp
        assert (tmp / "episode.sqlite").exists()
    finally:
        env.close()
    assert not tmp.exists()


def test_a_reward_program_reads_the_tool_state(tmp_path):
    program = tmp_path / "tool_reward.py"
    program.write_text(
        "def compute_reward(state, action):\n"
        "    calls = state['num_tool_calls'].float()\n"
        "    answered = state['answered'].float()\n"
        "    return answered - 0.1 * calls, {'answered': answered, 'calls': -0.1 * calls}\n"
    )
    env = gym.make("agentgym/Tools-KB-v0", reward=str(program))
    try:
        env.reset(seed=0)
        _, r1, _, _, info1 = env.step(env.unwrapped.expert_action())
        _, r2, terminated, _, info2 = env.step(env.unwrapped.expert_action())
        assert terminated and info2["success"]
        assert r1 == pytest.approx(-0.1) and r2 == pytest.approx(0.9)
        assert info2["env_reward"] == pytest.approx(0.05 + 0.1 + 1.0)  # the env's own reward
    finally:
        env.close()
