"""The wire formats the env server speaks: our generic one at ``/`` for any env, and
AgentGym's per family under ``/<name>`` for the envs of that family (``/babyai`` for text
BabyAI, ``/alfworld`` for the household world, ``/webshop`` for the shop, ``/tool`` for
the Tools tasks, ``/webarena`` for MiniWoB++). An AgentGym client works unchanged with the prefixed address as its
``env_server_base``. docs/server.md has every route.
"""

from __future__ import annotations

from agentgym.server.protocols.alfworld import ALFWORLD
from agentgym.server.protocols.babyai import BABYAI
from agentgym.server.protocols.base import Handler, Protocol
from agentgym.server.protocols.generic import GENERIC
from agentgym.server.protocols.tool import TOOL
from agentgym.server.protocols.webarena import WEBARENA
from agentgym.server.protocols.webshop import WEBSHOP

PROTOCOLS: dict[str, Protocol] = {
    p.name: p for p in (GENERIC, BABYAI, ALFWORLD, WEBSHOP, TOOL, WEBARENA)
}


def env_tags(env_id: str) -> tuple[str, ...]:
    """The TaskSpec tags of ``env_id`` (none for an env that is not an agentgym TaskEnv)."""
    from agentgym.catalog import task_spec

    try:
        return tuple(task_spec(env_id).tags)
    except TypeError:
        return ()


def protocols_for(env_id: str) -> list[Protocol]:
    """The AgentGym protocols that can serve ``env_id`` (generic excluded)."""
    tags = env_tags(env_id)
    return [p for p in PROTOCOLS.values() if p is not GENERIC and p.serves(tags)]


__all__ = ["GENERIC", "PROTOCOLS", "Handler", "Protocol", "env_tags", "protocols_for"]
