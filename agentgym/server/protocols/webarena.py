"""AgentGym's WebArena wire format (``agentenv-webarena``), for our MiniWoB++ tasks: the
nearest AgentGym family, browser tasks driven by text commands on a page's elements.

The instance is named ``env_idx``. As WebArena's server does, ``/step`` takes the
model's whole answer and executes the command inside its last triple backticks (the
answer itself when it has none); the commands are ours (``click(4)``, ``type(5,
"text")``, see docs/envs-web.md), not WebArena's ``click [id]`` set.

| method | path | body / query | answer |
|---|---|---|---|
| GET | / | | ``"ok"`` |
| GET | /list_envs | | the live instance ids |
| POST | /create | | ``{"env_idx"}`` |
| POST | /reset | ``{"env_idx", "seed"?, "idx"?}`` | ``{"observation", "sites": [], "object": <the task's utterance>}`` |
| POST | /step | ``{"env_idx", "action"}`` | ``{"observation", "reward", "terminated", "truncated", "info"}`` |
| GET | /observation | ``?env_idx=`` | the observation |
| POST | /close | ``{"env_idx"}`` | ``{"closed": "closed"}`` |

WebArena's ``idx`` picks a task config and its ``seed`` is always 0; one MiniWoB task
per server, so ``idx`` is the episode's seed (``seed`` when ``idx`` is absent).
"""

from __future__ import annotations

import re
from typing import Any

from agentgym.server.fields import command, instance_id, optional_index
from agentgym.server.instances import EnvPool
from agentgym.server.protocols.base import Protocol, hello, list_envs

KEYS = ("env_idx",)
_FENCED = re.compile(r"```(.*?)```", re.DOTALL)


def fenced_command(answer: str) -> str:
    """The command inside the last ``` fence of a model's answer (the answer without one)."""
    found = _FENCED.findall(answer)
    return found[-1].strip() if found else answer.strip()


def create(pool: EnvPool, fields: dict[str, Any]) -> dict[str, int]:
    return {"env_idx": pool.create()}


def reset(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields, KEYS)
    task = optional_index(fields, "idx")
    out = pool.reset(idx, task if task is not None else optional_index(fields, "seed"))
    return {
        "observation": out["observation"],
        "sites": [],
        "object": out["info"]["reward_state"]["mission"],
    }


def step(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    out = pool.step(instance_id(fields, KEYS), fenced_command(command(fields)))
    return {key: out[key] for key in ("observation", "reward", "terminated", "truncated", "info")}


def observation(pool: EnvPool, fields: dict[str, Any]) -> Any:
    return pool.observation(instance_id(fields, KEYS))


def close(pool: EnvPool, fields: dict[str, Any]) -> dict[str, str]:
    pool.close(instance_id(fields, KEYS))
    return {"closed": "closed"}


WEBARENA = Protocol(
    name="webarena",
    agentgym_family="WebArena (agentenv-webarena)",
    tags=("miniwob",),
    routes={
        ("GET", "/"): hello,
        ("GET", "/list_envs"): list_envs,
        ("POST", "/create"): create,
        ("POST", "/reset"): reset,
        ("POST", "/step"): step,
        ("GET", "/observation"): observation,
        ("POST", "/close"): close,
    },
)
