"""Serve an env over HTTP with AgentGym's endpoints (/create, /reset, /step,
/observation, /available_actions, /detail, /close), so external LLM-agent frameworks
can use any agentgym env. Several instances per server, each numbered by /create. The
env's AgentGym family (BabyAI, ALFWorld, WebShop, tool) answers in its own wire format
under /babyai, /alfworld, /webshop or /tool.

Example: agentgym serve agentgym/Household-v0 --port 8000
See docs/server.md for the exact API.
"""

from __future__ import annotations

import argparse

HELP = "serve an env over HTTP with AgentGym's env-server API"


def port_number(text: str) -> int:
    """argparse type of --port: an integer in 0..65535 (0 picks a free port)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in 0..65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be in 0..65535 (0 picks a free port), got {port}")
    return port


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env_id", help="e.g. agentgym/Household-v0")
    parser.add_argument(
        "--port",
        type=port_number,
        default=8000,
        help="port, 0..65535 (default 8000; 0 picks a free one)",
    )
    parser.add_argument(
        "--protocol",
        default="generic",
        help="the wire format at / : generic (default), or the AgentGym family of the env "
        "(babyai, alfworld, webshop, tool); the family's format is also always served "
        "under /<family>/ (see docs/server.md)",
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
        server = make_server(args.env_id, args.host, args.port, args.max_instances, args.protocol)
    except (gym.error.Error, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    except OSError as err:
        console.print(f"[red]error:[/red] cannot bind {args.host}:{args.port}: {err}")
        return 2
    # The URL line is what scripts wait for; flush it at once.
    console.print(f"serving {args.env_id} on {server.url} (Ctrl-C stops)", soft_wrap=True)
    for family in server.families:
        console.print(f"AgentGym's {family} clients: {server.url}/{family}", soft_wrap=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the server: a normal stop
    finally:
        server.server_close()
    return 0
