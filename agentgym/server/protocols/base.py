"""What a wire protocol is: the routes of one family of AgentGym env servers (or our
own generic ones), and which envs it can serve."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentgym.server.fields import instance_id
from agentgym.server.instances import EnvPool

Handler = Callable[[EnvPool, dict[str, Any]], Any]
"""(the pool, the request's fields: JSON body of a POST, query of a GET) -> the answer."""


@dataclass(frozen=True)
class Protocol:
    """One wire format: its ``routes`` ((method, path) -> handler), served under
    ``/<name>`` for every env whose TaskSpec carries one of ``tags`` (every env when
    ``tags`` is empty), and at ``/`` when the server is started with ``--protocol <name>``."""

    name: str
    agentgym_family: str
    """The AgentGym env server whose wire format this is ('' for our own)."""
    tags: tuple[str, ...]
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)

    def serves(self, env_tags: tuple[str, ...]) -> bool:
        return not self.tags or bool(set(self.tags) & set(env_tags))


def hello(pool: EnvPool, fields: dict[str, Any]) -> str:
    """``GET /``: the liveness answer every AgentGym server gives."""
    return "ok"


def list_envs(pool: EnvPool, fields: dict[str, Any]) -> list[int]:
    """``GET /list_envs``: the ids of the open instances."""
    return pool.ids()


def close_env_idx(pool: EnvPool, fields: dict[str, Any]) -> dict[str, Any]:
    """``POST /close`` of the servers that name an instance ``env_idx`` (tool, WebShop)."""
    idx = instance_id(fields, ("env_idx",))
    pool.close(idx)
    return {"env_idx": idx, "closed": True}
