"""The agentgym env server: any registered env over HTTP, with our generic endpoints
(/create, /reset, /step, /observation, /available_actions, /detail, /close) and the wire
formats of AgentGym's env servers under /babyai, /alfworld, /webshop and /tool, so
external LLM-agent frameworks can drive agentgym envs. See docs/server.md.

``EnvPool`` holds the instances (thread-safe, no HTTP), ``EnvServer`` serves a pool,
``EnvClient`` is a standard-library client.
"""

from __future__ import annotations

from agentgym.server.client import EnvClient, EnvServerError
from agentgym.server.http_server import EnvServer
from agentgym.server.instances import EnvPool, PoolError

__all__ = ["EnvClient", "EnvPool", "EnvServer", "EnvServerError", "PoolError", "make_server"]


def make_server(
    env_id: str,
    host: str = "127.0.0.1",
    port: int = 0,
    max_instances: int = 64,
    protocol: str = "generic",
) -> EnvServer:
    """A server for ``env_id`` bound to ``host:port`` (port 0: any free port; read ``.url``),
    speaking ``protocol`` at ``/`` and every AgentGym protocol of the env under its prefix."""
    import agentgym  # noqa: F401  (registers the envs)

    return EnvServer(EnvPool(env_id, max_instances=max_instances), host, port, protocol)
