"""AgentGym's BabyAI wire format (``agentenv-babyai``), for our text BabyAI levels.

Instances created here take the high-level commands AgentGym's BabyAI prompt teaches
(``go to red ball 1``, ``pick up grey key 1``, ``toggle and go through blue closed door 1``,
``check available actions``; ``agentgym.envs.text.babyai.macro_commands``), and every
observation ends with the available commands the way AgentGym's server appends them:
``\\nAvailable actions: ["turn left", "turn right", ...]``.

| method | path | body / query | answer |
|---|---|---|---|
| POST | /create | | ``{"id"}`` |
| POST | /reset | ``{"id", "data_idx"}`` | ``{"observation": "Your goal: ...", "reward", "score", "deleted", "done"}`` |
| POST | /step | ``{"id", "action"}`` | ``{"observation", "reward", "score", "done"}`` |
| GET | /observation | ``?id=`` | ``{"observation", "reward", "score", "done", "deleted"}`` |
| POST | /close | ``{"id"}`` | ``true`` |

AgentGym's ``data_idx`` picks one of 40 levels and a seed (``data_idx % 40``,
``data_idx // 40``); a server of ours serves one level, so ``data_idx`` is the seed.
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym

from agentgym.server.fields import command, instance_id, optional_index
from agentgym.server.instances import EnvPool
from agentgym.server.protocols.base import Protocol


def with_actions(text: str, actions: list[str]) -> str:
    """AgentGym's BabyAI server's suffix: ``\\nAvailable actions: ["a", "b"]``."""
    return f"{text}\nAvailable actions: [{', '.join(json.dumps(a) for a in actions)}]"


def _macro(env: gym.Env) -> gym.Env:
    from agentgym.envs.text.babyai.macro_commands import MacroCommands

    return MacroCommands(env)


def _goal(pool: EnvPool, idx: int) -> str:
    return pool.call(idx, lambda env: env.unwrapped.mission)


def hello(pool: EnvPool, fields: dict[str, Any]) -> str:
    return f"This is environment BabyAI ({pool.env_id}, served by agentgym)."


def create(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": pool.create(wrapper=_macro)}


def reset(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields, ("id",))
    out = pool.reset(idx, optional_index(fields, "data_idx"))
    goal = _goal(pool, idx)
    return {
        "observation": with_actions(
            f"Your goal: {goal}\n{out['observation']}", out["available_actions"]
        ),
        "reward": 0.0,
        "score": 0.0,
        "deleted": False,
        "done": False,
    }


def step(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields, ("id",))
    out = pool.step(idx, command(fields))
    return {
        "observation": with_actions(out["observation"], out["available_actions"]),
        "reward": out["reward"],
        "score": out["score"],
        "done": out["done"],
    }


def observation(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields, ("id",))
    detail = pool.detail(idx)
    text = f"Your goal: {_goal(pool, idx)}\n{pool.observation(idx)}"
    return {
        "observation": with_actions(text, pool.available_actions(idx)),
        "reward": 0.0,
        "score": detail["score"],
        "done": detail["done"],
        "deleted": False,
    }


def close(pool: EnvPool, fields: dict[str, Any]) -> bool:
    pool.close(instance_id(fields, ("id",)))
    return True


BABYAI = Protocol(
    name="babyai",
    agentgym_family="BabyAI (agentenv-babyai)",
    tags=("babyai",),
    routes={
        ("GET", "/"): hello,
        ("POST", "/create"): create,
        ("POST", "/reset"): reset,
        ("POST", "/step"): step,
        ("GET", "/observation"): observation,
        ("POST", "/close"): close,
    },
)
