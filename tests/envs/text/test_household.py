"""The household text world: seeded generation, the command language, admissible
commands, goal checks, and the planner expert on 100 seeded episodes of each task type."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

from agentgym.envs.text.household import commands
from agentgym.envs.text.household.world import APPLIANCE, TASK_TYPES, generate
from agentgym.text_env import expert_episode

TASK_IDS = {
    "pick_and_place": "agentgym/Household-PickPlace-v0",
    "pick_two": "agentgym/Household-PickTwo-v0",
    "clean": "agentgym/Household-Clean-v0",
    "heat": "agentgym/Household-Heat-v0",
    "cool": "agentgym/Household-Cool-v0",
    "examine": "agentgym/Household-Examine-v0",
}


def make(env_id: str = "agentgym/Household-v0", seed: int = 0):
    env = gym.make(env_id)
    obs, info = env.reset(seed=seed)
    return env, obs, info


def test_generation_is_a_function_of_the_seed():
    a = generate(np.random.default_rng(11))
    b = generate(np.random.default_rng(11))
    c = generate(np.random.default_rng(12))
    assert a == b
    assert a != c


def test_mixed_env_draws_every_task_type_and_room():
    env = gym.make("agentgym/Household-v0")
    types, rooms = set(), set()
    for seed in range(60):
        _, info = env.reset(seed=seed)
        types.add(info["task_type"])
        rooms.add(info["room"])
    assert types == set(TASK_TYPES)
    assert rooms == {"kitchen", "living room", "bedroom", "bathroom"}


@pytest.mark.parametrize("task", TASK_TYPES)
def test_no_goal_holds_at_reset_and_the_world_is_consistent(task):
    for seed in range(40):
        world = generate(np.random.default_rng(seed), task)
        assert world.goal.task_type == task
        assert not world.goal_reached()
        assert world.objects_in_place() == 0
        goal_objects = [t for t in world.things.values() if t.kind == world.goal.object_kind]
        assert len(goal_objects) >= world.goal.count
        for name, thing in world.things.items():  # every object is in exactly one receptacle
            holders = [r.name for r in world.receptacles.values() if name in r.contents]
            assert holders == [thing.location]
        if task in APPLIANCE:
            assert world.of_kind(APPLIANCE[task]), "the appliance the task needs exists"
        if task == "examine":
            assert world.lamp() is not None


def test_reset_observation_names_room_and_task():
    env, obs, info = make("agentgym/Household-Heat-v0", seed=4)
    assert obs.startswith("You are in the middle of a kitchen.")
    assert "microwave 1" in obs and "Your task is to: " in obs
    assert info["mission"] in obs
    assert info["reward_state"]["mission"] == info["mission"]
    assert info["reward_state"]["task_type"] == "heat"


def test_invalid_commands_say_nothing_happens_and_change_nothing():
    env, obs, info = make(seed=5)
    world_before = copy.deepcopy(env.unwrapped.world)
    for bad in [
        "take apple 99 from fridge 1",
        "go to moon 1",
        "dance",
        "put nothing in/on sofa 1",
        "open countertop 1",
        "heat mug 1 with sinkbasin 1",
        "use desklamp 9",
    ]:
        obs, reward, terminated, truncated, info = env.step(bad)
        assert obs == "Nothing happens."
        assert info["action_valid"] is False
        assert reward == 0.0 and not terminated
    assert env.unwrapped.world == world_before
    assert info["reward_state"]["invalid_actions"] == 7
    assert info["reward_state"]["steps_taken"] == 7


@pytest.mark.parametrize(
    "action", [None, 3, 2.5, ["go", "to"], {"a": 1}, "", "   ", "x" * 500, np.zeros(3), b"\xff\xfe"]
)
def test_malformed_actions_are_answered_not_raised(action):
    env, obs, info = make(seed=1)
    before = copy.deepcopy(env.unwrapped.world)
    obs, reward, terminated, truncated, info = env.step(action)
    assert info["action_valid"] is False
    assert "Malformed action" in obs
    assert env.observation_space.contains(obs)
    assert env.unwrapped.world == before


def test_command_variants_are_understood():
    env, _, info = make("agentgym/Household-Clean-v0", seed=3)
    first = info["admissible_actions"][2]  # "go to <receptacle>"
    target = first.removeprefix("go to ")
    obs, *_, info = env.step(f"  Go To the {target.replace(' ', '')}. ")
    assert info["action_valid"] and obs.startswith(f"You arrive at {target}.")
    assert commands.parse("put apple 1 in/on fridge 1") == commands.Command(
        "put", "apple 1", "fridge 1"
    )
    assert commands.parse("move apple 1 to fridge 1") == commands.Command(
        "put", "apple 1", "fridge 1"
    )
    assert commands.parse("put the apple 1 on countertop 2") == commands.Command(
        "put", "apple 1", "countertop 2"
    )
    assert commands.parse("take apple 1 from countertop 1") == commands.Command(
        "take", "apple 1", "countertop 1"
    )
    assert commands.parse("examine apple 1") == commands.Command("examine", "apple 1")
    assert commands.parse("fly away") is None


def test_every_admissible_command_is_valid_and_others_are_not():
    """Admissible commands and the executor agree, along expert trajectories."""
    env = gym.make("agentgym/Household-v0")
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            world = env.unwrapped.world
            for command in info["admissible_actions"]:
                cmd = commands.parse(command)
                assert cmd is not None and commands.problem(world, cmd) == "", (seed, command)
                commands.apply(copy.deepcopy(world), cmd)  # executes without error
            # Commands outside the list are refused: every take/put/open of other names.
            for command in (
                "take unicorn 1 from sofa 1",
                "open unicorn 1",
                "put unicorn 1 in/on sofa 1",
            ):
                assert commands.problem(world, commands.parse(command)) != ""
            obs, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            done = terminated or truncated


def test_closed_receptacles_hide_their_contents_until_opened():
    env = gym.make("agentgym/Household-Cool-v0")
    env.reset(seed=0)
    world = env.unwrapped.world
    fridge = world.of_kind("fridge")[0]
    marker = next(t for t in world.things.values() if t.location != fridge.name)
    world.receptacles[marker.location].contents.remove(marker.name)
    fridge.contents.append(marker.name)  # it must not be shown while the fridge is closed
    marker.location = fridge.name
    obs, *_ = env.step("go to fridge 1")
    assert obs == "You arrive at fridge 1. The fridge 1 is closed."
    assert "fridge 1" not in world.seen
    obs, *_, info = env.step("open fridge 1")
    assert marker.name in obs and info["action_valid"]
    assert "fridge 1" in world.seen


def _walk(env, steps: list[str]):
    info = {}
    for command in steps:
        obs, reward, terminated, truncated, info = env.step(command)
        assert info["action_valid"], (command, obs)
    return reward, terminated, info


def test_heat_goal_needs_the_heated_object_in_place():
    env, obs, info = make("agentgym/Household-Heat-v0", seed=2)
    world = env.unwrapped.world
    goal = world.goal
    thing = next(t for t in world.things.values() if t.kind == goal.object_kind)
    source, target = world.receptacles[thing.location], world.of_kind(goal.target_kind)[0]
    fetch = [f"go to {source.name}"] + ([f"open {source.name}"] if source.openable else [])
    fetch.append(f"take {thing.name} from {source.name}")
    place = [f"go to {target.name}"] + ([f"open {target.name}"] if target.openable else [])
    # Cold object in place: not a success; then heat it and put it back: success.
    reward, terminated, info = _walk(env, fetch + place + [f"put {thing.name} in/on {target.name}"])
    assert not terminated and not info["success"] and reward == 0.0
    assert info["reward_state"]["objects_in_place"] == 0
    assert not info["reward_state"]["goal_object_ready"]
    reward, terminated, info = _walk(
        env,
        [
            f"take {thing.name} from {target.name}",
            "go to microwave 1",
            f"heat {thing.name} with microwave 1",
        ],
    )
    assert info["reward_state"]["goal_object_ready"] and info["reward_state"]["holding_goal_object"]
    reward, terminated, info = _walk(
        env, [f"go to {target.name}", f"put {thing.name} in/on {target.name}"]
    )
    assert terminated and info["success"] and reward == 1.0
    assert info["reward_state"]["objects_in_place"] == 1


def test_cooling_undoes_heating():
    env, *_ = make("agentgym/Household-Cool-v0", seed=6)
    world = env.unwrapped.world
    thing = next(t for t in world.things.values() if t.kind == world.goal.object_kind)
    thing.hot = True
    world.receptacles[thing.location].contents.remove(thing.name)
    thing.location, world.holding = None, thing.name
    _walk(env, ["go to fridge 1", f"cool {thing.name} with fridge 1"])
    assert thing.cool and not thing.hot
    obs, *_ = env.step(f"examine {thing.name}")
    assert obs == f"This is a cool {thing.name}."


def test_examine_needs_the_object_in_hand_under_the_lit_lamp():
    env, obs, info = make("agentgym/Household-Examine-v0", seed=8)
    world = env.unwrapped.world
    lamp = world.lamp()
    # Lamp on with empty hands: not a success.
    reward, terminated, info = _walk(env, [f"go to {lamp.location}", f"use {lamp.name}"])
    assert not terminated and world.lamp_on
    _walk(env, [f"use {lamp.name}"])  # off again
    thing = next(t for t in world.things.values() if t.kind == world.goal.object_kind)
    source = world.receptacles[thing.location]
    steps = [f"go to {source.name}"] if source.name != world.agent_at else []
    steps += [f"open {source.name}"] if source.openable else []
    steps += [f"take {thing.name} from {source.name}"]
    steps += [f"go to {lamp.location}"] if source.name != lamp.location else []
    reward, terminated, info = _walk(env, steps)
    assert not terminated
    reward, terminated, info = _walk(env, [f"use {lamp.name}"])
    assert terminated and info["success"] and reward == 1.0


def test_truncated_after_80_commands_without_success():
    env, *_ = make(seed=0)
    for _ in range(80):
        obs, reward, terminated, truncated, info = env.step("look")
        assert not terminated
    assert truncated and not info["success"]


@pytest.mark.parametrize("task", TASK_TYPES)
def test_expert_solves_at_least_95_percent_of_100_seeded_episodes(task):
    env = gym.make(TASK_IDS[task])
    records = [expert_episode(env, seed=seed) for seed in range(100)]
    solved = sum(r["success"] for r in records)
    assert solved >= 95, f"{task}: the expert solved {solved}/100"
    for r in records:
        assert all(step["action_valid"] for step in r["steps"]), (
            "the expert issued an invalid command"
        )
        assert all(step["action"] in step["admissible_actions"] for step in r["steps"])
        assert r["success"] == (r["return"] == 1.0)


def test_expert_takes_over_mid_episode():
    """The planner is stateless: after random admissible commands it still finishes."""
    env = gym.make("agentgym/Household-v0")
    rng = np.random.default_rng(0)
    solved = 0
    for seed in range(30):
        obs, info = env.reset(seed=seed)
        for _ in range(6):
            choice = info["admissible_actions"][int(rng.integers(len(info["admissible_actions"])))]
            obs, _, terminated, truncated, info = env.step(choice)
            if terminated:
                break
        while not (terminated or truncated):
            obs, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        solved += info["success"]
    assert solved >= 28


def test_expert_does_not_read_unseen_receptacles():
    """Until a goal object has been seen, the expert only explores (go to / open)."""
    env = gym.make("agentgym/Household-PickPlace-v0")
    for seed in range(20):
        obs, info = env.reset(seed=seed)
        world = env.unwrapped.world
        while True:
            seen_goal = any(
                t.kind == world.goal.object_kind and t.location in world.seen
                for t in world.things.values()
            )
            action = env.unwrapped.expert_action()
            if seen_goal:
                break
            assert action.startswith(("go to ", "open ")), (seed, action)
            target = (
                action.split(" ", 2)[-1] if action.startswith("go to") else action.split(" ", 1)[1]
            )
            assert target not in world.seen, "exploration revisits a receptacle it has seen"
            env.step(action)
