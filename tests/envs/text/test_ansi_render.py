"""``render_mode="ansi"`` on text envs shows the whole text view, after reset and steps."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agentgym.text_env import observation_text

# One env of each family that runs without a browser.
FAMILIES = [
    "agentgym/BabyAI-GoToLocal-v0",
    "agentgym/Household-v0",
    "agentgym/Shop-v0",
    "agentgym/Tools-v0",
]


@pytest.mark.parametrize("env_id", FAMILIES)
def test_ansi_render_after_reset_is_the_observation_and_the_mission(env_id):
    env = gym.make(env_id, render_mode="ansi")
    obs, _ = env.reset(seed=0)
    view = env.render()
    text = observation_text(obs)
    assert text.strip() and text in view
    assert env.unwrapped.mission in view
    env.close()


@pytest.mark.parametrize("env_id", FAMILIES)
def test_ansi_render_after_steps_shows_the_command_and_the_whole_observation(env_id):
    env = gym.make(env_id, render_mode="ansi")
    env.reset(seed=0)
    for _ in range(2):
        command = env.unwrapped.expert_action()
        obs, *_ = env.step(command)
    view = env.render()
    assert observation_text(obs) in view
    assert f"> {env.unwrapped.last_action}" in view
    assert env.unwrapped.mission in view
    env.close()


def test_ansi_render_of_babyai_keeps_every_line_of_the_observation():
    # BabyAI's observation is several lines (mission, what is carried, what is seen);
    # render used to return only the feedback line of the last command.
    env = gym.make("agentgym/BabyAI-GoToLocal-v0", render_mode="ansi")
    env.reset(seed=0)
    obs, *_ = env.step("go forward")
    view = env.render()
    assert len(observation_text(obs).splitlines()) > 2
    assert view.endswith(observation_text(obs))
    env.close()


def test_other_render_modes_give_no_text():
    env = gym.make("agentgym/Household-v0")
    env.reset(seed=0)
    assert env.render() is None
    env.close()
