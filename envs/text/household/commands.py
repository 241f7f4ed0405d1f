"""ALFWorld-style commands of the household world: parsing, preconditions, effects, and
the list of admissible commands.

One ``Command`` per parsed text; ``problem(world, cmd)`` says why it cannot be executed
now ('' when it can), ``apply`` executes it, and ``admissible`` enumerates every command
whose ``problem`` is '' (so the list and the executor never disagree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentgym.envs.text.household.world import APPLIANCE, LAMP, ROOMS, World

NOTHING_HAPPENS = "Nothing happens."

# (verb, pattern) in matching order; the object and receptacle groups are names like "apple 1".
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (verb, re.compile(pattern))
    for verb, pattern in (
        ("look", r"^look(?: around)?$"),
        ("inventory", r"^(?:inventory|inv|i)$"),
        ("help", r"^help$"),
        ("goto", r"^go to (?P<r>.+)$"),
        ("open", r"^open (?P<r>.+)$"),
        ("close", r"^close (?P<r>.+)$"),
        ("take", r"^(?:take|pick up|get) (?P<o>.+?)(?: from (?P<r>.+))?$"),
        ("put", r"^(?:put|place) (?P<o>.+?) (?:in/on|in|on|into|onto) (?P<r>.+)$"),
        ("put", r"^move (?P<o>.+?) to (?P<r>.+)$"),
        ("heat", r"^heat (?P<o>.+?) with (?P<r>.+)$"),
        ("cool", r"^cool (?P<o>.+?) with (?P<r>.+)$"),
        ("clean", r"^clean (?P<o>.+?) with (?P<r>.+)$"),
        ("use", r"^(?:use|toggle|turn on) (?P<o>.+)$"),
        ("examine", r"^(?:examine|look at|x) (?P<x>.+)$"),
    )
)

HELP = (
    "Available commands: look, inventory, go to [receptacle], open [receptacle], close "
    "[receptacle], take [object] from [receptacle], put [object] in/on [receptacle], "
    "heat [object] with [microwave], cool [object] with [fridge], clean [object] with "
    "[sinkbasin], use [lamp], examine [object or receptacle]."
)


@dataclass(frozen=True)
class Command:
    verb: str
    obj: str | None = None
    rec: str | None = None


def _name(text: str | None) -> str | None:
    """'the apple 1' -> 'apple 1'; 'apple1' -> 'apple 1'."""
    if text is None:
        return None
    text = re.sub(r"^(?:the|a|an|some) ", "", text.strip())
    return re.sub(r"^([a-z]+?)(\d+)$", r"\1 \2", text)


def parse(command: str) -> Command | None:
    """A normalised command -> Command, or None when it matches no command form."""
    for verb, pattern in PATTERNS:
        m = pattern.match(command)
        if m:
            groups = m.groupdict()
            if verb == "examine":
                return Command(verb, obj=_name(groups["x"]))
            return Command(verb, _name(groups.get("o")), _name(groups.get("r")))
    return None


def _list(names: list[str]) -> str:
    items = [f"a {n}" for n in names]
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + ", and " + items[-1]


def describe_receptacle(world: World, name: str) -> str:
    r = world.receptacles[name]
    if not r.accessible:
        return f"The {name} is closed."
    prep = (
        "In it"
        if r.openable
        or r.kind in ("sinkbasin", "bathtubbasin", "garbagecan", "laundryhamper", "drawer")
        else f"On the {name}"
    )
    state = f"The {name} is open. " if r.openable else ""
    return f"{state}{prep}, you see {_list(r.contents)}."


def describe_room(world: World) -> str:
    return (
        f"You are in the middle of a {ROOMS[world.room].name}. Looking quickly around you, you see "
        f"{_list(list(world.receptacles))}."
    )


def describe_thing(world: World, name: str) -> str:
    t = world.things[name]
    if t.kind == LAMP:
        return f"The {name} is {'on' if world.lamp_on else 'off'}."
    states = [w for w, flag in (("clean", t.clean), ("hot", t.hot), ("cool", t.cool)) if flag]
    return f"This is a {' and '.join(states) + ' ' if states else 'normal '}{name}."


def visible_things(world: World) -> list[str]:
    """Objects the agent can see now: in its hand, and in the receptacle it is at (if open)."""
    out = [world.holding] if world.holding else []
    if world.agent_at is not None and world.receptacles[world.agent_at].accessible:
        out += world.receptacles[world.agent_at].contents
    return out


def problem(world: World, cmd: Command) -> str:
    """'' when ``cmd`` can be executed now, else why not (for logs; the agent sees
    ALFWorld's 'Nothing happens.')."""
    here = world.agent_at
    rec = world.receptacles.get(cmd.rec) if cmd.rec else None
    if cmd.verb in ("look", "inventory", "help"):
        return ""
    if cmd.verb == "goto":
        if rec is None:
            return f"no receptacle {cmd.rec!r}"
        return "already there" if cmd.rec == here else ""
    if cmd.verb == "examine":
        if cmd.obj in world.receptacles:
            return "" if cmd.obj == here else "not at that receptacle"
        return "" if cmd.obj in visible_things(world) else f"no visible {cmd.obj!r}"
    if cmd.verb in ("open", "close"):
        if rec is None or cmd.rec != here:
            return "not at that receptacle"
        if not rec.openable:
            return "cannot be opened"
        return (
            ""
            if rec.is_open == (cmd.verb == "close")
            else f"already {'open' if rec.is_open else 'closed'}"
        )
    if cmd.verb == "take":
        if world.holding is not None:
            return "hands are full"
        if cmd.rec is None:
            rec = world.receptacles.get(here) if here else None
        elif rec is None or cmd.rec != here:
            return "not at that receptacle"
        if rec is None or not rec.accessible or cmd.obj not in rec.contents:
            return "no such object there"
        return "" if world.things[cmd.obj].portable else "cannot be picked up"
    if cmd.verb == "put":
        if cmd.obj is None or world.holding != cmd.obj:
            return "not holding that object"
        if rec is None or cmd.rec != here:
            return "not at that receptacle"
        return "" if rec.accessible else "the receptacle is closed"
    if cmd.verb in APPLIANCE:
        if cmd.obj is None or world.holding != cmd.obj:
            return "not holding that object"
        if rec is None or cmd.rec != here or rec.kind != APPLIANCE[cmd.verb]:
            return f"not at a {APPLIANCE[cmd.verb]}"
        from agentgym.envs.text.household.world import ABLE

        return "" if world.things[cmd.obj].kind in ABLE[cmd.verb] else f"cannot {cmd.verb} that"
    if cmd.verb == "use":
        lamp = world.things.get(cmd.obj) if cmd.obj else None
        if lamp is None or lamp.kind != LAMP:
            return "not a lamp"
        return "" if lamp.location == here else "not at the lamp"
    return "unknown verb"


def apply(world: World, cmd: Command) -> str:
    """Execute a command whose ``problem`` is ''; return the feedback text."""
    here = world.agent_at
    if cmd.verb == "look":
        if here is None:
            return describe_room(world)
        return f"You are facing the {here}. " + describe_receptacle(world, here)
    if cmd.verb == "inventory":
        return (
            f"You are carrying: a {world.holding}."
            if world.holding
            else "You are not carrying anything."
        )
    if cmd.verb == "help":
        return HELP
    if cmd.verb == "goto":
        world.agent_at = cmd.rec
        world.mark_seen()
        return f"You arrive at {cmd.rec}. " + describe_receptacle(world, cmd.rec)
    if cmd.verb == "examine":
        if cmd.obj in world.receptacles:
            return describe_receptacle(world, cmd.obj)
        return describe_thing(world, cmd.obj)
    if cmd.verb in ("open", "close"):
        rec = world.receptacles[cmd.rec]
        rec.is_open = cmd.verb == "open"
        if rec.is_open:
            world.mark_seen()
            return f"You open the {cmd.rec}. " + describe_receptacle(world, cmd.rec)
        return f"You close the {cmd.rec}."
    if cmd.verb == "take":
        rec_name = cmd.rec or here
        world.receptacles[rec_name].contents.remove(cmd.obj)
        world.things[cmd.obj].location = None
        world.holding = cmd.obj
        return f"You pick up the {cmd.obj} from the {rec_name}."
    if cmd.verb == "put":
        world.receptacles[cmd.rec].contents.append(cmd.obj)
        world.things[cmd.obj].location = cmd.rec
        world.holding = None
        return f"You put the {cmd.obj} in/on the {cmd.rec}."
    if cmd.verb in APPLIANCE:
        thing = world.things[cmd.obj]
        if cmd.verb == "clean":
            thing.clean = True
        elif cmd.verb == "heat":
            thing.hot, thing.cool = True, False
        else:
            thing.cool, thing.hot = True, False
        return f"You {cmd.verb} the {cmd.obj} using the {cmd.rec}."
    if cmd.verb == "use":
        world.lamp_on = not world.lamp_on
        return f"You turn {'on' if world.lamp_on else 'off'} the {cmd.obj}."
    raise ValueError(f"apply: unknown verb {cmd.verb!r}")


def admissible(world: World) -> list[str]:
    """Every command that can be executed now, in ALFWorld's canonical wording."""
    here = world.agent_at
    out = ["look", "inventory"]
    out += [f"go to {r}" for r in world.receptacles if r != here]
    if here is not None:
        rec = world.receptacles[here]
        out.append(f"examine {here}")
        if rec.openable:
            out.append(f"close {here}" if rec.is_open else f"open {here}")
        if rec.accessible and world.holding is None:
            out += [f"take {o} from {here}" for o in rec.contents if world.things[o].portable]
        if world.holding is not None and rec.accessible:
            out.append(f"put {world.holding} in/on {here}")
        if world.holding is not None:
            for verb in APPLIANCE:
                cmd = Command(verb, world.holding, here)
                if not problem(world, cmd):
                    out.append(f"{verb} {world.holding} with {here}")
        if rec.accessible:
            out += [f"use {o}" for o in rec.contents if world.things[o].kind == LAMP]
    if world.holding is not None:
        out.append(f"examine {world.holding}")
    return out
