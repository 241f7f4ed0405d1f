"""BabyAI with text: the description is faithful to the grid, commands map to minigrid
actions, invalid and malformed commands are answered, and BabyAI's bot is an expert
that solves >= 95% of seeded episodes of every registered level."""

from __future__ import annotations

import gymnasium as gym
import minigrid  # noqa: F401  (registers minigrid's own BabyAI ids)
import numpy as np
import pytest

from agentgym.envs.text import BABYAI_LEVELS
from agentgym.envs.text.babyai.language import COMMANDS, describe_object, relative_position
from agentgym.text_env import expert_episode

IDS = [f"agentgym/BabyAI-{name}-v0" for name in BABYAI_LEVELS]


def visible_objects(inner) -> list[str]:
    """Every non-wall object the agent sees, as '<name> <relative position>', computed
    from absolute grid coordinates (independently of the encoded view)."""
    ax, ay = inner.agent_pos
    out = []
    for x in range(inner.width):
        for y in range(inner.height):
            obj = inner.grid.get(x, y)
            if obj is None or obj.type in ("wall", "floor") or (x, y) == (ax, ay):
                continue
            if not inner.agent_sees(x, y):
                continue
            d = np.array([x - ax, y - ay])
            forward, right = int(d @ inner.dir_vec), int(d @ inner.right_vec)
            out.append(f"{describe_object(obj)} {relative_position(forward, right)}")
    return out


@pytest.mark.parametrize("env_id", ["agentgym/BabyAI-GoTo-v0", "agentgym/BabyAI-Unlock-v0"])
def test_text_names_every_visible_object_at_its_relative_position(env_id):
    env = gym.make(env_id)
    checked = 0
    for seed in range(4):
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            inner = env.unwrapped._inner
            text = obs["text"]
            for phrase in visible_objects(inner):
                assert phrase in text, (seed, phrase, text)
                checked += 1
            front = inner.grid.get(*inner.front_pos)
            assert f"In front of you: {describe_object(front)}." in text
            assert f"You carry {describe_object(inner.carrying)}." in text
            assert text.startswith(f"Mission: {inner.mission}.")
            obs, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            done = terminated or truncated
    assert checked > 50  # the check saw many objects, not an empty room


def test_grid_view_stays_available_and_matches_minigrid():
    env = gym.make("agentgym/BabyAI-GoToLocal-v0")
    obs, info = env.reset(seed=3)
    reference = gym.make("BabyAI-GoToLocal-v0")
    ref_obs, _ = reference.reset(seed=3)
    assert np.array_equal(obs["image"], ref_obs["image"])
    assert obs["direction"] == ref_obs["direction"]
    assert info["mission"] == ref_obs["mission"]
    for command, action in [("turn left", 0), ("go forward", 2), ("turn right", 1)]:
        obs, *_ = env.step(command)
        ref_obs, *_ = reference.step(action)
        assert np.array_equal(obs["image"], ref_obs["image"])


def test_commands_aliases_and_case():
    env = gym.make("agentgym/BabyAI-GoToLocal-v0")
    env.reset(seed=0)
    inner = env.unwrapped._inner
    d0 = inner.agent_dir
    _, _, _, _, info = env.step("  Turn LEFT. ")
    assert info["action_valid"] and inner.agent_dir == (d0 - 1) % 4
    _, _, _, _, info = env.step("right")
    assert info["action_valid"] and inner.agent_dir == d0
    assert info["reward_state"]["last_action"] == "turn right"


def test_going_into_a_wall_is_invalid_and_changes_nothing():
    env = gym.make("agentgym/BabyAI-GoToLocal-v0")
    env.reset(seed=0)
    inner = env.unwrapped._inner
    for _ in range(10):  # walk until blocked
        front = inner.grid.get(*inner.front_pos)
        if front is not None and not front.can_overlap():
            break
        env.step("go forward")
    pos = tuple(inner.agent_pos)
    assert "go forward" not in env.unwrapped.admissible_actions()
    obs, reward, terminated, truncated, info = env.step("go forward")
    assert info["action_valid"] is False
    assert "You cannot go forward" in obs["text"] and "in the way" in obs["text"]
    assert tuple(inner.agent_pos) == pos


def test_pickup_drop_and_unknown_commands():
    env = gym.make("agentgym/BabyAI-GoToLocal-v0")
    obs, info = env.reset(seed=1)
    obs, _, _, _, info = env.step("drop")
    assert not info["action_valid"] and "you carry nothing" in obs["text"]
    obs, _, _, _, info = env.step("fly to the moon")
    assert not info["action_valid"]
    assert "Unknown command 'fly to the moon'" in obs["text"]
    assert all(c in obs["text"] for c in COMMANDS)
    assert info["reward_state"]["invalid_actions"] == 2


def test_pick_up_is_described_and_carried():
    env = gym.make("agentgym/BabyAI-Pickup-v0")
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            action = env.unwrapped.expert_action()
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            if action == "pick up":
                carried = describe_object(env.unwrapped._inner.carrying)
                assert f"You pick up {carried}." in obs["text"]
                assert info["reward_state"]["inventory"] == carried
                return
    pytest.fail("the expert never picked anything up")


@pytest.mark.parametrize(
    "action", [None, 7, 1.5, ["turn", "left"], "", "z" * 300, np.array(["go"])]
)
def test_malformed_actions_do_not_crash(action):
    env = gym.make("agentgym/BabyAI-GoToLocal-v0")
    env.reset(seed=0)
    pos = tuple(env.unwrapped._inner.agent_pos)
    obs, reward, terminated, truncated, info = env.step(action)
    assert info["action_valid"] is False
    assert "Malformed action" in obs["text"]
    assert env.observation_space.contains(obs)
    assert tuple(env.unwrapped._inner.agent_pos) == pos


def test_seeds_give_minigrid_layouts():
    env = gym.make("agentgym/BabyAI-SynthSeq-v0")
    reference = gym.make("BabyAI-SynthSeq-v0")
    for seed in (0, 5, 9):
        _, info = env.reset(seed=seed)
        ref_obs, _ = reference.reset(seed=seed)
        assert info["mission"] == ref_obs["mission"]


def test_expert_recovers_after_other_actions():
    env = gym.make("agentgym/BabyAI-GoTo-v0")
    rng = np.random.default_rng(0)
    solved = 0
    for seed in range(10):
        env.reset(seed=seed)
        for _ in range(5):
            env.step(["turn left", "turn right", "go forward"][int(rng.integers(3))])
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            done = terminated or truncated
        solved += info["success"]
    assert solved >= 9


def _success_rate(env_id: str, episodes: int) -> float:
    env = gym.make(env_id)
    records = [expert_episode(env, seed=seed) for seed in range(episodes)]
    for r in records:
        assert r["success"] == (r["return"] > 0)
        assert r["instruction"]
    return sum(r["success"] for r in records) / episodes


@pytest.mark.parametrize("env_id", IDS)
def test_bot_solves_30_seeded_episodes(env_id):
    assert _success_rate(env_id, 30) >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("env_id", IDS)
def test_bot_solves_at_least_95_percent_of_100_seeded_episodes(env_id):
    assert _success_rate(env_id, 100) >= 0.95


@pytest.mark.timeout(300)
def test_expert_never_hangs_where_minigrids_bot_loops_forever():
    """minigrid 3.2's BabyAIBot.replan never returns on BabyAI-Unlock-v0 seed 63; the
    expert abandons such a replan, explores, and the episode ends within the time limit."""
    env = gym.make("agentgym/BabyAI-Unlock-v0")
    record = expert_episode(env, seed=63)
    max_steps = env.unwrapped._inner.max_steps
    assert record["length"] <= max_steps
    assert record["success"] or record["truncated"]
    assert all(step["action"] in COMMANDS for step in record["steps"])
