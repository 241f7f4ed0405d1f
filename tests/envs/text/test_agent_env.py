"""The TextTaskEnv conventions shared by every language-action family."""

from __future__ import annotations

import numpy as np
import pytest

from agentgym.text_env import (
    MAX_COMMAND_LENGTH,
    command_space,
    fit_text,
    normalize_command,
    observation_text,
    parse_action,
    text_space,
)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("  Turn LEFT. ", "turn left"),
        ("go   to\tcountertop 1", "go to countertop 1"),
        ("PICK UP!", "pick up"),
    ],
)
def test_commands_are_normalised(given, expected):
    assert normalize_command(given) == expected
    assert parse_action(given) == (expected, "")


def test_bytes_and_numpy_strings_are_commands():
    assert parse_action(b"Go Forward") == ("go forward", "")
    assert parse_action(np.str_("drop")) == ("drop", "")
    assert parse_action(np.array("toggle")) == ("toggle", "")


@pytest.mark.parametrize(
    "action, problem",
    [
        (None, "expected a text command (str), got NoneType"),
        (3, "got int"),
        (np.array(["a", "b"]), "got ndarray"),
        ("", "the command is empty"),
        (" . ", "the command is empty"),
        ("a" * (MAX_COMMAND_LENGTH + 1), f"at most {MAX_COMMAND_LENGTH}"),
        (b"\xff", "not UTF-8"),
    ],
)
def test_malformed_actions_name_the_problem(action, problem):
    command, message = parse_action(action)
    assert command is None
    assert message.startswith("Malformed action") and problem in message


def test_fit_text_stays_in_the_space():
    space = text_space(50)
    for text in ["héllo wörld ✓", "x" * 400, "", "tab\tand\nnewline"]:
        fitted = fit_text(text, 50)
        assert space.contains(fitted), repr(fitted)
    assert fit_text("héllo", 50) == "h?llo"
    assert fit_text("x" * 400, 50).endswith("[...]")


def test_command_space_samples_are_strings_in_the_space():
    space = command_space()
    space.seed(0)
    samples = [space.sample() for _ in range(20)]
    assert all(isinstance(s, str) and space.contains(s) for s in samples)
    assert space.contains("take apple 1 from countertop 1")
    assert space.contains("put apple 1 in/on fridge 1")


def test_observation_text_of_dicts():
    assert observation_text({"text": "hi", "image": np.zeros(3)}) == "hi"
    assert observation_text("plain") == "plain"
    with pytest.raises(KeyError, match="no 'text' view"):
        observation_text({"image": 1})


def test_a_reward_program_reads_text_env_state(tmp_path):
    """A reward program on a text env reads numbers and flags from the TaskSpec state;
    the command itself is not a tensor, so its action is the validity flag."""
    import gymnasium as gym

    program = tmp_path / "household_reward.py"
    program.write_text(
        "import torch\n"
        "def compute_reward(state, action):\n"
        "    placed = state['objects_in_place'].float()\n"
        "    invalid = -0.1 * (1 - state['last_action_valid'].float())\n"
        "    assert torch.equal(action.bool(), state['last_action_valid'])\n"
        "    return placed + invalid, {'placed': placed, 'invalid': invalid}\n"
    )
    env = gym.make("agentgym/Household-v0", reward=str(program))
    env.reset(seed=0)
    _, reward, _, _, info = env.step("dance")
    assert reward == pytest.approx(-0.1)
    assert info["reward_terms"]["invalid"] == pytest.approx(-0.1) and info["env_reward"] == 0.0
    terminated = truncated = False
    while not (terminated or truncated):
        _, reward, terminated, truncated, info = env.step(env.unwrapped.expert_action())
    assert terminated and reward == pytest.approx(1.0) and info["env_reward"] == 1.0
