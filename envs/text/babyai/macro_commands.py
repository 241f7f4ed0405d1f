"""The high-level commands AgentGym's BabyAI server teaches its agents, on top of our
low-level text BabyAI.

AgentGym's BabyAI prompt (``agentenv.envs.babyai``) teaches ``turn left``, ``turn right``,
``move forward``, ``go to <obj> <id>``, ``pick up <obj> <id>``, ``go through <door> <id>``,
``toggle and go through <door> <id>``, ``toggle`` and ``check available actions``, where
``<obj> <id>`` names a visible object and its rank among the visible objects of that
name, nearest first (``red ball 1``, ``grey closed door 2``). ``MacroCommands`` answers
them: each becomes a planned sequence of our commands (``turn left``, ``go forward``,
``pick up``, ``toggle``, ``drop``), executed one by one on the wrapped env until the
sequence ends, a command is refused, or the episode ends. ``info["admissible_actions"]``
lists the high-level commands that have a plan now (AgentGym spells pick-ups
``pickup <obj> <id>``; both spellings work).

Paths are planned with a breadth-first search over (cell, direction) on the whole grid,
through empty cells and open doors; only visible objects can be named.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym

from agentgym.envs.text.babyai.language import ACTION_NAMES

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE = 0, 1, 2, 3, 4, 5
CHECK = "check available actions"
_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # minigrid's DIR_TO_VEC: east, south, west, north
FORWARD_ALIASES = ("go forward", "forward")
NOT_RECOGNISED = "The action is not recognized. Please check valid actions."


def object_name(obj: Any) -> str:
    """AgentGym's name of a minigrid object: 'red ball', 'grey closed door'."""
    if obj.type == "door":
        state = "locked" if obj.is_locked else ("open" if obj.is_open else "closed")
        return f"{obj.color} {state} door"
    return f"{obj.color} {obj.type}"


def normalise(command: str) -> str:
    """Lower case, single spaces, no full stops; the prompt's ``pick up`` is AgentGym's
    ``pickup``."""
    text = " ".join(str(command).lower().replace(".", " ").split())
    if text.startswith("pick up "):
        text = "pickup " + text[len("pick up ") :]
    return "move forward" if text in FORWARD_ALIASES else text


def plan_path(env: Any, goal: tuple[int, int], arrive: bool) -> list[int] | None:
    """The shortest sequence of left/right/forward that ends facing ``goal`` (or standing
    on it when ``arrive``), or None when no path exists."""
    start = (tuple(int(v) for v in env.agent_pos), int(env.agent_dir))
    parent: dict[tuple[tuple[int, int], int], tuple[Any, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        (x, y), d = state
        dx, dy = _DIRS[d]
        reached = (x, y) == goal if arrive else (x + dx, y + dy) == goal
        if reached:
            path: list[int] = []
            while parent[state] is not None:
                state, action = parent[state]  # type: ignore[misc]
                path.append(action)
            return path[::-1]
        for action in (FORWARD, LEFT, RIGHT):
            if action == FORWARD:
                nx, ny = x + dx, y + dy
                if not (0 <= nx < env.grid.width and 0 <= ny < env.grid.height):
                    continue
                cell = env.grid.get(nx, ny)
                if cell is not None and not cell.can_overlap():
                    continue
                nxt = ((nx, ny), d)
            else:
                nxt = ((x, y), (d + (1 if action == RIGHT else -1)) % 4)
            if nxt not in parent:
                parent[nxt] = (state, action)
                queue.append(nxt)
    return None


def command_plans(env: Any) -> dict[str, list[int]]:
    """Every high-level command that has a plan now -> its minigrid actions."""
    fx, fy = (int(v) for v in env.front_pos)
    front = env.grid.get(fx, fy)
    plans: dict[str, list[int]] = {"turn left": [LEFT], "turn right": [RIGHT]}
    if front is None or front.can_overlap():
        plans["move forward"] = [FORWARD]
    ax, ay = (int(v) for v in env.agent_pos)
    seen: list[tuple[int, str, tuple[int, int], Any]] = []
    for x in range(env.grid.width):
        for y in range(env.grid.height):
            obj = env.grid.get(x, y)
            if obj is None or obj.type not in ("key", "ball", "box", "door"):
                continue
            if (x, y) != (ax, ay) and env.agent_sees(x, y):
                seen.append((abs(x - ax) + abs(y - ay), object_name(obj), (x, y), obj))
    seen.sort(key=lambda s: (s[0], s[2]))
    rank: dict[str, int] = {}
    carrying = env.carrying
    for _, name, pos, obj in seen:
        rank[name] = rank.get(name, 0) + 1
        label = f"{name} {rank[name]}"
        to_front = plan_path(env, pos, arrive=False)
        if to_front is None:
            continue
        plans[f"go to {label}"] = to_front
        if obj.type != "door" and carrying is None:
            plans[f"pickup {label}"] = to_front + [PICKUP]
        if obj.type == "door" and obj.is_open:
            onto = plan_path(env, pos, arrive=True)
            if onto is not None:
                plans[f"go through {label}"] = onto + [FORWARD]
        if obj.type == "door" and not obj.is_open:
            fits = not obj.is_locked or (
                carrying is not None and carrying.type == "key" and carrying.color == obj.color
            )
            if fits:
                plans[f"toggle and go through {label}"] = to_front + [TOGGLE, FORWARD]
    if front is not None and front.type in ("door", "box"):
        plans["toggle"] = [TOGGLE]
    if carrying is not None and front is None:
        plans["drop"] = [DROP]
    plans[CHECK] = []
    return plans


class MacroCommands(gym.Wrapper):
    """A text BabyAI env that takes AgentGym's high-level commands (module docstring).

    Observations are the wrapped env's, with the text led by what the command did;
    ``info["admissible_actions"]`` holds the high-level commands. A command that is not
    available, and ``check available actions``, take no step of the wrapped env.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._obs: Any = None
        self._info: dict[str, Any] = {}
        self._plans: dict[str, list[int]] = {}

    def _grid(self) -> Any:
        return self.env.unwrapped._inner  # the minigrid level our text BabyAI wraps

    def _remember(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._plans = command_plans(self._grid())
        info = dict(info, admissible_actions=list(self._plans))
        self._obs, self._info = obs, info
        return obs, info

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        return self._remember(*self.env.reset(**kwargs))

    def _answer(self, feedback: str, valid: bool) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs = dict(self._obs, text=f"{feedback}\n{self._obs['text']}")
        info = dict(self._info, action_valid=valid, reward_terms={}, env_reward=0.0)
        return obs, 0.0, False, False, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        command = normalise(action) if isinstance(action, str) else ""
        if command == CHECK:
            return self._answer(
                "You can take the following actions: " + ", ".join(self._plans), True
            )
        plan = self._plans.get(command)
        if plan is None:
            return self._answer(NOT_RECOGNISED, False)
        total = 0.0
        terminated = truncated = False
        obs, info = self._obs, self._info
        for low in plan:
            obs, reward, terminated, truncated, info = self.env.step(ACTION_NAMES[low])
            total += float(reward)
            if terminated or truncated or not info["action_valid"]:
                break
        obs, info = self._remember(obs, info)
        return obs, total, terminated, truncated, info
