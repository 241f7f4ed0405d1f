"""The household world: rooms, receptacles, objects, task goals, and generation from a seed.

A world is one room (kitchen, living room, bedroom or bathroom) as in ALFWorld: numbered
receptacles ("countertop 1", "fridge 1", closed "drawer 2"), numbered objects inside or
on them ("apple 1"), and one goal. Everything is plain data, so a world pickles, copies
and compares; the rules that change it live in ``commands.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TASK_TYPES = ("pick_and_place", "pick_two", "clean", "heat", "cool", "examine")

#: Receptacle kinds that start closed and must be opened to see or reach their contents.
OPENABLE = frozenset({"fridge", "microwave", "cabinet", "drawer", "safe", "dresser"})
#: The appliance each transformation needs, and the state it gives an object.
APPLIANCE = {"clean": "sinkbasin", "heat": "microwave", "cool": "fridge"}
STATE_WORD = {"clean": "clean", "heat": "hot", "cool": "cool"}
LAMP = "desklamp"

#: What each object kind allows (besides being carried and put down).
CLEANABLE = frozenset(
    {
        "apple",
        "tomato",
        "lettuce",
        "potato",
        "mug",
        "cup",
        "plate",
        "bowl",
        "pan",
        "pot",
        "knife",
        "fork",
        "spoon",
        "spatula",
        "soapbar",
        "cloth",
    }
)
HEATABLE = frozenset({"apple", "tomato", "potato", "egg", "bread", "mug", "cup", "plate"})
COOLABLE = frozenset(
    {
        "apple",
        "tomato",
        "lettuce",
        "potato",
        "bread",
        "egg",
        "mug",
        "cup",
        "pan",
        "pot",
        "bottle",
        "plate",
    }
)
ABLE = {"clean": CLEANABLE, "heat": HEATABLE, "cool": COOLABLE}


@dataclass(frozen=True)
class Room:
    """A room template: receptacle kinds with (min, max) counts, and where objects lie."""

    name: str
    receptacles: dict[str, tuple[int, int]]
    objects: dict[str, tuple[str, ...]]
    """Object kind -> the receptacle kinds it may start in (and an expert looks in first)."""
    targets: tuple[str, ...]
    """Receptacle kinds a goal may name as the place to put things."""


ROOMS: dict[str, Room] = {
    "kitchen": Room(
        "kitchen",
        {
            "cabinet": (3, 5),
            "coffeemachine": (1, 1),
            "countertop": (2, 3),
            "diningtable": (1, 1),
            "drawer": (2, 4),
            "fridge": (1, 1),
            "garbagecan": (1, 1),
            "microwave": (1, 1),
            "shelf": (1, 2),
            "sinkbasin": (1, 1),
            "stoveburner": (2, 2),
            "toaster": (1, 1),
        },
        {
            "apple": ("countertop", "diningtable", "fridge", "garbagecan"),
            "bread": ("countertop", "diningtable", "fridge"),
            "egg": ("countertop", "fridge", "diningtable"),
            "lettuce": ("countertop", "fridge", "diningtable"),
            "potato": ("countertop", "fridge", "diningtable", "garbagecan"),
            "tomato": ("countertop", "fridge", "diningtable", "garbagecan"),
            "mug": ("countertop", "cabinet", "coffeemachine", "shelf", "sinkbasin"),
            "cup": ("countertop", "cabinet", "shelf", "diningtable"),
            "plate": ("cabinet", "countertop", "diningtable", "shelf"),
            "bowl": ("cabinet", "countertop", "diningtable", "shelf"),
            "pan": ("stoveburner", "cabinet", "countertop"),
            "pot": ("stoveburner", "cabinet", "countertop"),
            "bottle": ("fridge", "countertop", "shelf", "cabinet"),
            "knife": ("drawer", "countertop", "diningtable"),
            "fork": ("drawer", "countertop", "diningtable"),
            "spoon": ("drawer", "countertop", "diningtable", "sinkbasin"),
            "spatula": ("drawer", "countertop"),
        },
        ("countertop", "diningtable", "fridge", "cabinet", "shelf", "garbagecan", "microwave"),
    ),
    "livingroom": Room(
        "living room",
        {
            "armchair": (1, 1),
            "cabinet": (2, 3),
            "coffeetable": (1, 1),
            "drawer": (2, 3),
            "garbagecan": (1, 1),
            "shelf": (2, 3),
            "sidetable": (1, 2),
            "sofa": (1, 1),
            "tvstand": (1, 1),
        },
        {
            "book": ("coffeetable", "shelf", "sidetable", "sofa"),
            "cellphone": ("sofa", "armchair", "coffeetable", "sidetable"),
            "creditcard": ("drawer", "coffeetable", "sidetable", "shelf"),
            "keychain": ("drawer", "coffeetable", "sidetable", "shelf"),
            "remotecontrol": ("sofa", "armchair", "coffeetable", "tvstand"),
            "newspaper": ("sofa", "coffeetable", "armchair"),
            "pillow": ("sofa", "armchair"),
            "statue": ("shelf", "sidetable", "tvstand"),
            "vase": ("shelf", "sidetable", "coffeetable"),
            "box": ("cabinet", "shelf", "coffeetable"),
        },
        ("sofa", "armchair", "coffeetable", "sidetable", "shelf", "drawer", "cabinet", "tvstand"),
    ),
    "bedroom": Room(
        "bedroom",
        {
            "bed": (1, 1),
            "desk": (1, 1),
            "drawer": (3, 4),
            "dresser": (1, 1),
            "garbagecan": (1, 1),
            "laundryhamper": (1, 1),
            "shelf": (2, 3),
            "sidetable": (1, 2),
        },
        {
            "alarmclock": ("desk", "sidetable", "shelf", "dresser"),
            "book": ("bed", "desk", "shelf", "sidetable"),
            "cd": ("desk", "drawer", "shelf"),
            "cellphone": ("bed", "desk", "sidetable"),
            "creditcard": ("desk", "drawer", "sidetable"),
            "keychain": ("desk", "drawer", "sidetable", "dresser"),
            "laptop": ("bed", "desk"),
            "pen": ("desk", "drawer", "shelf"),
            "pencil": ("desk", "drawer", "shelf"),
            "pillow": ("bed",),
            "cloth": ("laundryhamper", "drawer", "bed"),
        },
        ("bed", "desk", "drawer", "dresser", "shelf", "sidetable", "garbagecan", "laundryhamper"),
    ),
    "bathroom": Room(
        "bathroom",
        {
            "bathtubbasin": (1, 1),
            "cabinet": (2, 4),
            "countertop": (1, 1),
            "drawer": (1, 2),
            "garbagecan": (1, 1),
            "shelf": (1, 2),
            "sinkbasin": (1, 2),
            "toilet": (1, 1),
            "towelholder": (1, 1),
        },
        {
            "soapbar": ("countertop", "sinkbasin", "bathtubbasin", "cabinet", "toilet"),
            "soapbottle": ("countertop", "cabinet", "shelf", "toilet"),
            "cloth": ("countertop", "cabinet", "bathtubbasin", "drawer"),
            "candle": ("countertop", "shelf", "toilet", "cabinet"),
            "toiletpaper": ("toilet", "cabinet", "shelf", "countertop"),
            "spraybottle": ("cabinet", "toilet", "countertop"),
            "towel": ("towelholder", "bathtubbasin"),
        },
        ("countertop", "cabinet", "shelf", "toilet", "drawer", "garbagecan", "bathtubbasin"),
    ),
}

#: Rooms in which each task type can be posed (the appliance or lamp must exist there).
TASK_ROOMS = {
    "pick_and_place": ("kitchen", "livingroom", "bedroom", "bathroom"),
    "pick_two": ("kitchen", "livingroom", "bedroom", "bathroom"),
    "clean": ("kitchen", "bathroom"),
    "heat": ("kitchen",),
    "cool": ("kitchen",),
    "examine": ("livingroom", "bedroom"),
}
#: Where the desk lamp of an examine task stands.
LAMP_PLACES = ("desk", "sidetable")


@dataclass
class Receptacle:
    name: str
    kind: str
    openable: bool
    is_open: bool
    contents: list[str] = field(default_factory=list)

    @property
    def accessible(self) -> bool:
        """Whether its contents can be seen and reached (open, or nothing to open)."""
        return self.is_open or not self.openable


@dataclass
class Thing:
    name: str
    kind: str
    location: str | None
    """The receptacle it is in or on; None while the agent holds it."""
    portable: bool = True
    clean: bool = False
    hot: bool = False
    cool: bool = False


@dataclass(frozen=True)
class Goal:
    task_type: str
    object_kind: str
    target_kind: str | None
    """The receptacle kind to put things in; None for examine."""
    count: int
    instruction: str

    @property
    def required_state(self) -> str | None:
        return self.task_type if self.task_type in APPLIANCE else None


@dataclass
class World:
    room: str
    receptacles: dict[str, Receptacle]
    things: dict[str, Thing]
    goal: Goal
    agent_at: str | None = None
    """The receptacle the agent stands at; None in the middle of the room."""
    holding: str | None = None
    lamp_on: bool = False
    seen: set[str] = field(default_factory=set)
    """Receptacles whose contents the agent has seen (contents change only by its hand)."""

    def of_kind(self, kind: str) -> list[Receptacle]:
        return [r for r in self.receptacles.values() if r.kind == kind]

    def lamp(self) -> Thing | None:
        return next((t for t in self.things.values() if t.kind == LAMP), None)

    def has_state(self, thing: Thing, state: str | None) -> bool:
        return state is None or bool(getattr(thing, STATE_WORD[state]))

    def in_place(self, thing: Thing) -> bool:
        """Whether ``thing`` counts toward a placement goal where it is now."""
        g = self.goal
        if g.target_kind is None or thing.kind != g.object_kind or thing.location is None:
            return False
        return self.receptacles[thing.location].kind == g.target_kind and self.has_state(
            thing, g.required_state
        )

    def objects_in_place(self) -> int:
        if self.goal.target_kind is None:
            return int(self.examining())
        return sum(self.in_place(t) for t in self.things.values())

    def examining(self) -> bool:
        """Examine goal: holding an object of the kind, at the lit lamp."""
        lamp = self.lamp()
        held = self.things.get(self.holding) if self.holding else None
        return bool(
            lamp is not None
            and held is not None
            and held.kind == self.goal.object_kind
            and self.lamp_on
            and self.agent_at == lamp.location
        )

    def goal_reached(self) -> bool:
        return self.objects_in_place() >= self.goal.count

    def mark_seen(self) -> None:
        if self.agent_at is not None and self.receptacles[self.agent_at].accessible:
            self.seen.add(self.agent_at)


def _instruction(rng: np.random.Generator, task: str, obj: str, target: str | None) -> str:
    templates = {
        "pick_and_place": ("put a {o} in {t}.", "put some {o} on {t}."),
        "pick_two": ("put two {o} in {t}.", "find two {o} and put them in {t}."),
        "clean": ("put a clean {o} in {t}.", "clean some {o} and put it in {t}."),
        "heat": ("put a hot {o} in {t}.", "heat some {o} and put it in {t}."),
        "cool": ("put a cool {o} in {t}.", "cool some {o} and put it in {t}."),
        "examine": ("look at {o} under the desklamp.", "examine the {o} with the desklamp."),
    }[task]
    return str(templates[int(rng.integers(len(templates)))]).format(o=obj, t=target)


def generate(rng: np.random.Generator, task_type: str | None = None) -> World:
    """A world and its goal, drawn from ``rng`` (the same generator state, the same world)."""
    task = task_type or TASK_TYPES[int(rng.integers(len(TASK_TYPES)))]
    if task not in TASK_TYPES:
        raise ValueError(f"task_type must be one of {', '.join(TASK_TYPES)}, got {task!r}")
    room_key = TASK_ROOMS[task][int(rng.integers(len(TASK_ROOMS[task])))]
    room = ROOMS[room_key]

    receptacles: dict[str, Receptacle] = {}
    for kind, (low, high) in room.receptacles.items():
        for i in range(int(rng.integers(low, high + 1))):
            openable = kind in OPENABLE
            receptacles[f"{kind} {i + 1}"] = Receptacle(
                f"{kind} {i + 1}", kind, openable, not openable
            )

    # The goal: an object kind the task can act on, and a target kind other than the appliance.
    kinds = sorted(room.objects)
    if task in ABLE:
        kinds = [k for k in kinds if k in ABLE[task]]
    obj_kind = kinds[int(rng.integers(len(kinds)))]
    target = None
    if task != "examine":
        targets = [t for t in room.targets if t != APPLIANCE.get(task)]
        target = targets[int(rng.integers(len(targets)))]
    count = 2 if task == "pick_two" else 1
    goal = Goal(task, obj_kind, target, count, _instruction(rng, task, obj_kind, target))

    things: dict[str, Thing] = {}
    numbers: dict[str, int] = {}

    def place(kind: str, allowed: tuple[str, ...], portable: bool = True) -> None:
        # Goal objects never start in a target receptacle, so no goal holds at reset.
        banned = target if kind == obj_kind else None
        spots = [r for r in receptacles.values() if r.kind in allowed and r.kind != banned]
        if not spots:  # every allowed place is the goal's target: start anywhere else
            spots = [r for r in receptacles.values() if r.kind != banned]
        spot = spots[int(rng.integers(len(spots)))]
        numbers[kind] = numbers.get(kind, 0) + 1
        name = f"{kind} {numbers[kind]}"
        things[name] = Thing(name, kind, spot.name, portable)
        spot.contents.append(name)

    if task == "examine":
        place(LAMP, LAMP_PLACES, portable=False)
    for _ in range(count + int(rng.integers(0, 2))):
        place(obj_kind, room.objects[obj_kind])
    all_kinds = sorted(room.objects)
    for _ in range(int(rng.integers(6, 11))):
        kind = all_kinds[int(rng.integers(len(all_kinds)))]
        if kind == obj_kind:
            continue  # keeps the number of goal objects as drawn above
        place(kind, room.objects[kind])
    return World(room_key, receptacles, things, goal)
