"""BabyAI with text: BabyAI levels whose observation is a description of the agent's view
and whose actions are text commands.

## Description
A BabyAI level of minigrid 3.2 (a grid world of rooms, doors, keys, balls and boxes with
a synthetic-language mission). Each id wraps one level: `agentgym/BabyAI-GoTo-v0` wraps
`BabyAI-GoTo-v0`, and so on; a seed gives the same layout as minigrid's level with that
seed. The agent sees the 7x7 cells in front of it (walls block its view).

## Action space
`Text(max_length=128)`: one command. Understood (case and surrounding whitespace are
ignored, a trailing full stop too):

| command | aliases | minigrid action |
|---|---|---|
| `turn left` | `left`, `rotate left` | left |
| `turn right` | `right`, `rotate right` | right |
| `go forward` | `forward`, `move forward`, `go ahead`, `step forward` | forward |
| `pick up` | `pickup`, `pick up object`, `take` | pickup |
| `drop` | `put down`, `drop object` | drop |
| `toggle` | `open`, `open door`, `unlock`, `unlock door`, `open box` | toggle |
| `done` | | done |

A command is *valid* (`info["action_valid"]`) when it is understood and does something:
going forward into a wall, picking up with nothing to pick up in front, dropping onto an
occupied cell or with empty hands, and toggling a wall or a locked door without its key
are invalid, and answered with a sentence that says why. `done` is always valid (a no-op
in BabyAI). Every command, valid or not, takes one minigrid step (invalid ones as a
no-op), so the time limit and BabyAI's reward are minigrid's.

## Observation space
`Dict`:
- `"text"`: `Text(2048)`: the mission, what the last command did, what the agent carries,
  what is right in front, and every visible object with its position relative to the
  agent ("a red ball 2 steps forward and 1 step left"), closest first, with the walls
  straight ahead, left and right;
- `"image"`: `Box(0, 255, (7, 7, 3), uint8)`: minigrid's encoded 7x7 view;
- `"direction"`: `Discrete(4)`: the agent's compass direction (0 east, 1 south, 2 west,
  3 north).

`info["admissible_actions"]` lists the commands that are valid now.

## Rewards
`task`: BabyAI's `1 - 0.9 * steps / max_steps` on success, else 0.

## Success
The mission is accomplished (`info["success"]`); the episode terminates then.

## Episode end
Terminated on success; truncated at the level's own `max_steps`.

## Expert
minigrid's `BabyAIBot` (`expert_action()`), guarded against its endless replanning (a
replan that needs more than 100 searches is abandoned: the expert explores a few steps
and starts a fresh bot). Success rates over 100 seeds are in docs/envs-text.md.

## Version history
- v0: first release.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle

from agentgym.envs.text.babyai.expert import (
    BOT_RECOVERY_STEPS,
    BotStuck,
    bounded_replan,
    new_bot,
)
from agentgym.envs.text.babyai.language import (
    ACTION_NAMES,
    ALIASES,
    COMMANDS,
    VIEW,
    describe_object,
    describe_view,
)
from agentgym.spec import StateVar, TaskSpec
from agentgym.text_env import (
    NOTHING_HAPPENS,
    TEXT_STATE,
    CommandResult,
    TextTaskEnv,
    fit_text,
    text_space,
)

logger = logging.getLogger(__name__)


TEXT_LENGTH = 2048

BABYAI_STATE: tuple[StateVar, ...] = TEXT_STATE + (
    StateVar(
        "inventory",
        (),
        "str",
        "-",
        "the object the agent carries, e.g. 'a yellow key', or 'nothing'",
    ),
    StateVar(
        "front", (), "str", "-", "what is in the cell right in front of the agent, e.g. 'a wall'"
    ),
    StateVar("agent_pos", (2,), "int64", "cells", "the agent's x (column) and y (row) in the grid"),
    StateVar(
        "agent_dir", (), "int64", "-", "the agent's direction: 0 east, 1 south, 2 west, 3 north"
    ),
)
ACTION_MEANING = (
    "a text command: 'turn left', 'turn right', 'go forward', 'pick up', 'drop', 'toggle' "
    "(open a door or box, unlock a door with the key of its colour), 'done'"
)


def _spec(name: str, instruction: str, tags: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        name=name,
        instruction=instruction
        + " The exact goal of each episode is its mission (state 'mission').",
        success="The mission of the episode is accomplished before the level's step limit.",
        state=BABYAI_STATE,
        action_meaning=ACTION_MEANING,
        family="text",
        tags=("babyai", "gridworld", "language", *tags),
    )


class BabyAITextEnv(TextTaskEnv, EzPickle):
    """One BabyAI level with text observations and commands (see the module docstring)."""

    level: ClassVar[str] = ""
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}
    reward_names = ("task",)

    def __init__(self, reward: Any = None, render_mode: str | None = None) -> None:
        EzPickle.__init__(self, reward=reward, render_mode=render_mode)
        super().__init__(reward=reward, render_mode=render_mode)
        import gymnasium as gym
        import minigrid  # noqa: F401  (registers the BabyAI levels)

        self._inner = gym.make(
            self.level, render_mode="rgb_array" if render_mode == "rgb_array" else None
        ).unwrapped
        self.observation_space = spaces.Dict(
            {
                "text": text_space(TEXT_LENGTH),
                "image": spaces.Box(0, 255, (VIEW, VIEW, 3), np.uint8),
                "direction": spaces.Discrete(4),
            }
        )
        self._bot: Any = None
        self._bot_suggested: int | None = None  # what the bot proposed at the last step
        self._last_executed: int | None = None  # the minigrid action of the last step
        self._steps_since_bot = 0
        self._recovery_steps = 0  # steps left of exploring after the bot got stuck

    # -- world --------------------------------------------------------------------
    def _front(self) -> Any:
        fx, fy = self._inner.front_pos
        return self._inner.grid.get(int(fx), int(fy))

    def _precondition(self, action: int) -> str:
        """'' when ``action`` would do something now, else the reason it would not."""
        env, front = self._inner, self._front()
        if action in (0, 1, 6):
            return ""
        if action == 2:
            if front is not None and not front.can_overlap():
                return f"You cannot go forward: {describe_object(front)} is in the way."
            return ""
        if action == 3:
            if env.carrying is not None:
                return f"You cannot pick up: you already carry {describe_object(env.carrying)}."
            if front is None or not front.can_pickup():
                return f"You cannot pick up: there is {describe_object(front)} in front of you to pick up."
            return ""
        if action == 4:
            if env.carrying is None:
                return "You cannot drop: you carry nothing."
            if front is not None:
                return f"You cannot drop here: {describe_object(front)} is in front of you."
            return ""
        if front is None or front.type not in ("door", "box"):
            return f"You cannot toggle: there is {describe_object(front)} in front of you, not a door or box."
        if front.type == "door" and front.is_locked:
            held = env.carrying
            if held is None or held.type != "key" or held.color != front.color:
                return f"The {front.color} door is locked: you need to carry the {front.color} key."
        return ""

    def _feedback(self, action: int, before_front: Any, before_carrying: Any) -> str:
        if action == 0:
            return "You turn left."
        if action == 1:
            return "You turn right."
        if action == 2:
            return "You go forward."
        if action == 3:
            return f"You pick up {describe_object(self._inner.carrying)}."
        if action == 4:
            return f"You drop {describe_object(before_carrying)}."
        if action == 5:
            front = self._front()
            if before_front is not None and before_front.type == "box":
                return f"You open the {before_front.color} box; in it: {describe_object(front)}."
            if front is not None and front.type == "door":
                verb = (
                    "unlock and open"
                    if before_front is not None and before_front.is_locked
                    else ("open" if front.is_open else "close")
                )
                return f"You {verb} the {front.color} door."
            return "You toggle it."
        return "You declare the mission done."

    def admissible_actions(self) -> list[str]:
        return [c for c, a in COMMANDS.items() if not self._precondition(a)]

    # -- the TextTaskEnv interface ----------------------------------------------------
    def _reset(self, *, seed: int | None, options: dict[str, Any] | None):
        # The level generator prints its rejected samples; keep them off the user's stdout.
        with contextlib.redirect_stdout(io.StringIO()):
            # A given seed is minigrid's seed, so layouts match BabyAI's own for that seed.
            obs, _ = self._inner.reset(seed=seed)
        self._obs = obs
        self._success = False
        self._bot, self._bot_suggested, self._last_executed = None, None, None
        self._recovery_steps = 0
        self._begin_episode(self._inner.mission)
        return self._observe("You are in the level; nothing has happened yet.")

    def _execute(self, command: str) -> CommandResult:
        canonical = ALIASES.get(command, command)
        action = COMMANDS.get(canonical)
        problem = ""
        if action is None:
            problem = (
                f"{NOTHING_HAPPENS} Unknown command {command!r}; use one of: {', '.join(COMMANDS)}."
            )
        else:
            problem = self._precondition(action)
        before_front, before_carrying = self._front(), self._inner.carrying
        # Invalid commands still take one minigrid step, as a no-op ('done' changes nothing
        # unless BABYAI_DONE_ACTIONS is set), so time and reward follow BabyAI's rules.
        executed = action if action is not None and not problem else 6
        self._obs, reward, terminated, truncated, _ = self._inner.step(executed)
        self._last_executed = executed
        self._steps_since_bot += 1
        self._success = bool(terminated and reward > 0)
        feedback = problem or self._feedback(action, before_front, before_carrying)
        if self._success:
            feedback += " Mission accomplished!"
        return CommandResult(
            feedback,
            not problem,
            {"task": float(reward)},
            bool(terminated),
            bool(truncated),
            command=canonical if action is not None else None,
        )

    def _observe(self, feedback: str) -> tuple[dict[str, Any], dict[str, Any]]:
        env = self._inner
        objects, walls = describe_view(self._obs["image"])
        front = describe_object(self._front())
        lines = [
            f"Mission: {env.mission}.",
            feedback,
            f"You carry {describe_object(env.carrying)}.",
            f"In front of you: {front}.",
            "You see " + ("; ".join(objects) if objects else "no objects") + ".",
        ]
        if walls:
            lines.append("Walls: " + ", ".join(walls) + ".")
        text = fit_text("\n".join(lines), TEXT_LENGTH)
        obs = {
            "text": text,
            "image": np.array(
                self._obs["image"], dtype=np.uint8
            ),  # a copy: never share arrays between steps
            "direction": int(env.agent_dir),
        }
        state = self.text_state(text)
        state.update(
            inventory=describe_object(env.carrying),
            front=front,
            agent_pos=np.asarray(env.agent_pos, dtype=np.int64),
            agent_dir=np.int64(env.agent_dir),
        )
        info = {
            "reward_state": state,
            "success": self._success,
            "admissible_actions": self.admissible_actions(),
            "mission": env.mission,
        }
        return obs, info

    def expert_action(self) -> str:
        """The BabyAI bot's next command. The bot follows the episode step by step; when
        other actions were taken in between, it is rebuilt from the current state.

        minigrid 3.2's bot can loop forever inside one ``replan`` (it re-plans fetching a
        key without end; e.g. BabyAI-Unlock-v0 seed 63). A replan that needs more than
        ``BOT_BFS_BUDGET`` searches (normal ones need at most 8) is abandoned: the expert
        then explores for ``BOT_RECOVERY_STEPS`` steps and retries with a fresh bot.
        """
        if self._recovery_steps > 0:
            self._recovery_steps -= 1
            self._bot = None
            return "go forward" if not self._precondition(COMMANDS["go forward"]) else "turn left"
        followed = self._bot is not None and self._steps_since_bot == 1
        if not followed:
            self._bot = new_bot(self._inner)
            taken = None
        else:
            taken = None if self._last_executed == self._bot_suggested else self._last_executed
        try:
            action = int(bounded_replan(self._bot, taken))
        except BotStuck:
            logger.debug("BabyAI bot stuck in %s; exploring before a fresh bot", self.level)
            self._recovery_steps = BOT_RECOVERY_STEPS
            return self.expert_action()
        self._bot_suggested, self._steps_since_bot = action, 0
        return ACTION_NAMES[action]

    def render(self):
        if self.render_mode == "rgb_array":
            return self._inner.render()
        return super().render()

    def close(self) -> None:
        self._inner.close()


class BabyAIGoToLocalEnv(BabyAITextEnv):
    level = "BabyAI-GoToLocal-v0"
    task_spec = _spec(
        "BabyAI-GoToLocal",
        "Go to the object named in the mission, in a single room with distractor objects.",
        ("goto", "navigation"),
    )


class BabyAIGoToEnv(BabyAITextEnv):
    level = "BabyAI-GoTo-v0"
    task_spec = _spec(
        "BabyAI-GoTo",
        "Go to the object named in the mission, somewhere in a 3x3 "
        "maze of rooms connected by doors.",
        ("goto", "navigation", "maze"),
    )


class BabyAIPickupEnv(BabyAITextEnv):
    level = "BabyAI-Pickup-v0"
    task_spec = _spec(
        "BabyAI-Pickup",
        "Find the object named in the mission in a 3x3 maze of rooms and pick it up.",
        ("pickup", "navigation", "maze"),
    )


class BabyAIOpenEnv(BabyAITextEnv):
    level = "BabyAI-Open-v0"
    task_spec = _spec(
        "BabyAI-Open",
        "Find the door named in the mission in a 3x3 maze of rooms and open it.",
        ("open", "door", "maze"),
    )


class BabyAIPutNextEnv(BabyAITextEnv):
    level = "BabyAI-PutNextLocal-v0"
    task_spec = _spec(
        "BabyAI-PutNext",
        "Pick up the first object named in the mission and put it "
        "down next to the second one, in a single room.",
        ("putnext", "pickup", "drop"),
    )


class BabyAIUnlockEnv(BabyAITextEnv):
    level = "BabyAI-Unlock-v0"
    task_spec = _spec(
        "BabyAI-Unlock",
        "Open the locked door named in the mission: find the key of "
        "its colour somewhere in the maze, carry it to the door and unlock it.",
        ("unlock", "key", "door", "maze"),
    )


class BabyAISynthSeqEnv(BabyAITextEnv):
    level = "BabyAI-SynthSeq-v0"
    task_spec = _spec(
        "BabyAI-SynthSeq",
        "Carry out the mission, a sequence of go-to, pick-up, "
        "open and put-next instructions joined by 'and', 'then' or 'after you', "
        "in a 3x3 maze of rooms with locked doors.",
        ("synth", "sequence", "maze"),
    )
