"""Serve an env over HTTP with AgentGym's endpoints (/create, /reset, /step,
/observation, /available_actions, /detail, /close), so external LLM-agent frameworks
can use any agentgym env. Several instances per server, each numbered by /create.

Example: agentgym serve agentgym/Household-v0 --port 8000
See docs/server.md for the exact API.
"""

from __future__ import annotations

import argparse

HELP = "serve an env over HTTP with AgentGym's env-server API"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env_id", help="e.g. agentgym/Household-v0")
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes the server to the network)",
    )
    parser.add_argument(
        "--max-instances",
        type=int,
        default=64,
        help="most env instances alive at once (default 64)",
    )


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console

    from agentgym.server import make_server

    console = Console(stderr=True)
    try:
        server = make_server(args.env_id, args.host, args.port, args.max_instances)
    except gym.error.Error as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    except OSError as err:
        console.print(f"[red]error:[/red] cannot bind {args.host}:{args.port}: {err}")
        return 2
    # The URL line is what scripts wait for; flush it at once.
    console.print(f"serving {args.env_id} on {server.url} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
