"""The rule judge of subgoals: a proposed subgoal phrase -> a check on the env's facts.

Where an env exposes the facts a subgoal is about (BabyAI's ``inventory`` and ``front``,
the household world's ``inventory``, ``location``, ``goal_object_ready``,
``objects_in_place``), judging "was subgoal k reached?" needs no LLM: the phrase is
matched against a few verb patterns and becomes a predicate over one row of the reward
state. A phrase no pattern covers gets None (the LLM judge, or the subgoal is dropped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any], int], bool]

_COLOUR = r"(?:(red|green|blue|purple|yellow|grey|gray)\s+)?"
_BABYAI_OBJECT = re.compile(_COLOUR + r"(key|ball|box|door)\b")
_HOLD = re.compile(r"\b(pick|take|get|grab|carry|hold|collect|fetch)\b")
_OPEN = re.compile(r"\b(open|unlock|toggle)\b")
_REACH = re.compile(r"\b(go|reach|find|face|approach|move|navigate|walk|head|get)\b")
_HOUSE_OBJECT = r"(?:the |a |an )?([a-z]+)(?: \d+)?"
_HOUSE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:put|place|move)\b"), "place"),
    (re.compile(r"\b(?:clean|wash|rinse|heat|warm|cook|cool|chill|freeze)\b"), "ready"),
    (re.compile(r"\b(?:examine|look at|inspect)\b"), "examine"),
    (re.compile(r"\b(?:use|turn on|switch on|toggle)\b"), "use"),
    (re.compile(r"\b(?:take|pick up|pick|get|grab|hold|find)\b"), "hold"),
    (re.compile(r"\b(?:go to|walk to|move to|navigate to|head to)\b"), "goto"),
)


def _text(state: Mapping[str, Any], name: str, i: int) -> str:
    return str(state[name][i]).lower()


def _number(state: Mapping[str, Any], name: str, i: int) -> float:
    return float(state[name][i])


def babyai_rule(subgoal: str) -> Predicate | None:
    """BabyAI: hold / open / reach a (coloured) key, ball, box or door."""
    phrase = subgoal.lower()
    match = _BABYAI_OBJECT.search(phrase)
    if match is None:
        return None
    colour, kind = match.group(1), match.group(2)
    thing = f"{colour} {kind}" if colour else kind
    if _OPEN.search(phrase) and kind == "door":
        return lambda s, i: f"open {thing}" in _text(s, "front", i)
    if _HOLD.search(phrase) and kind != "door" and not phrase.startswith(("go", "get to")):
        return lambda s, i: re.search(rf"\b{thing}\b", _text(s, "inventory", i)) is not None
    if _REACH.search(phrase) or "next to" in phrase or "in front" in phrase:
        return lambda s, i: re.search(rf"\b{thing}\b", _text(s, "front", i)) is not None
    return None


def household_rule(subgoal: str) -> Predicate | None:
    """The household world: go to, hold, clean/heat/cool, put, examine, use."""
    phrase = subgoal.lower()
    for pattern, kind in _HOUSE_RULES:
        found = pattern.search(phrase)
        if found is None:
            continue
        rest = re.match(_HOUSE_OBJECT, phrase[found.end() :].strip())
        word = rest.group(1) if rest else ""
        if kind == "goto" and word:
            return lambda s, i, w=word: _text(s, "location", i).startswith(w)
        if kind == "hold" and word:
            return lambda s, i, w=word: _text(s, "inventory", i).startswith(w)
        if kind == "ready":
            return lambda s, i: (
                bool(s["goal_object_ready"][i])
                and bool(s["holding_goal_object"][i] or _number(s, "objects_in_place", i) > 0)
            )
        if kind in ("place", "examine"):
            return lambda s, i: _number(s, "objects_in_place", i) >= 1
        if kind == "use":
            return lambda s, i: _text(s, "last_action", i).startswith(("use", "toggle", "turn on"))
    return None


RULES: dict[str, tuple[tuple[str, ...], Callable[[str], Predicate | None]]] = {
    "babyai": (("inventory", "front"), babyai_rule),
    "household": (
        ("inventory", "location", "goal_object_ready", "objects_in_place"),
        household_rule,
    ),
}
"""Env tag -> (the facts the rule reads, the phrase -> predicate function)."""


def rule_for(
    tags: tuple[str, ...], state_names: tuple[str, ...]
) -> Callable[[str], Predicate | None] | None:
    """The rule judge of an env with these TaskSpec tags and state, or None."""
    for tag, (facts, rule) in RULES.items():
        if tag in tags and all(f in state_names for f in facts):
            return rule
    return None
