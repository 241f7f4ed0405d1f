"""The household expert: a PDDL-free planner that acts only on what the agent has seen.

It is stateless (the next command is a function of the world and of the set of
receptacles the agent has looked into), so it can take over at any step. It never
reads the contents of receptacles the agent has not seen: like a person it searches,
first where objects of the kind usually are (the room's placement table), then
everywhere else, opening what is closed, and it remembers what it saw because only the
agent moves things.
"""

from __future__ import annotations

from agentgym.envs.text.household.world import APPLIANCE, LAMP_PLACES, ROOMS, Thing, World


def _go_or_act(world: World, where: str, act: str) -> str:
    """Go to ``where``, open it if closed, then ``act`` there."""
    if world.agent_at != where:
        return f"go to {where}"
    if not world.receptacles[where].accessible:
        return f"open {where}"
    return act


def _search_order(world: World, likely: tuple[str, ...]) -> list[str]:
    """Unseen receptacles, those of the ``likely`` kinds first (in the table's order)."""
    unseen = [r for r in world.receptacles.values() if r.name not in world.seen]
    rank = {kind: i for i, kind in enumerate(likely)}
    return [r.name for r in sorted(unseen, key=lambda r: rank.get(r.kind, len(rank)))]


def _explore(world: World, likely: tuple[str, ...]) -> str:
    order = _search_order(world, likely)
    if not order:
        return "look"  # everything seen and nothing found: the goal cannot be reached
    # Finish looking into the receptacle the agent stands at before walking on.
    if world.agent_at in order:
        return f"open {world.agent_at}"
    return f"go to {order[0]}"


def _wanted(world: World, thing: Thing) -> bool:
    """A goal object that still has to be moved (not yet in place)."""
    return thing.kind == world.goal.object_kind and thing.portable and not world.in_place(thing)


def _fetch(world: World) -> str:
    """Find and pick up a goal object, searching as needed."""
    known = [
        t
        for t in world.things.values()
        if _wanted(world, t) and t.location is not None and t.location in world.seen
    ]
    if known:
        # Prefer one where the agent already stands, else the first known.
        known.sort(key=lambda t: t.location != world.agent_at)
        t = known[0]
        return _go_or_act(world, t.location, f"take {t.name} from {t.location}")
    return _explore(world, ROOMS[world.room].objects[world.goal.object_kind])


def expert_action(world: World) -> str:
    """The next command toward the goal of ``world``."""
    goal = world.goal
    held = world.things[world.holding] if world.holding else None
    if held is not None and held.kind != goal.object_kind:
        # Not what the goal needs: put it back down here (or at the nearest open place).
        place = world.agent_at or next(iter(world.receptacles))
        return _go_or_act(world, place, f"put {held.name} in/on {place}")
    if held is None:
        return _fetch(world)

    if goal.task_type == "examine":
        lamp = world.lamp()
        assert lamp is not None and lamp.location is not None
        if lamp.location in world.seen:
            return _go_or_act(world, lamp.location, f"use {lamp.name}")
        return _explore(world, LAMP_PLACES)

    state = goal.required_state
    if state is not None and not world.has_state(held, state):
        appliance = world.of_kind(APPLIANCE[state])[0].name
        if world.agent_at != appliance:
            return f"go to {appliance}"
        return f"{state} {held.name} with {appliance}"
    # The first receptacle of the target kind (both objects of pick_two go there too).
    target = world.of_kind(goal.target_kind)[0].name
    return _go_or_act(world, target, f"put {held.name} in/on {target}")
