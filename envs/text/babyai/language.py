"""The words of text BabyAI: the commands it understands and how it describes what the
agent sees.

Commands go in (``COMMANDS`` and their ``ALIASES``, each a minigrid action); sentences
come out (``describe_object`` for a minigrid WorldObj, ``describe_view`` for minigrid's
encoded 7x7 view, positions relative to the agent). The env (``env.py``) joins
the two with the world's rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

VIEW = 7  # minigrid's agent_view_size

#: Canonical command -> minigrid action index (left, right, forward, pickup, drop, toggle, done).
COMMANDS: dict[str, int] = {
    "turn left": 0,
    "turn right": 1,
    "go forward": 2,
    "pick up": 3,
    "drop": 4,
    "toggle": 5,
    "done": 6,
}
ALIASES: dict[str, str] = {
    "left": "turn left",
    "rotate left": "turn left",
    "right": "turn right",
    "rotate right": "turn right",
    "forward": "go forward",
    "move forward": "go forward",
    "go ahead": "go forward",
    "step forward": "go forward",
    "pickup": "pick up",
    "pick up object": "pick up",
    "take": "pick up",
    "put down": "drop",
    "drop object": "drop",
    "open": "toggle",
    "open door": "toggle",
    "unlock": "toggle",
    "unlock door": "toggle",
    "open box": "toggle",
}
ACTION_NAMES = {v: k for k, v in COMMANDS.items()}


def describe_object(obj: Any) -> str:
    """'a red ball', 'a locked blue door', 'a wall' for a minigrid WorldObj."""
    if obj is None:
        return "nothing"
    if obj.type == "door":
        state = "locked" if obj.is_locked else ("open" if obj.is_open else "closed")
        return f"a {state} {obj.color} door"
    if obj.type in ("wall", "lava", "goal", "floor"):
        return f"a {obj.type}" if obj.type != "lava" else "lava"
    return f"a {obj.color} {obj.type}"


def _steps(n: int, word: str) -> str:
    return f"{n} step{'s' if n != 1 else ''} {word}"


def relative_position(forward: int, right: int) -> str:
    """'2 steps forward and 1 step left' for a cell relative to the agent."""
    parts = []
    if forward:
        parts.append(_steps(forward, "forward"))
    if right:
        parts.append(_steps(abs(right), "right" if right > 0 else "left"))
    return " and ".join(parts) if parts else "here"


def describe_view(image: np.ndarray) -> tuple[list[str], list[str]]:
    """Objects and walls in minigrid's encoded view (agent at the bottom centre, facing up).

    Returns ``(objects, walls)``: objects closest first; the nearest wall straight ahead,
    to the left and to the right of the agent.
    """
    from minigrid.core.constants import IDX_TO_COLOR, IDX_TO_OBJECT

    ax, ay = VIEW // 2, VIEW - 1
    found = []
    for i in range(VIEW):
        for j in range(VIEW):
            if (i, j) == (ax, ay):
                continue
            kind = IDX_TO_OBJECT[int(image[i, j, 0])]
            if kind in ("unseen", "empty", "wall", "floor"):
                continue
            color, state = IDX_TO_COLOR[int(image[i, j, 1])], int(image[i, j, 2])
            if kind == "door":
                name = f"a {('open', 'closed', 'locked')[state]} {color} door"
            elif kind == "lava":
                name = "lava"
            elif kind == "goal":
                name = "the goal square"
            else:
                name = f"a {color} {kind}"
            forward, right = ay - j, i - ax
            found.append((abs(forward) + abs(right), forward, right, name))
    objects = [f"{name} {relative_position(f, r)}" for _, f, r, name in sorted(found)]
    walls = []
    for label, (di, dj) in (("forward", (0, -1)), ("left", (-1, 0)), ("right", (1, 0))):
        i, j = ax + di, ay + dj
        n = 1
        while 0 <= i < VIEW and 0 <= j < VIEW:
            if IDX_TO_OBJECT[int(image[i, j, 0])] == "wall":
                walls.append(_steps(n, label))
                break
            if IDX_TO_OBJECT[int(image[i, j, 0])] != "empty":
                break  # an object or door blocks the line of sight along this axis
            i, j, n = i + di, j + dj, n + 1
    return objects, walls
