"""agentgym/Household-v0: a household text world in the spirit of ALFWorld, generated
from a seed.

## Description
The agent stands in a kitchen, living room, bedroom or bathroom full of numbered
receptacles (countertops, cabinets, drawers, a fridge, a microwave, a sink basin,
shelves, ...) holding numbered objects, and is given one household task:

| task type | example instruction | goal condition |
|---|---|---|
| pick_and_place | put a mug in shelf. | an object of the kind is in/on a receptacle of the kind |
| pick_two | put two book in sofa. | two objects of the kind are in/on receptacles of the kind |
| clean | put a clean apple in fridge. | a *cleaned* (at a sink basin) object of the kind is in place |
| heat | heat some egg and put it in diningtable. | a *heated* (microwave) object is in place |
| cool | put a cool tomato in countertop. | a *cooled* (fridge) object is in place |
| examine | look at cellphone under the desklamp. | holding the object at the desk lamp, lamp on |

`agentgym/Household-v0` draws the task type from the seed; `Household-PickPlace-v0`,
`-PickTwo-`, `-Clean-`, `-Heat-`, `-Cool-` and `-Examine-v0` fix it.

## Action space
`Text(max_length=128)`: ALFWorld's commands: `look`, `inventory`, `go to countertop 1`,
`open fridge 1`, `close fridge 1`, `take apple 1 from countertop 1`,
`put apple 1 in/on fridge 1` (also `put ... in ...`, `put ... on ...`, `move ... to ...`),
`heat apple 1 with microwave 1`, `cool apple 1 with fridge 1`,
`clean apple 1 with sinkbasin 1`, `use desklamp 1`, `examine apple 1`, `help`.
Case, surrounding whitespace, a trailing full stop and articles ("the apple 1") are
ignored. The agent carries one object at a time; closed receptacles must be opened to
see and reach their contents.

## Observation space
`Text(4096)`: ALFWorld's feedback. After reset: the room ("You are in the middle of a
kitchen. Looking quickly around you, you see a cabinet 1, ...") and "Your task is to:
...". After a command: what it did ("You arrive at countertop 1. On the countertop 1,
you see a apple 1, and a knife 2."). An invalid command (not understood, or impossible
now) answers "Nothing happens." and changes nothing.
`info["admissible_actions"]` lists every command that can be executed now.

## Rewards
`task`: 1 when the goal conditions hold (the step that completes the task), else 0.

## Success
The goal conditions of the table above hold (`info["success"]`); the episode terminates.

## Episode end
Terminated on success; truncated after 80 commands (`max_episode_steps`).

## Expert
`expert_action()`: a planner that searches receptacles where objects of the kind usually
are, opens what is closed, uses what it has seen, transforms the object at the right
appliance and puts it in place. It never reads unseen receptacles.

## Version history
- v0: first release.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import EzPickle

from agentgym.envs.text.household import commands, planner
from agentgym.envs.text.household.world import ROOMS, TASK_TYPES, World, generate
from agentgym.spec import StateVar, TaskSpec
from agentgym.text_env import (
    NOTHING_HAPPENS,
    TEXT_STATE,
    CommandResult,
    TextTaskEnv,
    fit_text,
    text_space,
)

TEXT_LENGTH = 4096
MAX_STEPS = 80

HOUSEHOLD_STATE: tuple[StateVar, ...] = TEXT_STATE + (
    StateVar(
        "inventory",
        (),
        "str",
        "-",
        "the object the agent holds, e.g. 'apple 1', or '' when empty-handed",
    ),
    StateVar(
        "location", (), "str", "-", "the receptacle the agent stands at, or 'middle of the room'"
    ),
    StateVar("task_type", (), "str", "-", "pick_and_place, pick_two, clean, heat, cool or examine"),
    StateVar("goal_object", (), "str", "-", "the kind of object the task is about, e.g. 'apple'"),
    StateVar(
        "goal_receptacle", (), "str", "-", "the kind of receptacle to put it in, '' for examine"
    ),
    StateVar(
        "holding_goal_object", (), "bool", "-", "whether the agent holds an object of the goal kind"
    ),
    StateVar(
        "goal_object_ready",
        (),
        "bool",
        "-",
        "whether a goal-kind object has the state the task asks for (cleaned, heated, cooled; "
        "always True for tasks that ask for none)",
    ),
    StateVar(
        "objects_in_place",
        (),
        "int64",
        "count",
        "objects that currently meet the goal (for examine: 1 while examining under the lit lamp)",
    ),
    StateVar(
        "objects_required", (), "int64", "count", "how many objects the goal needs (2 for pick_two)"
    ),
    StateVar(
        "receptacles_seen", (), "int64", "count", "receptacles whose contents the agent has seen"
    ),
    StateVar("receptacles_total", (), "int64", "count", "receptacles in the room"),
)
ACTION_MEANING = (
    "an ALFWorld-style text command, e.g. 'go to countertop 1', 'open fridge 1', "
    "'take apple 1 from countertop 1', 'put apple 1 in/on fridge 1', 'heat apple 1 with "
    "microwave 1', 'cool apple 1 with fridge 1', 'clean apple 1 with sinkbasin 1', "
    "'use desklamp 1', 'examine apple 1', 'look', 'inventory'"
)


def _spec(name: str, instruction: str, tags: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        name=name,
        instruction=instruction
        + " The exact task of each episode is its mission (state 'mission').",
        success="The goal conditions of the episode's task hold before 80 commands.",
        state=HOUSEHOLD_STATE,
        action_meaning=ACTION_MEANING,
        family="text",
        tags=("household", "alfworld", "text-game", *tags),
    )


class HouseholdEnv(TextTaskEnv, EzPickle):
    """The household text world; ``task_type`` None draws it from the seed."""

    task_type: ClassVar[str | None] = None
    task_spec = _spec(
        "Household",
        "Carry out a household task in a text world: find objects in receptacles, carry them, "
        "clean, heat or cool them, and put them in place, or examine one under a lamp.",
        ("mixed",),
    )
    reward_names = ("task",)

    def __init__(self, reward: Any = None, render_mode: str | None = None) -> None:
        EzPickle.__init__(self, reward=reward, render_mode=render_mode)
        super().__init__(reward=reward, render_mode=render_mode)
        self.observation_space = text_space(TEXT_LENGTH)
        self.world: World | None = None

    def _reset(self, *, seed: int | None, options: dict[str, Any] | None):
        self.world = generate(self.np_random, self.task_type)
        self._begin_episode(self.world.goal.instruction.rstrip("."))
        intro = f"{commands.describe_room(self.world)}\n\nYour task is to: {self.world.goal.instruction}"
        return self._observe(intro)

    def _execute(self, command: str) -> CommandResult:
        world = self._require_world()
        cmd = commands.parse(command)
        why = "not a command" if cmd is None else commands.problem(world, cmd)
        if why:
            return CommandResult(NOTHING_HAPPENS, False, {"task": 0.0})
        feedback = commands.apply(world, cmd)
        done = world.goal_reached()
        return CommandResult(feedback, True, {"task": 1.0 if done else 0.0}, terminated=done)

    def _observe(self, feedback: str) -> tuple[str, dict[str, Any]]:
        world = self._require_world()
        text = fit_text(feedback, TEXT_LENGTH)
        goal = world.goal
        held = world.things[world.holding] if world.holding else None
        ready = goal.required_state is None or any(
            t.kind == goal.object_kind and world.has_state(t, goal.required_state)
            for t in world.things.values()
        )
        state = self.text_state(text)
        state.update(
            inventory=world.holding or "",
            location=world.agent_at or "middle of the room",
            task_type=goal.task_type,
            goal_object=goal.object_kind,
            goal_receptacle=goal.target_kind or "",
            holding_goal_object=bool(held is not None and held.kind == goal.object_kind),
            goal_object_ready=bool(ready),
            objects_in_place=np.int64(world.objects_in_place()),
            objects_required=np.int64(goal.count),
            receptacles_seen=np.int64(len(world.seen)),
            receptacles_total=np.int64(len(world.receptacles)),
        )
        info = {
            "reward_state": state,
            "success": bool(world.goal_reached()),
            "admissible_actions": commands.admissible(world),
            "mission": self.mission,
            "task_type": goal.task_type,
            "room": ROOMS[world.room].name,
        }
        return text, info

    def expert_action(self) -> str:
        return planner.expert_action(self._require_world())

    def _require_world(self) -> World:
        if self.world is None:
            raise RuntimeError(
                f"{type(self).__name__}: call reset() before step() or expert_action()"
            )
        return self.world


def _task_env(type_name: str, task: str, instruction: str) -> type[HouseholdEnv]:
    assert task in TASK_TYPES
    cls = type(
        f"Household{type_name}Env",
        (HouseholdEnv,),
        {
            "task_type": task,
            "task_spec": _spec(f"Household-{type_name}", instruction, (task,)),
            "__module__": __name__,
            "__doc__": f"The household world with {task} tasks only (see the module docstring).",
        },
    )
    return cls


HouseholdPickPlaceEnv = _task_env(
    "PickPlace",
    "pick_and_place",
    "Find an object of the kind named in the mission and put it in or on "
    "a receptacle of the named kind, in a household text world.",
)
HouseholdPickTwoEnv = _task_env(
    "PickTwo",
    "pick_two",
    "Find two objects of the kind named in the mission and put both in or on "
    "receptacles of the named kind, in a household text world.",
)
HouseholdCleanEnv = _task_env(
    "Clean",
    "clean",
    "Find an object of the named kind, clean it at the sink basin, and put it in or "
    "on a receptacle of the named kind, in a household text world.",
)
HouseholdHeatEnv = _task_env(
    "Heat",
    "heat",
    "Find an object of the named kind, heat it with the microwave, and put it in or on "
    "a receptacle of the named kind, in a household text world.",
)
HouseholdCoolEnv = _task_env(
    "Cool",
    "cool",
    "Find an object of the named kind, cool it with the fridge, and put it in or on a "
    "receptacle of the named kind, in a household text world.",
)
HouseholdExamineEnv = _task_env(
    "Examine",
    "examine",
    "Find an object of the named kind, take it to the desk lamp and turn the "
    "lamp on to examine it, in a household text world.",
)
