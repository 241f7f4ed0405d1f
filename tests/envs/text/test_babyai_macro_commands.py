"""AgentGym's high-level BabyAI commands on our text BabyAI (MacroCommands): every
offered ``go to``/``pickup`` command ends where it says, planning is shortest, and the
commands that do nothing take no step."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agentgym.envs.text.babyai.macro_commands import (
    CHECK,
    NOT_RECOGNISED,
    MacroCommands,
    normalise,
    object_name,
    plan_path,
)

LEVEL = "agentgym/BabyAI-GoToLocal-v0"


def fresh(seed: int) -> tuple[MacroCommands, dict]:
    env = MacroCommands(gym.make(LEVEL))
    _, info = env.reset(seed=seed)
    return env, info


@pytest.mark.parametrize("seed", [0, 1, 3])  # seed 2 starts facing a wall, seeing nothing
def test_every_go_to_and_pickup_ends_at_the_named_object(seed):
    _, info = fresh(seed)
    offered = [a for a in info["admissible_actions"] if a.startswith(("go to ", "pickup "))]
    assert offered, info["admissible_actions"]
    for command in offered:
        env, _ = fresh(seed)
        name = (
            command.split(" ", 2)[-1].rsplit(" ", 1)[0]
            if command.startswith("go to ")
            else command[7:].rsplit(" ", 1)[0]
        )
        _, _, terminated, _, info = env.step(command)
        grid = env.unwrapped._inner
        if terminated:  # facing the mission's object on the way ends the episode there
            assert info["success"], command
        elif command.startswith("pickup "):
            assert object_name(grid.carrying) == name, command
        else:
            front = grid.grid.get(*grid.front_pos)
            assert front is not None and object_name(front) == name, command
        assert info["action_valid"]


def test_planned_paths_are_shortest():
    env, _ = fresh(0)
    grid = env.unwrapped._inner
    x, y = (int(v) for v in grid.agent_pos)
    ahead = tuple(int(v) for v in grid.front_pos)
    assert plan_path(grid, ahead, arrive=False) == []  # already facing it
    assert plan_path(grid, (x, y), arrive=True) == []
    dx, dy = ahead[0] - x, ahead[1] - y
    behind = (x - dx, y - dy)
    if grid.grid.get(*behind) is None:
        assert len(plan_path(grid, behind, arrive=False)) == 2  # turn around


def test_check_and_unknown_commands_take_no_step():
    env, info = fresh(0)
    obs, reward, terminated, truncated, out = env.step("Check available actions.")
    assert obs["text"].startswith("You can take the following actions: turn left, turn right")
    assert out["admissible_actions"] == info["admissible_actions"] and out["action_valid"]
    obs, _, _, _, out = env.step("teleport to the moon")
    assert obs["text"].startswith(NOT_RECOGNISED) and out["action_valid"] is False
    assert env.unwrapped.steps_taken == 0 and (reward, terminated, truncated) == (0.0, False, False)


@pytest.mark.parametrize(
    "said, meant",
    [
        ("Pick up red ball 1.", "pickup red ball 1"),
        ("  go   forward ", "move forward"),
        (CHECK.upper(), CHECK),
        ("toggle and go through blue closed door 2", "toggle and go through blue closed door 2"),
    ],
)
def test_commands_are_normalised_to_agentgyms_spelling(said, meant):
    assert normalise(said) == meant
