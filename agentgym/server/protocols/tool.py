"""AgentGym's tool-use wire format (``agentenv-tool``: its movie, weather, todo, sheet and
academia servers), for our Tools tasks.

The instance is named ``env_idx``; ``id`` is the task (here the seed). Actions are our
Tools commands (one JSON function call, see ``agentgym/Tools-v0``), not AgentGym's
``Action: ... with Action Input: ...`` text.

| method | path | body / query | answer |
|---|---|---|---|
| GET | / | | ``"ok"`` |
| GET | /list_envs | | the live instance ids |
| POST | /create | ``{"id"?}`` | the new instance id, a bare integer (reset to task ``id``) |
| POST | /reset | ``{"env_idx", "id"?}`` | the observation |
| POST | /step | ``{"env_idx", "action"}`` | ``{"observation", "reward", "done"}`` |
| GET | /observation | ``?env_idx=`` | the observation |
| POST | /close | ``{"env_idx"}`` | ``{"env_idx", "closed": true}`` |
"""

from __future__ import annotations

from typing import Any

from agentgym.server.fields import command, instance_id, optional_index
from agentgym.server.instances import EnvPool
from agentgym.server.protocols.base import Protocol, close_env_idx, hello, list_envs

KEYS = ("env_idx",)


def create(pool: EnvPool, fields: dict[str, Any]) -> int:
    task = optional_index(fields, "id")
    idx = pool.create()
    # AgentGym's tool servers load the task at /create; the client resets to it again.
    pool.reset(idx, task)
    return idx


def reset(pool: EnvPool, fields: dict[str, Any]) -> str:
    return pool.reset(instance_id(fields, KEYS), optional_index(fields, "id"))["observation"]


def step(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    out = pool.step(instance_id(fields, KEYS), command(fields))
    return {"observation": out["observation"], "reward": out["reward"], "done": out["done"]}


def observation(pool: EnvPool, fields: dict[str, Any]) -> str:
    return pool.observation(instance_id(fields, KEYS))


TOOL = Protocol(
    name="tool",
    agentgym_family="tool use (agentenv-tool: movie, weather, todo, sheet, academia)",
    tags=("tools",),
    routes={
        ("GET", "/"): hello,
        ("GET", "/list_envs"): list_envs,
        ("POST", "/create"): create,
        ("POST", "/reset"): reset,
        ("POST", "/step"): step,
        ("GET", "/observation"): observation,
        ("POST", "/close"): close_env_idx,
    },
)
