"""AgentGym's ALFWorld wire format (``agentenv-alfworld``), for our household world.

| method | path | body / query | answer |
|---|---|---|---|
| POST | /create | | ``{"id"}`` |
| POST | /reset | ``{"id", "game", "world_type"}`` | ``{"id", "observation", "available_actions", "task_type"}`` |
| POST | /step | ``{"id", "action"}`` | ``{"observation", "reward", "available_actions", "done"}`` |
| GET | /available_actions | ``?id=`` | the admissible commands |
| GET | /observation | ``?id=`` | the observation |
| GET | /detail | ``?id=`` | ``{"world_type", "game", "observation", "available_actions", "done", "reward", "deleted"}`` |
| POST | /close | ``{"id"}`` | ``true`` |

``game`` is the index of a task: the same index gives the same task (it is the seed of
the world generator), so a recorded plan replays. Only ALFWorld's ``"Text"`` world
exists here; ``reward`` is 1.0 on the step that wins, as ALFWorld's ``won``.
"""

from __future__ import annotations

from typing import Any

from agentgym.server.fields import BadRequest, command, instance_id, optional_index, required
from agentgym.server.instances import EnvPool
from agentgym.server.protocols.base import Protocol

WORLD_TYPES = ("Text", "Embody", "Hybrid")


def _world_type(fields: dict[str, Any]) -> str:
    world_type = fields.get("world_type", "Text")
    if world_type not in WORLD_TYPES:
        raise BadRequest(f"'world_type' must be one of {list(WORLD_TYPES)}, got {world_type!r}")
    if world_type != "Text":
        raise BadRequest(
            f"'world_type' {world_type!r}: only the 'Text' world exists here (no embodied simulator)"
        )
    return world_type


def hello(pool: EnvPool, fields: dict[str, Any]) -> str:
    return f"This is environment AlfWorld ({pool.env_id}, served by agentgym)."


def create(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": pool.create()}


def reset(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields, ("id",))
    required(fields, "game")
    game = optional_index(fields, "game")
    world_type = _world_type(fields)
    out = pool.reset(idx, game, game=game, world_type=world_type)
    return {
        "id": idx,
        "observation": out["observation"],
        "available_actions": out["available_actions"],
        "task_type": out["info"]["reward_state"]["task_type"],
    }


def step(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    out = pool.step(instance_id(fields, ("id",)), command(fields))
    return {
        "observation": out["observation"],
        "reward": 1.0 if out["info"]["success"] else 0.0,
        "available_actions": out["available_actions"],
        "done": out["done"],
    }


def available_actions(pool: EnvPool, fields: dict[str, Any]) -> list[str]:
    return pool.available_actions(instance_id(fields, ("id",)))


def observation(pool: EnvPool, fields: dict[str, Any]) -> Any:
    return pool.observation(instance_id(fields, ("id",)))


def detail(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields, ("id",))
    out = pool.detail(idx)
    return {
        **out["meta"],
        "observation": out["observation"],
        "available_actions": pool.available_actions(idx),
        "done": out["done"],
        "reward": 1.0 if out["info"].get("success") else 0.0,
        "deleted": False,
    }


def close(pool: EnvPool, fields: dict[str, Any]) -> bool:
    pool.close(instance_id(fields, ("id",)))
    return True


ALFWORLD = Protocol(
    name="alfworld",
    agentgym_family="ALFWorld (agentenv-alfworld)",
    tags=("alfworld",),
    routes={
        ("GET", "/"): hello,
        ("POST", "/create"): create,
        ("POST", "/reset"): reset,
        ("POST", "/step"): step,
        ("GET", "/available_actions"): available_actions,
        ("GET", "/observation"): observation,
        ("GET", "/detail"): detail,
        ("POST", "/close"): close,
    },
)
