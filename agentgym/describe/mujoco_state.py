"""State variables read from a MuJoCo model: what a described env tells a reward designer.

A selector names one value of the simulation, ``KIND:NAME``:

============  ==========================================================  =========
kind          value                                                       units
============  ==========================================================  =========
body          position (x, y, z) of a body in the world frame (xpos)      m
body_quat     orientation of a body, quaternion (w, x, y, z) (xquat)      -
body_vel      linear velocity of a body in the world frame                m/s
joint         a joint's qpos: angle (hinge), position (slide), ...        rad or m
joint_vel     a joint's qvel                                              rad/s, m/s
site          position of a site (site_xpos)                              m
geom          position of a geom (geom_xpos)                              m
actuator      control signal of one actuator (by name or index)           -
contact       whether two bodies touch (``contact:BODY_A:BODY_B``)        -
ctrl          every actuator's control signal (no name)                   -
qpos          every joint's qpos, in model order (no name)                rad or m
qvel          every joint's qvel, in model order (no name)                rad/s, m/s
============  ==========================================================  =========

Names and meanings come from the MJCF (names, joint types and limits, actuator ranges),
so the prompt reads ``tips_arm_pos: position of body 'tips_arm'`` rather than ``obs[14:17]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.registry import suggest
from agentgym.spec import StateVar

KINDS = (
    "body",
    "body_quat",
    "body_vel",
    "joint",
    "joint_vel",
    "site",
    "geom",
    "actuator",
    "contact",
    "ctrl",
    "qpos",
    "qvel",
)
WHOLE = ("ctrl", "qpos", "qvel")
SUFFIX = {
    "body": "pos",
    "body_quat": "quat",
    "body_vel": "vel",
    "joint": "qpos",
    "joint_vel": "qvel",
    "site": "pos",
    "geom": "pos",
    "actuator": "ctrl",
}
# mujoco.mjtJoint: free, ball, slide, hinge
FREE, BALL, SLIDE, HINGE = 0, 1, 2, 3
QPOS_SIZE = {FREE: 7, BALL: 4, SLIDE: 1, HINGE: 1}
QVEL_SIZE = {FREE: 6, BALL: 3, SLIDE: 1, HINGE: 1}


@dataclass(frozen=True)
class Selected:
    """One selected value: its StateVar and how to read it from ``(model, data)``."""

    var: StateVar
    read: Callable[[Any, Any], np.ndarray]


def identifier(text: str) -> str:
    """``text`` as a Python identifier (MJCF names may hold '-', '.', or start with a digit)."""
    out = re.sub(r"\W", "_", text)
    return f"_{out}" if not out or out[0].isdigit() else out


def _names(model: Any, obj: int, count: int) -> list[str]:
    import mujoco

    return [mujoco.mj_id2name(model, obj, i) or "" for i in range(count)]


def actuator_names(model: Any) -> list[str]:
    """Each actuator's name; an unnamed one (Pusher's) takes the name of the joint it drives."""
    import mujoco

    names = []
    for i, name in enumerate(_names(model, mujoco.mjtObj.mjOBJ_ACTUATOR, model.nu)):
        if not name and model.actuator_trntype[i] == mujoco.mjtTrn.mjTRN_JOINT:
            name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[i, 0])
        names.append(name or f"actuator{i}")
    return names


def _lookup(model: Any, kind: str, name: str, selector: str) -> int:
    import mujoco

    obj, count = {
        "body": (mujoco.mjtObj.mjOBJ_BODY, model.nbody),
        "joint": (mujoco.mjtObj.mjOBJ_JOINT, model.njnt),
        "site": (mujoco.mjtObj.mjOBJ_SITE, model.nsite),
        "geom": (mujoco.mjtObj.mjOBJ_GEOM, model.ngeom),
    }[kind]
    index = mujoco.mj_name2id(model, obj, name)
    if index < 0:
        known = [n for n in _names(model, obj, count) if n]
        raise ValueError(
            f"state: {selector!r}: the model has no {kind} named {name!r}.{suggest(name, known)} "
            f"Its {kind}s: {', '.join(known) or 'none with a name'}"
        )
    return index


def _joint_var(model: Any, name: str, alias: str, j: int, velocity: bool) -> Selected:
    kind = int(model.jnt_type[j])
    if velocity:
        start, size = int(model.jnt_dofadr[j]), QVEL_SIZE[kind]
        units = {HINGE: "rad/s", SLIDE: "m/s", BALL: "rad/s", FREE: "m/s, rad/s"}[kind]
        meaning = {
            HINGE: f"angular velocity of hinge joint '{name}'",
            SLIDE: f"velocity of slide joint '{name}' along its axis",
            BALL: f"angular velocity of ball joint '{name}'",
            FREE: f"velocity of free joint '{name}': linear (x, y, z), then angular",
        }[kind]
    else:
        start, size = int(model.jnt_qposadr[j]), QPOS_SIZE[kind]
        units = {HINGE: "rad", SLIDE: "m", BALL: "-", FREE: "m, -"}[kind]
        meaning = {
            HINGE: f"angle of hinge joint '{name}'",
            SLIDE: f"position of slide joint '{name}' along its axis",
            BALL: f"orientation of ball joint '{name}', quaternion (w, x, y, z)",
            FREE: f"pose of free joint '{name}': position (x, y, z), then quaternion (w, x, y, z)",
        }[kind]
        if model.jnt_limited[j] and kind in (HINGE, SLIDE):
            low, high = model.jnt_range[j]
            meaning += f" (limits [{low:.3g}, {high:.3g}] {units})"
    shape = () if size == 1 else (size,)
    field = "qvel" if velocity else "qpos"

    def read(_model: Any, data: Any) -> np.ndarray:
        value = getattr(data, field)[start : start + size]
        return value[0].copy() if size == 1 else value.copy()

    return Selected(StateVar(alias, shape, "float64", units, meaning), read)


def layout(model: Any, velocity: bool) -> str:
    """Which joint each entry of qpos (or qvel) belongs to: ``WRJ1 [0], ..., object [24:31]
    (free: x, y, z, then quaternion w, x, y, z)``; a prompt needs it to index the vector."""
    import mujoco

    sizes, address = (QVEL_SIZE, model.jnt_dofadr) if velocity else (QPOS_SIZE, model.jnt_qposadr)
    parts = []
    for j, name in enumerate(_names(model, mujoco.mjtObj.mjOBJ_JOINT, model.njnt)):
        kind, start = int(model.jnt_type[j]), int(address[j])
        size = sizes[kind]
        where = f"[{start}]" if size == 1 else f"[{start}:{start + size}]"
        detail = {
            (FREE, False): " (free: x, y, z, then quaternion w, x, y, z)",
            (FREE, True): " (free: linear x, y, z, then angular)",
            (BALL, False): " (ball: quaternion w, x, y, z)",
            (BALL, True): " (ball: angular)",
        }.get((kind, velocity), "")
        parts.append(f"{name or f'joint{j}'} {where}{detail}")
    return ", ".join(parts)


def _whole_var(model: Any, kind: str, alias: str | None) -> Selected:
    """``ctrl``, ``qpos`` or ``qvel``: the whole vector, its layout in the meaning."""
    if kind == "ctrl":
        shape, units = (model.nu,), "-"
        meaning = "control signals of the actuators, in order: " + ", ".join(actuator_names(model))
    elif kind == "qpos":
        shape, units = (model.nq,), "rad or m"
        meaning = "every joint's position (data.qpos): " + layout(model, velocity=False)
    else:
        shape, units = (model.nv,), "rad/s or m/s"
        meaning = "every joint's velocity (data.qvel): " + layout(model, velocity=True)

    def read(_model: Any, data: Any) -> np.ndarray:
        return getattr(data, kind).copy()

    return Selected(StateVar(alias or kind, shape, "float64", units, meaning), read)


def _actuator_var(model: Any, name: str, alias: str, selector: str) -> Selected:
    names = actuator_names(model)
    if name.isdigit() and int(name) < model.nu:
        index = int(name)
    elif name in names:
        index = names.index(name)
    else:
        raise ValueError(
            f"state: {selector!r}: the model has no actuator named {name!r}."
            f"{suggest(name, names)} Its actuators: {', '.join(names) or 'none'}"
        )
    meaning = f"control signal of actuator '{names[index]}'"
    if model.actuator_ctrllimited[index]:
        low, high = model.actuator_ctrlrange[index]
        meaning += f" (range [{low:.3g}, {high:.3g}])"

    def read(_model: Any, data: Any) -> np.ndarray:
        return data.ctrl[index].copy()

    return Selected(StateVar(alias, (), "float64", "-", meaning), read)


def _contact_var(model: Any, names: str, alias: str, selector: str) -> Selected:
    first, sep, second = names.partition(":")
    if not sep or not first or not second:
        raise ValueError(f"state: {selector!r}: a contact names two bodies, contact:BODY_A:BODY_B")
    a, b = (_lookup(model, "body", n, selector) for n in (first, second))

    def read(model: Any, data: Any) -> np.ndarray:
        # data.contact is rebuilt every step; a step has few contacts, so a scan is cheap.
        for c in data.contact[: data.ncon]:
            pair = {int(model.geom_bodyid[c.geom1]), int(model.geom_bodyid[c.geom2])}
            if pair == {a, b}:
                return np.asarray(True)
        return np.asarray(False)

    meaning = f"whether body '{first}' touches body '{second}' (any contact between their geoms)"
    return Selected(StateVar(alias, (), "bool", "-", meaning), read)


def select(model: Any, selector: str, alias: str | None = None) -> Selected:
    """The value ``selector`` (``KIND:NAME``) names, as ``alias`` (default ``NAME_SUFFIX``)."""
    import mujoco

    kind, sep, name = selector.partition(":")
    if kind not in KINDS or (not sep and kind not in WHOLE):
        raise ValueError(
            f"state: {selector!r} is not a selector KIND:NAME; kinds: {', '.join(KINDS)}"
            f"{suggest(kind, KINDS)}"
        )
    if kind in WHOLE:
        if sep:
            raise ValueError(
                f"state: {selector!r}: {kind!r} is the whole vector and takes no name; "
                f"write {kind!r}"
            )
        return _whole_var(model, kind, alias)
    if kind == "contact":
        default = "_touches_".join(identifier(n) for n in name.split(":"))
        return _contact_var(model, name, alias or default, selector)
    alias = alias or f"{identifier(name)}_{SUFFIX[kind]}"
    if kind == "actuator":
        return _actuator_var(model, name, alias, selector)
    if kind in ("joint", "joint_vel"):
        j = _lookup(model, "joint", name, selector)
        return _joint_var(model, name, alias, j, velocity=kind == "joint_vel")
    if kind == "body_vel":
        b = _lookup(model, "body", name, selector)

        def read_vel(model: Any, data: Any) -> np.ndarray:
            out = np.zeros(6)
            # flg_local=0: world frame; the result is (angular, linear)
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, b, out, 0)
            return out[3:]

        meaning = f"linear velocity (x, y, z) of body '{name}' in the world frame"
        return Selected(StateVar(alias, (3,), "float64", "m/s", meaning), read_vel)
    base = "body" if kind == "body_quat" else kind
    index = _lookup(model, base, name, selector)
    field, size, units, meaning = {
        "body": ("xpos", 3, "m", f"position (x, y, z) of body '{name}' in the world frame"),
        "body_quat": (
            "xquat",
            4,
            "-",
            f"orientation of body '{name}' in the world frame, quaternion (w, x, y, z)",
        ),
        "site": ("site_xpos", 3, "m", f"position (x, y, z) of site '{name}' in the world frame"),
        "geom": ("geom_xpos", 3, "m", f"position (x, y, z) of geom '{name}' in the world frame"),
    }[kind]

    def read(_model: Any, data: Any) -> np.ndarray:
        return getattr(data, field)[index].copy()

    return Selected(StateVar(alias, (size,), "float64", units, meaning), read)


def default_selectors(model: Any) -> list[str]:
    """What a task that names no state gets: every named body's and site's position, every
    named joint's position and velocity."""
    import mujoco

    bodies = [n for n in _names(model, mujoco.mjtObj.mjOBJ_BODY, model.nbody)[1:] if n]
    joints = [n for n in _names(model, mujoco.mjtObj.mjOBJ_JOINT, model.njnt) if n]
    sites = [n for n in _names(model, mujoco.mjtObj.mjOBJ_SITE, model.nsite) if n]
    return (
        [f"body:{n}" for n in bodies]
        + [f"site:{n}" for n in sites]
        + [f"joint:{n}" for n in joints]
        + [f"joint_vel:{n}" for n in joints]
    )
