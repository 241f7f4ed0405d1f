"""Our own generic wire format, for any env: every answer names the instance (``id`` and
``env_idx``) and carries observation, reward, score, done, available actions and the
env's info. docs/server.md has the table."""

from __future__ import annotations

from typing import Any

from agentgym.server.fields import instance_id, one_seed, required
from agentgym.server.instances import EnvPool
from agentgym.server.protocols.base import Protocol, list_envs


def hello(pool: EnvPool, fields: dict[str, Any]) -> str:
    return f"This is the agentgym env server for {pool.env_id}."


def info(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    from agentgym.catalog import describe, task_spec

    description = describe(pool.env_id)
    try:
        description["task_spec"] = task_spec(pool.env_id).to_dict()
    except TypeError:
        pass  # not an agentgym TaskEnv: serve it without a TaskSpec
    return {**description, "instances": pool.ids(), "max_instances": pool.max_instances}


def create(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = pool.create()
    return {"id": idx, "env_idx": idx}


def reset(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    # AgentGym's data_idx picks a task; here a task is what a seed generates.
    return pool.reset(instance_id(fields), one_seed(fields, "seed", "data_idx"))


def step(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields)
    return pool.step(idx, required(fields, "action"))


def observation(pool: EnvPool, fields: dict[str, Any]) -> Any:
    return pool.observation(instance_id(fields))


def available_actions(pool: EnvPool, fields: dict[str, Any]) -> list[str]:
    return pool.available_actions(instance_id(fields))


def detail(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    return pool.detail(instance_id(fields))


def close(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    idx = instance_id(fields)
    pool.close(idx)
    return {"id": idx, "env_idx": idx, "closed": True}


GENERIC = Protocol(
    name="generic",
    agentgym_family="",
    tags=(),
    routes={
        ("GET", "/"): hello,
        ("GET", "/info"): info,
        ("GET", "/list_envs"): list_envs,
        ("POST", "/create"): create,
        ("POST", "/reset"): reset,
        ("POST", "/step"): step,
        ("GET", "/observation"): observation,
        ("GET", "/available_actions"): available_actions,
        ("GET", "/detail"): detail,
        ("POST", "/close"): close,
    },
)
